// End-to-end tests of the proxy hooks over gRPC (issue 9): a real @grpc/grpc-js backend
// implementing Centrifugo's CentrifugoProxy service (gyre's src/proxy/proxy.proto) decides on
// connect (by cookie, without a JWT), subscribe, publish (rewriting the data), RPC and refresh,
// and gyre applies its answers to real centrifuge-js clients (JSON and Protobuf). Forwarded
// headers, static metadata and credentials arrive as gRPC metadata; a backend that is down or
// slower than the proxy timeout gives the client error 100 without slowing anyone else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, eventually, startApiServer, userToken } from './lib/api.mjs';
import { sleep } from './lib/backend.mjs';
import { WebSocket, client, decode, encode, once } from './lib/clients.mjs';
import { json, parseBytes, startGrpcBackend } from './lib/grpc_backend.mjs';
import { now } from './lib/tokens.mjs';

/** A `ws` WebSocket sending a session cookie with the upgrade request, as a browser would. */
const withCookie = (cookie) => class extends WebSocket {
  constructor(url, protocols) { super(url, protocols, { headers: { cookie } }); }
};

const proxyNs = { name: 'px', subscribe_proxy_enabled: true, publish_proxy_enabled: true, sub_refresh_proxy_enabled: true };

/** Gyre with every proxy pointing at the gRPC backend (as proxy.test.mjs's proxiedServer). */
async function proxiedServer(t, backend, { client: clientExtra = {}, timeout = '1s', grpc, ...overrides } = {}) {
  const proxy = () => ({
    endpoint: backend.endpoint, timeout, http_headers: ['cookie', 'x-tenant'], ...(grpc ? { grpc } : {}),
  });
  return startApiServer(t, {
    client: {
      proxy: { connect: { enabled: true, ...proxy() } },
      ...clientExtra,
    },
    channel: {
      proxy: { subscribe: proxy(), publish: proxy(), sub_refresh: proxy() },
      without_namespace: { allow_subscribe_for_client: true },
      namespaces: [proxyNs],
    },
    rpc: { proxy: proxy(), without_namespace: { proxy_enabled: true } },
    ...overrides,
  });
}

/** The user from the forwarded cookie `session=<user>` (gRPC metadata, lower-case key). */
const cookieUser = (md) => /session=(\w+)/.exec(String(md.cookie || ''))?.[1];

function standardBackend(t) {
  return startGrpcBackend(t, {
    Connect: (req, md) => {
      const user = cookieUser(md);
      if (!user) return { disconnect: { code: 4501, reason: 'unauthorized' } };
      return { result: { user, data: json({ welcome: user }), info: json({ plan: 'pro' }), meta: json({ tenant: 7 }) } };
    },
    Subscribe: (req) => (req.channel === 'px:denied'
      ? { error: { code: 403, message: 'not for you' } }
      : { result: { info: json({ role: 'reader' }), data: json({ joined: req.channel }) } }),
    Publish: (req) => ({ result: { data: json({ rewritten: true, original: parseBytes(req.data) }) } }),
    RPC: (req) => (req.method === 'sum'
      ? { result: { data: json({ sum: parseBytes(req.data).a + parseBytes(req.data).b }) } }
      : { error: { code: 404, message: 'no such method' } }),
  });
}

