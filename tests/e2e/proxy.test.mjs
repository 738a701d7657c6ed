// End-to-end tests of the proxy hooks over HTTP (issue 9): a real Node backend decides on
// connect (by cookie, without a JWT), subscribe, publish (rewriting the data), RPC, refresh and
// sub_refresh, and gyre applies its answers to real centrifuge-js clients (JSON and Protobuf).
// Backend outages and timeouts give the client Centrifugo's error 100 while the node stays
// healthy for everyone else.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, eventually, startApiServer, userToken } from './lib/api.mjs';
import { startBackend, sleep } from './lib/backend.mjs';
import { WebSocket, client, decode, encode, once } from './lib/clients.mjs';
import { now } from './lib/tokens.mjs';
import { emulationClient, openStream } from './lib/transports.mjs';

/** A `ws` WebSocket sending a session cookie with the upgrade request, as a browser would. */
const withCookie = (cookie) => class extends WebSocket {
  constructor(url, protocols) { super(url, protocols, { headers: { cookie } }); }
};

const proxyNs = { name: 'px', subscribe_proxy_enabled: true, publish_proxy_enabled: true, sub_refresh_proxy_enabled: true };

async function proxiedServer(t, backend, { client: clientExtra = {}, timeout = '1s', ...overrides } = {}) {
  const proxy = (event) => ({ endpoint: backend.url(event), timeout, http_headers: ['cookie', 'x-tenant'] });
  return startApiServer(t, {
    client: {
      proxy: { connect: { enabled: true, ...proxy('connect') } },
      ...clientExtra,
    },
    channel: {
      proxy: { subscribe: proxy('subscribe'), publish: proxy('publish'), sub_refresh: proxy('sub_refresh') },
      without_namespace: { allow_subscribe_for_client: true },
      namespaces: [proxyNs],
    },
    rpc: { proxy: proxy('rpc'), without_namespace: { proxy_enabled: true } },
    ...overrides,
  });
}

/** The backend's usual answers: users come from the cookie `session=<user>`. */
const cookieUser = (req) => /session=(\w+)/.exec(req.headers.cookie || '')?.[1];

function standardBackend(t) {
  return startBackend(t, {
    connect: (body, req) => {
      const user = cookieUser(req);
      if (!user) return { disconnect: { code: 4501, reason: 'unauthorized' } };
      return { result: { user, data: { welcome: user }, info: { plan: 'pro' }, meta: { tenant: 7 } } };
    },
    subscribe: (body) => (body.channel === 'px:denied'
      ? { error: { code: 403, message: 'not for you' } }
      : { result: { info: { role: 'reader' }, data: { joined: body.channel } } }),
    publish: (body) => ({ result: { data: { rewritten: true, original: body.data } } }),
    rpc: (body) => (body.method === 'sum'
      ? { result: { data: { sum: body.data.a + body.data.b } } }
      : { error: { code: 404, message: 'no such method' } }),
  });
}