describe('proxy over gRPC', () => {
  test('connect by cookie without a JWT: the cookie arrives as metadata, result data reaches the client', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port, { websocket: withCookie('session=alice; other=1') });
    const connected = once(c, 'connected');
    c.connect();
    const ctx = await connected;
    assert.deepEqual(ctx.data, { welcome: 'alice' });
    const [call] = backend.of('Connect');
    assert.equal(call.metadata.cookie, 'session=alice; other=1', 'cookie forwarded as metadata (http_headers)');
    assert.equal(call.metadata['x-tenant'], undefined, 'a header the client did not send is not invented');
    assert.equal(call.request.client, ctx.client);
    assert.equal(call.request.transport, 'websocket');
    assert.equal(call.request.protocol, 'json');
    assert.equal(call.request.encoding, 'json');
    assert.equal(call.request.name, 'js', 'the SDK\'s name is passed on');
    assert.equal(call.request.data, undefined, 'the client sent no connect data');
    // The user is the backend's, and the connection's headers go with its later calls too.
    const s = c.newSubscription('px:hello');
    s.subscribe();
    await s.ready(5000);
    const [sub] = backend.of('Subscribe');
    assert.equal(sub.request.user, 'alice');
    assert.equal(sub.metadata.cookie, 'session=alice; other=1');
    assert.deepEqual(parseBytes(sub.request.meta), undefined, 'meta is sent only with include_connection_meta');
    const r = await api(port, 'info', {});
    assert.equal(r.json.result.nodes[0].num_users, 1);
  });

  test('connect refused with a disconnect answer (4501) ends the client with 4501', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port); // no cookie
    const disconnected = once(c, 'disconnected');
    c.connect();
    const d = await disconnected;
    assert.equal(d.code, 4501);
    assert.equal(d.reason, 'unauthorized');
    assert.equal(c.state, 'disconnected');
    assert.equal(backend.of('Connect').length, 1);
    assert.equal(backend.of('Connect')[0].metadata.cookie, undefined);
  });

  test('subscribe allowed with data, denied with error 403', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port, { websocket: withCookie('session=carol') });
    c.connect();
    const ok = c.newSubscription('px:news');
    const subscribed = once(ok, 'subscribed');
    ok.subscribe();
    assert.deepEqual((await subscribed).data, { joined: 'px:news' });
    const sub = backend.of('Subscribe').find((x) => x.request.channel === 'px:news');
    assert.equal(sub.request.user, 'carol');
    assert.equal(sub.metadata.cookie, 'session=carol');
    const denied = c.newSubscription('px:denied');
    const refused = once(denied, 'unsubscribed'); // a permanent error ends the subscription
    denied.subscribe();
    const e = await refused;
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'not for you');
    assert.equal(denied.state, 'unsubscribed');
    assert.equal(ok.state, 'subscribed', 'the allowed subscription is unaffected');
    assert.equal(backend.of('Subscribe').length, 2);
  });

  test('publish: the backend rewrites the data (JSON and Protobuf clients)', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const reader = client(t, port, { token: userToken('reader') });
    reader.connect();
    const rs = reader.newSubscription('px:room');
    const pubs = [];
    rs.on('publication', (ctx) => pubs.push(ctx.data));
    rs.subscribe();
    await rs.ready(5000);
    for (const protobuf of [false, true]) {
      const w = client(t, port, { protobuf, websocket: withCookie('session=dave') });
      w.connect();
      await once(w, 'connected');
      const sent = { n: protobuf ? 2 : 1 };
      await w.publish('px:room', protobuf ? encode(sent) : sent);
    }
    await eventually(() => pubs.length === 2, { what: 'two rewritten publications' });
    assert.deepEqual(pubs.map(decode), [
      { rewritten: true, original: { n: 1 } },
      { rewritten: true, original: { n: 2 } },
    ]);
    const calls = backend.of('Publish');
    assert.deepEqual(calls.map((c) => c.request.protocol), ['json', 'protobuf']);
    assert.deepEqual(calls.map((c) => [c.request.user, c.request.channel]), [['dave', 'px:room'], ['dave', 'px:room']]);
    for (const c of calls) {
      assert.ok(Buffer.isBuffer(c.request.data), 'bytes field data is a Buffer');
      assert.equal(c.request.b64data, undefined, 'raw bytes, not base64, without binary_encoding');
    }
  });

  test('rpc round trip; a backend error passes through', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port, { websocket: withCookie('session=erin') });
    c.connect();
    await once(c, 'connected');
    assert.deepEqual((await c.rpc('sum', { a: 2, b: 3 })).data, { sum: 5 });
    await assert.rejects(c.rpc('nope', {}), (e) => e.code === 404 && e.message === 'no such method');
    const [call] = backend.of('RPC');
    assert.deepEqual([call.request.method, call.request.user, parseBytes(call.request.data)], ['sum', 'erin', { a: 2, b: 3 }]);
    assert.equal(call.metadata.cookie, 'session=erin');
  });

  test('credentials_key/value and static_metadata arrive as metadata', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend, {
      grpc: {
        credentials_key: 'authorization',
        credentials_value: 'Bearer s3cret',
        static_metadata: { 'x-static': 'yes', 'x-region': 'eu-1' },
      },
    });
    const c = client(t, port, { websocket: withCookie('session=fred') });
    c.connect();
    await once(c, 'connected');
    assert.deepEqual((await c.rpc('sum', { a: 1, b: 1 })).data, { sum: 2 });
    for (const method of ['Connect', 'RPC']) {
      const [call] = backend.of(method);
      assert.ok(call, `${method} called`);
      assert.equal(call.metadata.authorization, 'Bearer s3cret', `${method}: credentials`);
      assert.equal(call.metadata['x-static'], 'yes', `${method}: static metadata`);
      assert.equal(call.metadata['x-region'], 'eu-1', `${method}: static metadata`);
      assert.equal(call.metadata.cookie, 'session=fred', `${method}: forwarded header`);
    }
  });

  test('backend too slow (past timeout) or down: error 100, and other clients are answered meanwhile', async (t) => {
    const backend = await standardBackend(t);
    let releaseSlow;
    const slowHeld = new Promise((r) => { releaseSlow = r; });
    t.after(() => releaseSlow());
    backend.set('Publish', async (req) => {
      if (req.channel === 'px:slow') await Promise.race([slowHeld, sleep(3000)]); // past the 300ms timeout
      return { result: {} };
    });
    const { port } = await proxiedServer(t, backend, { timeout: '300ms' });
    const c = client(t, port, { websocket: withCookie('session=hal') });
    c.connect();
    await once(c, 'connected');
    const other = client(t, port, { token: userToken('other') });
    other.connect();
    await once(other, 'connected');
    const order = [];
    const slow = c.publish('px:slow', { x: 1 }).then(() => null, (e) => e).finally(() => order.push('slow'));
    await eventually(() => backend.of('Publish').some((x) => x.request.channel === 'px:slow'), { what: 'the slow publish to reach the backend' });
    // Meanwhile another connection's proxied publish goes through, before the slow one ends.
    await other.publish('px:fast', { y: 1 });
    order.push('fast');
    const e = await slow;
    assert.equal(e?.code, 100, JSON.stringify(e));
    assert.deepEqual(order, ['fast', 'slow'], 'the other client was not held behind the slow backend call');
    releaseSlow();
    // The same client goes on working after the timeout.
    assert.deepEqual((await c.rpc('sum', { a: 1, b: 2 })).data, { sum: 3 });
    // A gRPC status error from the backend: 100 as well.
    backend.set('RPC', () => ({ grpcStatus: 13, details: 'boom' }));
    await assert.rejects(c.rpc('x', {}), (err) => err.code === 100);
    // The backend goes away entirely.
    backend.stop();
    await assert.rejects(c.rpc('sum', { a: 1, b: 1 }), (err) => err.code === 100);
    const otherRpc = other.rpc('sum', { a: 1, b: 1 }).then(() => null, (err) => err);
    // A call that needs no backend is answered while proxied ones fail.
    const plain = other.newSubscription('plain');
    plain.subscribe();
    await plain.ready(5000);
    assert.equal((await otherRpc)?.code, 100);
    const health = await api(port, 'info', {});
    assert.equal(health.status, 200);
  });

  test('refresh over gRPC extends an expiring connection, then ends it', async (t) => {
    const backend = await standardBackend(t);
    backend.set('Connect', (req, md) => ({ result: { user: cookieUser(md), expire_at: now() + 2 } }));
    let extend = true;
    backend.set('Refresh', () => (extend ? { result: { expire_at: now() + 2 } } : { result: { expired: true } }));
    const proxy = { endpoint: backend.endpoint, timeout: '1s' };
    const { port } = await proxiedServer(t, backend, {
      client: { proxy: {
        connect: { enabled: true, ...proxy, http_headers: ['cookie'] },
        refresh: { enabled: true, ...proxy },
      } },
    });
    const c = client(t, port, { websocket: withCookie('session=fay') });
    const reconnects = [];
    c.on('connecting', (x) => reconnects.push(x));
    c.connect();
    const ctx = await once(c, 'connected');
    assert.equal(ctx.expires, undefined, 'server-side refresh: the client is not told to refresh');
    await eventually(() => backend.of('Refresh').length >= 2, { timeoutMs: 10000, what: 'two refresh calls' });
    assert.equal(c.state, 'connected');
    const [first] = backend.of('Refresh');
    assert.deepEqual([first.request.user, first.request.client], ['fay', ctx.client]);
    assert.equal(first.request.transport, 'websocket');
    assert.equal(reconnects.length, 1, 'the connection stayed up while the backend extended it'); // the initial connect
    extend = false;
    // Expired: the connection ends with 3005 (connection expired), and the SDK reconnects.
    await eventually(() => reconnects.some((x) => x.code === 3005),
      { timeoutMs: 10000, what: `a 3005 disconnect once the backend says expired (${JSON.stringify(reconnects)})` });
  });

  test('sub_refresh over gRPC keeps an expiring subscription alive', async (t) => {
    const backend = await standardBackend(t);
    backend.set('Subscribe', () => ({ result: { expire_at: now() + 1 } }));
    backend.set('SubRefresh', () => ({ result: { expire_at: now() + 1 } }));
    // Centrifugo refreshes through the backend once expire_at + expired_sub_close_delay passes.
    const { port } = await proxiedServer(t, backend, { client: { expired_sub_close_delay: '1s' } });
    const c = client(t, port, { websocket: withCookie('session=gus') });
    c.connect();
    const s = c.newSubscription('px:ticker');
    s.subscribe();
    await s.ready(5000);
    await eventually(() => backend.of('SubRefresh').length >= 2, { timeoutMs: 12000, what: 'two SubRefresh calls' });
    assert.equal(s.state, 'subscribed');
    const [first] = backend.of('SubRefresh');
    assert.deepEqual([first.request.channel, first.request.user], ['px:ticker', 'gus']);
    assert.equal(backend.of('Subscribe').length, 1, 'no resubscribe while the backend extends');
  });
});