describe('proxy over HTTP', () => {
  test('connect by cookie without a JWT: user, data, info and forwarded headers', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port, { websocket: withCookie('session=alice; other=1') });
    const connected = once(c, 'connected');
    c.connect();
    const ctx = await connected;
    assert.deepEqual(ctx.data, { welcome: 'alice' });
    const [call] = backend.of('connect');
    assert.equal(call.headers.cookie, 'session=alice; other=1', 'cookie forwarded (http_headers)');
    assert.equal(call.headers['content-type'], 'application/json');
    assert.equal(call.body.client, ctx.client);
    assert.equal(call.body.transport, 'websocket');
    assert.equal(call.body.protocol, 'json');
    assert.equal(call.body.encoding, 'json');
    assert.equal(call.body.user, undefined, 'connect requests carry no user');
    // The user is the backend's: presence shows it with the connection info.
    const s = c.newSubscription('plain');
    s.subscribe();
    await s.ready(5000);
    const r = await api(port, 'info', {});
    assert.equal(r.json.result.nodes[0].num_users, 1);
  });

  test('unidirectional and emulated clients are authenticated by the same connect proxy', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend, { uni_http_stream: { enabled: true }, http_stream: { enabled: true } });
    const stream = (cookie) => openStream(t, `http://127.0.0.1:${port}/connection/uni_http_stream`,
      { body: '{}', headers: cookie ? { cookie } : {} });
    const ok = await stream('session=uma');
    const first = await ok.stream.next((m) => m.connect || m.disconnect, 'connect push');
    assert.deepEqual(first.connect?.data, { welcome: 'uma' });
    assert.equal(backend.of('connect').at(-1).body.transport, 'uni_http_stream');
    const refused = await stream(null);
    const d = await refused.stream.next((m) => m.disconnect, 'disconnect push');
    assert.deepEqual(d.disconnect, { code: 4501, reason: 'unauthorized' });
    // HTTP-streaming emulation: the cookie of the stream request is what the backend sees.
    const c = emulationClient(t, port, { transports: ['http_stream'], headers: {} , fetch: (url, init) =>
      globalThis.fetch(url, { ...init, headers: { ...(init?.headers || {}), cookie: 'session=vic' } }) });
    const connected = once(c, 'connected');
    c.connect();
    assert.deepEqual((await connected).data, { welcome: 'vic' });
    assert.equal(backend.of('connect').at(-1).body.transport, 'http_stream');
  });

  test('connect refused with a custom disconnect; backend error codes pass through', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port); // no cookie
    const disconnected = once(c, 'disconnected');
    c.connect();
    const d = await disconnected;
    assert.equal(d.code, 4501);
    assert.equal(d.reason, 'unauthorized');
    backend.set('connect', () => ({ error: { code: 1001, message: 'banned', temporary: false } }));
    const c2 = client(t, port, { websocket: withCookie('session=bob') });
    // A permanent error on connect: the SDK stops with the backend's code and message.
    const stopped = once(c2, 'disconnected');
    c2.connect();
    const d2 = await stopped;
    assert.deepEqual([d2.code, d2.reason], [1001, 'banned']);
  });

  test('subscribe allowed (info, data) and denied (error) by the backend', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port, { websocket: withCookie('session=carol') });
    c.connect();
    const ok = c.newSubscription('px:news');
    const subscribed = once(ok, 'subscribed');
    ok.subscribe();
    assert.deepEqual((await subscribed).data, { joined: 'px:news' });
    const sub = backend.of('subscribe').find((x) => x.body.channel === 'px:news');
    assert.equal(sub.body.user, 'carol');
    assert.equal(sub.headers.cookie, 'session=carol', 'the connection\'s headers are forwarded on later calls too');
    const denied = c.newSubscription('px:denied');
    const refused = once(denied, 'unsubscribed'); // a permanent error ends the subscription
    denied.subscribe();
    const e = await refused;
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'not for you');
    // The backend decides alone: a channel the namespace would refuse is still allowed.
    assert.equal(backend.of('subscribe').length, 2);
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
    const calls = backend.of('publish');
    assert.deepEqual(calls.map((c) => c.body.protocol), ['json', 'protobuf']);
  });

  test('rpc round trip; backend error; a namespace without proxy is 104', async (t) => {
    const backend = await standardBackend(t);
    const { port } = await proxiedServer(t, backend, {
      rpc: { proxy: { endpoint: backend.url('rpc'), timeout: '1s' }, without_namespace: { proxy_enabled: true }, namespaces: [{ name: 'off', proxy_enabled: false }] },
    });
    const c = client(t, port, { websocket: withCookie('session=erin') });
    c.connect();
    await once(c, 'connected');
    assert.deepEqual((await c.rpc('sum', { a: 2, b: 3 })).data, { sum: 5 });
    await assert.rejects(c.rpc('nope', {}), (e) => e.code === 404 && e.message === 'no such method');
    await assert.rejects(c.rpc('unknown:x', {}), (e) => e.code === 104);
    await assert.rejects(c.rpc('off:x', {}), (e) => e.code === 108);
    const [call] = backend.of('rpc');
    assert.deepEqual([call.body.method, call.body.user, call.body.data], ['sum', 'erin', { a: 2, b: 3 }]);
  });

  test('refresh: the backend extends an expiring connection, then ends it', async (t) => {
    const backend = await standardBackend(t);
    backend.set('connect', (b, req) => ({ result: { user: cookieUser(req), expire_at: now() + 2 } }));
    let extend = true;
    backend.set('refresh', () => (extend ? { result: { expire_at: now() + 2 } } : { result: { expired: true } }));
    const { port } = await proxiedServer(t, backend, {
      client: { proxy: {
        connect: { enabled: true, endpoint: backend.url('connect'), timeout: '1s', http_headers: ['cookie'] },
        refresh: { enabled: true, endpoint: backend.url('refresh'), timeout: '1s' },
      } },
    });
    const c = client(t, port, { websocket: withCookie('session=fay') });
    const disconnects = [];
    c.on('disconnected', (ctx) => disconnects.push(ctx));
    c.connect();
    const ctx = await once(c, 'connected');
    assert.equal(ctx.expires, undefined, 'server-side refresh: the client is not told to refresh');
    await eventually(() => backend.of('refresh').length >= 2, { timeoutMs: 10000, what: 'two refresh calls' });
    assert.equal(c.state, 'connected');
    assert.equal(backend.of('refresh')[0].body.user, 'fay');
    extend = false;
    await eventually(() => disconnects.length > 0 || c.state !== 'connected',
      { timeoutMs: 10000, what: 'the connection to end once the backend says expired' });
    const codes = [];
    c.on('connecting', (x) => codes.push(x.code));
    // 3005 connection expired makes the SDK reconnect; the backend has already been asked.
    await eventually(() => backend.of('refresh').some((x) => x.body.client === ctx.client), { what: 'refresh of that client' });
  });

  test('sub_refresh keeps an expiring subscription alive while the backend agrees', async (t) => {
    const backend = await standardBackend(t);
    backend.set('subscribe', () => ({ result: { expire_at: now() + 1 } }));
    let keep = true;
    backend.set('sub_refresh', () => (keep ? { result: { expire_at: now() + 1 } } : { result: { expired: true } }));
    const { port } = await proxiedServer(t, backend, { client: { expired_sub_close_delay: '1s' } });
    const c = client(t, port, { websocket: withCookie('session=gus') });
    c.connect();
    const s = c.newSubscription('px:ticker');
    const unsubscribed = [];
    s.on('unsubscribed', (ctx) => unsubscribed.push(ctx));
    s.subscribe();
    await s.ready(5000);
    await eventually(() => backend.of('sub_refresh').length >= 2, { timeoutMs: 12000, what: 'two sub_refresh calls' });
    assert.equal(s.state, 'subscribed');
    assert.equal(backend.of('sub_refresh')[0].body.channel, 'px:ticker');
    keep = false;
    // Expired: unsubscribe 2501, which makes the SDK subscribe again (through the proxy).
    const before = backend.of('subscribe').length;
    await eventually(() => backend.of('subscribe').length > before, { timeoutMs: 12000, what: 'a resubscribe after 2501' });
  });

  test('backend down or too slow: error 100, and other clients are not slowed', async (t) => {
    const backend = await standardBackend(t);
    backend.set('publish', async (body) => {
      if (body.channel === 'px:slow') await sleep(1500); // past the 300ms timeout
      return { result: {} };
    });
    const { port } = await proxiedServer(t, backend, { timeout: '300ms' });
    const c = client(t, port, { websocket: withCookie('session=hal') });
    c.connect();
    await once(c, 'connected');
    const other = client(t, port, { token: userToken('other') });
    other.connect();
    await once(other, 'connected');
    const started = Date.now();
    const slow = c.publish('px:slow', { x: 1 }).then(() => null, (e) => e);
    // Meanwhile another connection's proxied publish goes through at once.
    await other.publish('px:fast', { y: 1 });
    const fastMs = Date.now() - started;
    const e = await slow;
    assert.equal(e?.code, 100, JSON.stringify(e));
    assert.ok(fastMs < 1500, `the other client waited ${fastMs} ms behind a slow backend call`);
    // Garbage and a 500 from the backend: 100 as well.
    backend.set('rpc', () => ({ raw: 'not json' }));
    await assert.rejects(c.rpc('x', {}), (err) => err.code === 100);
    backend.set('rpc', () => ({ status: 500 }));
    await assert.rejects(c.rpc('x', {}), (err) => err.code === 100);
    // The backend goes away entirely.
    await backend.close();
    await assert.rejects(c.rpc('x', {}), (err) => err.code === 100);
    const health = await api(port, 'info', {});
    assert.equal(health.status, 200);
  });

  test('an answer for a command that ended without it is not handed to the next one', async (t) => {
    // A subscribe waits for the backend; meanwhile the server API subscribes the client to the
    // same channel, so the subscribe ends with 105 without using the answer. The next proxied
    // command (a publish) must get its own answer.
    const backend = await standardBackend(t);
    let release;
    const held = new Promise((r) => { release = r; });
    backend.set('subscribe', async () => { await held; return { result: {} }; });
    const { port } = await proxiedServer(t, backend);
    const c = client(t, port, { websocket: withCookie('session=jo') });
    c.connect();
    const ctx = await once(c, 'connected');
    const s = c.newSubscription('px:race');
    const errors = [];
    s.on('error', (e) => errors.push(e.error));
    s.on('unsubscribed', (e) => errors.push(e));
    s.subscribe();
    await eventually(() => backend.of('subscribe').length === 1, { what: 'the subscribe to reach the backend' });
    const r = await api(port, 'subscribe', { user: 'jo', client: ctx.client, channel: 'px:race' });
    assert.equal(r.status, 200, r.text);
    release();
    await eventually(() => errors.length > 0, { what: 'the parked subscribe to end' });
    await c.publish('px:other', { after: true });
    assert.deepEqual(backend.of('publish').at(-1).body.data, { after: true });
    assert.equal((await api(port, 'info', {})).status, 200, 'the node is still up');
  });

  test('status_to_code_transforms and static headers', async (t) => {
    const backend = await startBackend(t, {
      connect: () => ({ status: 403 }),
      rpc: () => ({ status: 429 }),
    });
    const { port } = await startApiServer(t, {
      client: { proxy: { connect: { enabled: true, endpoint: backend.url('connect'), timeout: '1s',
        http: { static_headers: { 'x-gyre': 'yes' }, status_to_code_transforms: [{ status_code: 403, to_disconnect: { code: 4503, reason: 'forbidden' } }] } } } },
      rpc: { proxy: { endpoint: backend.url('rpc'), timeout: '1s',
        http: { status_to_code_transforms: [{ status_code: 429, to_error: { code: 429, message: 'slow down', temporary: true } }] } },
      without_namespace: { proxy_enabled: true } },
    });
    const c = client(t, port);
    const d = once(c, 'disconnected');
    c.connect();
    assert.equal((await d).code, 4503);
    assert.equal(backend.of('connect')[0].headers['x-gyre'], 'yes');
    const ok = client(t, port, { token: userToken('ivy') });
    ok.connect();
    await once(ok, 'connected');
    await assert.rejects(ok.rpc('x', {}), (e) => e.code === 429 && e.message === 'slow down');
  });

  test('a proxy name that does not exist stops start-up with a message naming the key', async (t) => {
    const { runGyre, tempDir, writeJson } = await import('./lib/gyre.mjs');
    const path = await import('node:path');
    const dir = tempDir(t);
    const file = writeJson(path.join(dir, 'c.json'), {
      channel: { namespaces: [{ name: 'aa', subscribe_proxy_enabled: true, subscribe_proxy_name: 'nope' }] },
    });
    const r = runGyre(['-c', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /channel\.namespaces\[0\]\.subscribe_proxy_name: proxy "nope" not found/);
  });
});
