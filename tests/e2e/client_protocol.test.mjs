// End-to-end tests of client protocol v2 over WebSocket (issue 3), driven by the real
// centrifuge-js SDK (JSON and Protobuf builds) and raw WebSocket peers for bad input.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { client, decode, encode, once, rawPeer } from './lib/clients.mjs';
import { freePort, startGyre, tempDir, waitFor, writeJson } from './lib/gyre.mjs';
import { ecKeys, now, pem, rsaKeys, sign } from './lib/tokens.mjs';

const SECRET = 'e2e-hmac-secret';
const rsa = rsaKeys();
const ec = ecKeys('P-256');
const hs = (claims) => sign(claims, { alg: 'HS256', key: SECRET });
const token = (user, extra = {}) => hs({ sub: user, exp: now() + 3600, ...extra });

const channelDefaults = {
  allow_subscribe_for_client: true, allow_publish_for_subscriber: true,
  presence: true, allow_presence_for_subscriber: true,
};

async function startServer(t, overrides = {}) {
  const dir = tempDir(t);
  const port = await freePort();
  const cfg = {
    http_server: { port },
    client: {
      token: { hmac_secret_key: SECRET, rsa_public_key: pem(rsa.publicKey), ecdsa_public_key: pem(ec.publicKey) },
      allowed_origins: ['http://allowed.example'],
      ...(overrides.client || {}),
    },
    channel: {
      without_namespace: channelDefaults,
      namespaces: [
        { name: 'chat', ...channelDefaults, join_leave: true, force_push_join_leave: true },
        { name: 'locked' },
        { name: 'private', presence: true, allow_presence_for_subscriber: true },
        { name: 'users', allow_user_limited_channels: true, presence: true },
      ],
    },
  };
  const file = writeJson(path.join(dir, 'config.json'), cfg);
  const server = await startGyre(t, { args: ['-c', file] });
  return { port, server };
}

for (const protobuf of [false, true]) {
  const kind = protobuf ? 'protobuf' : 'json';

  describe(`centrifuge-js ${kind}`, () => {
    let port;
    const cleanups = [];
    const scope = { after: (fn) => cleanups.push(fn) }; // suite-wide server, stopped at the end
    before(async () => { ({ port } = await startServer(scope)); });
    after(async () => { for (const fn of cleanups.reverse()) await fn(); });

    test(`${kind}: connect with HS256, RS256 and ES256 tokens`, async (t) => {
      for (const [alg, key] of [['HS256', SECRET], ['RS256', rsa.privateKey], ['ES256', ec.privateKey]]) {
        const c = client(t, port, { protobuf, token: sign({ sub: `u-${alg}`, exp: now() + 60 }, { alg, key }) });
        const connected = once(c, 'connected');
        c.connect();
        const ctx = await connected;
        assert.match(ctx.client, /^[0-9a-f-]{36}$/, alg);
        c.disconnect();
      }
    });

    test(`${kind}: a bad token disconnects with 3500 and no reconnect`, async (t) => {
      const forged = sign({ sub: 'mallory', exp: now() + 60 }, { alg: 'HS256', key: 'wrong-secret' });
      const c = client(t, port, { protobuf, token: forged });
      const disconnected = once(c, 'disconnected');
      c.connect();
      const ctx = await disconnected;
      assert.equal(ctx.code, 3500);
      assert.equal(ctx.reason, 'invalid token');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(c.state, 'disconnected', 'terminal code: no reconnect');
    });

    test(`${kind}: subscribe allowed, denied (103), unknown namespace (102)`, async (t) => {
      const c = client(t, port, { protobuf, token: token('alice') });
      c.connect();
      await c.ready(5000);
      const ok = c.newSubscription('news');
      ok.subscribe();
      await ok.ready(5000);
      for (const [ch, code] of [['locked:room', 103], ['nope:room', 102], ['private:x', 103], ['users:x#bob', 103]]) {
        const s = c.newSubscription(ch);
        const refused = once(s, 'unsubscribed'); // non-temporary subscribe errors end here
        s.subscribe();
        const ctx = await refused;
        assert.equal(ctx.code, code, ch);
      }
      const mine = c.newSubscription('users:inbox#alice,bob');
      mine.subscribe();
      await mine.ready(5000);
      assert.equal(c.state, 'connected');
    });

    test(`${kind}: subscription tokens grant private channels`, async (t) => {
      const c = client(t, port, { protobuf, token: token('alice') });
      c.connect();
      const info = { role: 'reader', n: 1.5 };
      const s = c.newSubscription('$private:doc', {
        getToken: async ({ channel }) => hs({ sub: 'alice', channel, exp: now() + 60, info }),
      });
      s.subscribe();
      await s.ready(5000);
      const p = await s.presence();
      const entry = Object.values(p.clients)[0];
      assert.equal(entry.user, 'alice');
      assert.deepEqual(protobuf ? decode(entry.chanInfo) : entry.chanInfo, info);
      const wrong = c.newSubscription('$private:other', { token: hs({ sub: 'alice', exp: now() + 60 }) });
      const refused = once(wrong, 'unsubscribed');
      wrong.subscribe();
      assert.equal((await refused).code, 103, 'token without channel claim');
      const noToken = c.newSubscription('$private:third');
      const refused2 = once(noToken, 'unsubscribed');
      noToken.subscribe();
      assert.equal((await refused2).code, 103, 'private channel without token');
    });

    test(`${kind}: 100 publications arrive in order at two subscribers`, async (t) => {
      const ch = `order-${kind}`;
      const subs = [];
      for (const pb of [false, true]) {
        const c = client(t, port, { protobuf: pb, token: token(`reader-${pb}`) });
        c.connect();
        const s = c.newSubscription(ch);
        const got = [];
        s.on('publication', (ctx) => got.push(decode(ctx.data).n));
        s.subscribe();
        await s.ready(5000);
        subs.push(got);
      }
      const pubClient = client(t, port, { protobuf, token: token('writer') });
      pubClient.connect();
      const ps = pubClient.newSubscription(ch);
      ps.subscribe();
      await ps.ready(5000);
      const pubs = [];
      for (let n = 0; n < 100; n++) pubs.push(ps.publish(protobuf ? encode({ n }) : { n }));
      await Promise.all(pubs);
      await waitFor(() => subs.every((g) => g.length === 100), { what: '100 publications at both subscribers' });
      for (const got of subs) assert.deepEqual(got, [...Array(100).keys()]);
    });

    test(`${kind}: publications carry the publisher info and exact payload`, async (t) => {
      const ch = `info-${kind}`;
      const reader = client(t, port, { protobuf, token: token('reader') });
      reader.connect();
      const rs = reader.newSubscription(ch);
      const pub = once(rs, 'publication');
      rs.subscribe();
      await rs.ready(5000);
      const writer = client(t, port, { protobuf, token: token('writer', { info: { name: 'W', score: 2.5 } }) });
      writer.connect();
      const ws = writer.newSubscription(ch);
      ws.subscribe();
      await ws.ready(5000);
      await ws.publish(protobuf ? encode({ text: 'hi' }) : { text: 'hi' });
      const ctx = await pub;
      assert.deepEqual(decode(ctx.data), { text: 'hi' });
      assert.equal(ctx.info.user, 'writer');
      assert.deepEqual(protobuf ? decode(ctx.info.connInfo) : ctx.info.connInfo, { name: 'W', score: 2.5 });
    });

    test(`${kind}: presence, presence_stats, join and leave`, async (t) => {
      const ch = `chat:room-${kind}`;
      const a = client(t, port, { protobuf, token: token('alice') });
      a.connect();
      const sa = a.newSubscription(ch);
      sa.subscribe();
      await sa.ready(5000);
      const joins = [];
      sa.on('join', (ctx) => joins.push(ctx.info.user));
      const b = client(t, port, { protobuf, token: token('bob') });
      b.connect();
      const sb = b.newSubscription(ch);
      sb.subscribe();
      await sb.ready(5000);
      await waitFor(() => joins.includes('bob'), { what: 'join push for bob' });
      await waitFor(async () => (await sa.presenceStats()).numClients === 2, { what: 'two clients in presence' });
      assert.deepEqual(await sa.presenceStats(), { numClients: 2, numUsers: 2 });
      const users = Object.values((await sa.presence()).clients).map((c) => c.user).sort();
      assert.deepEqual(users, ['alice', 'bob']);
      const left = once(sa, 'leave');
      sb.unsubscribe();
      assert.equal((await left).info.user, 'bob');
      await waitFor(async () => (await sa.presenceStats()).numClients === 1, { what: 'bob leaves presence' });
    });

    test(`${kind}: server-side subscriptions from the channels claim`, async (t) => {
      const ch = `server-side-${kind}`;
      const c = client(t, port, { protobuf, token: token('carol', { channels: [ch] }) });
      const subscribed = once(c, 'subscribed');
      const publication = once(c, 'publication');
      c.connect();
      assert.equal((await subscribed).channel, ch);
      const w = client(t, port, { protobuf, token: token('writer') });
      w.connect();
      const ws = w.newSubscription(ch);
      ws.subscribe();
      await ws.ready(5000);
      await ws.publish(protobuf ? encode({ hello: 1 }) : { hello: 1 });
      const ctx = await publication;
      assert.equal(ctx.channel, ch);
      assert.deepEqual(decode(ctx.data), { hello: 1 });

      // `subs` form: per-channel data in the connect reply, chan_info in presence.
      const ch2 = `server-side-subs-${kind}`;
      const d = client(t, port, {
        protobuf,
        token: token('dora', { subs: { [ch2]: { data: { welcome: true }, info: { seat: 7 } } } }),
      });
      const sub2 = once(d, 'subscribed');
      d.connect();
      const sctx = await sub2;
      assert.equal(sctx.channel, ch2);
      assert.deepEqual(decode(sctx.data), { welcome: true });
      const pres = await d.presence(ch2);
      assert.deepEqual(decode(Object.values(pres.clients)[0].chanInfo), { seat: 7 });
    });

    test(`${kind}: token refresh keeps the connection past expiry`, async (t) => {
      let refreshes = 0;
      const c = client(t, port, {
        protobuf,
        token: token('dave', { exp: now() + 2 }),
        getToken: async () => { refreshes += 1; return token('dave', { exp: now() + 60 }); },
      });
      c.connect();
      await c.ready(5000);
      await new Promise((r) => setTimeout(r, 3500));
      assert.ok(refreshes >= 1, 'getToken called for refresh');
      assert.equal(c.state, 'connected');
      const s = c.newSubscription(`after-refresh-${kind}`);
      s.subscribe();
      await s.ready(5000);
    });
  });
}

describe('liveness and limits', () => {
  test('ping/pong keeps an idle client connected; a silent peer gets 3012', async (t) => {
    const { port } = await startServer(t, { client: { ping_interval: '2s', pong_timeout: '1s' } });
    const c = client(t, port, { token: token('idle') });
    let drops = 0;
    c.on('disconnected', () => { drops += 1; });
    c.on('connecting', () => { drops += 1; });
    c.connect();
    await c.ready(5000);
    drops = 0;
    const silent = await rawPeer(t, port);
    silent.send({ id: 1, connect: { token: token('silent') } });
    await waitFor(() => silent.messages.length > 0, { what: 'connect reply' });
    assert.ok(silent.messages[0].connect.ping === 2 && silent.messages[0].connect.pong === true);
    const closed = await silent.waitClose(8000);
    assert.deepEqual(closed, { code: 3012, reason: 'no pong' });
    assert.equal(drops, 0);
    assert.equal(c.state, 'connected');
  });

  test('a slow reader is disconnected with 3008; others keep receiving', async (t) => {
    const { port } = await startServer(t, { client: { queue_max_size: 65536 } });
    const ch = 'firehose';
    const slow = await rawPeer(t, port);
    slow.send({ id: 1, connect: { token: token('slow') } });
    slow.send({ id: 2, subscribe: { channel: ch } });
    await waitFor(() => slow.messages.length >= 2, { what: 'slow peer subscribed' });
    slow.ws._socket.pause(); // stop reading: the server's writes back up
    const healthy = client(t, port, { token: token('healthy') });
    healthy.connect();
    const hs2 = healthy.newSubscription(ch);
    let received = 0;
    hs2.on('publication', () => { received += 1; });
    hs2.subscribe();
    await hs2.ready(5000);
    const big = { blob: 'x'.repeat(30000) };
    for (let i = 0; i < 300; i++) await hs2.publish(big);
    await waitFor(() => received === 300, { what: 'healthy client gets everything', timeoutMs: 20000 });
    slow.ws._socket.resume();
    const closed = await slow.waitClose(15000);
    assert.deepEqual(closed, { code: 3008, reason: 'slow' });
  });

  test('bad input closes only that connection with the right code', async (t) => {
    const { port, server } = await startServer(t);
    const bystander = client(t, port, { token: token('bystander') });
    bystander.connect();
    const bs = bystander.newSubscription('bystand');
    let pubs = 0;
    bs.on('publication', () => { pubs += 1; });
    bs.subscribe();
    await bs.ready(5000);

    const cases = [
      ['malformed JSON', (p) => p.send('{"id":1,"connect":'), 3501],
      ['command before connect', (p) => p.send({ id: 1, subscribe: { channel: 'x' } }), 3501],
      ['pong before connect', (p) => p.send({}), 3501],
      ['second connect', (p) => { p.send({ id: 1, connect: { token: token('x') } }); p.send({ id: 2, connect: { token: token('x') } }); }, 3501],
      ['id 0 on a non-send command', (p) => { p.send({ id: 1, connect: { token: token('x') } }); p.send({ subscribe: { channel: 'x' } }); }, 3501],
      ['ping command', (p) => { p.send({ id: 1, connect: { token: token('x') } }); p.send({ id: 2, ping: {} }); }, 3501],
      ['unsolicited pong', (p) => { p.send({ id: 1, connect: { token: token('x') } }); p.send({}); }, 3501],
      ['binary frame on JSON', (p) => p.ws.send(Buffer.from([1, 2, 3])), 3501],
      ['no credentials', (p) => p.send({ id: 1, connect: {} }), 3501],
      ['send without handler', (p) => { p.send({ id: 1, connect: { token: token('x') } }); p.send({ send: { data: {} } }); }, 3508],
      ['oversize frame', (p) => p.send(`{"id":1,"connect":{"data":"${'a'.repeat(70000)}"}}`), 1009],
    ];
    for (const [name, act, code] of cases) {
      const p = await rawPeer(t, port);
      act(p);
      const closed = await p.waitClose(5000);
      assert.equal(closed.code, code, name);
      if (code >= 3000) assert.ok(closed.reason.length > 0, `${name}: non-empty reason`);
    }
    const w = client(t, port, { token: token('writer') });
    w.connect();
    const ws = w.newSubscription('bystand');
    ws.subscribe();
    await ws.ready(5000);
    await ws.publish({ still: 'fine' });
    await waitFor(() => pubs === 1, { what: 'bystander still receives' });
    assert.equal(bystander.state, 'connected');
    assert.equal(server.exited, null);
  });

  test('limits and expiry: 106, 3504, 3005, 2501, personal channel', async (t) => {
    const { port } = await startServer(t, {
      client: {
        channel_limit: 2, user_connection_limit: 1, expired_close_delay: '1s', expired_sub_close_delay: '1s',
        subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'users' },
      },
    });
    const p = await rawPeer(t, port);
    p.send({ id: 1, connect: { token: token('limited') } });
    p.send({ id: 2, subscribe: { channel: 'a' } });
    p.send({ id: 3, subscribe: { channel: 'b' } });
    await waitFor(() => p.messages.length >= 3, { what: 'replies' });
    const connect = p.messages.find((m) => m.id === 1).connect;
    assert.deepEqual(Object.keys(connect.subs), ['users:#limited'], 'personal channel subscribed');
    assert.equal(p.messages.find((m) => m.id === 3).error.code, 106, 'channel limit (personal channel counts)');

    const second = await rawPeer(t, port);
    second.send({ id: 1, connect: { token: token('limited') } });
    assert.deepEqual(await second.waitClose(), { code: 3504, reason: 'connection limit' });

    const expiring = await rawPeer(t, port);
    expiring.send({ id: 1, connect: { token: token('short', { exp: now() + 1 }) } });
    await waitFor(() => expiring.messages.length >= 1, { what: 'connect reply' });
    assert.equal(expiring.messages[0].connect.expires, true);
    assert.deepEqual(await expiring.waitClose(8000), { code: 3005, reason: 'connection expired' });

    const subExpiring = await rawPeer(t, port);
    subExpiring.send({ id: 1, connect: { token: token('subuser') } });
    subExpiring.send({ id: 2, subscribe: { channel: '$private:x', token: hs({ sub: 'subuser', channel: '$private:x', exp: now() + 1 }) } });
    await waitFor(() => subExpiring.messages.some((m) => m.push?.unsubscribe), { what: 'unsubscribe push', timeoutMs: 8000 });
    const push = subExpiring.messages.find((m) => m.push?.unsubscribe).push;
    assert.equal(push.channel, '$private:x');
    assert.equal(push.unsubscribe.code, 2501);
    assert.equal(subExpiring.closed, null, 'client-side subscription expiry does not disconnect');
  });

  test('pushes are coalesced into frames, up to client.max_messages_in_frame', async (t) => {
    for (const [limit, check] of [
      [0, (frames) => frames.length < 50],
      [2, (frames) => frames.every((n) => n <= 2)],
    ]) {
      const { port } = await startServer(t, { client: { max_messages_in_frame: limit } });
      const reader = await rawPeer(t, port);
      reader.send(`${JSON.stringify({ id: 1, connect: { token: token('reader') } })}\n${JSON.stringify({ id: 2, subscribe: { channel: 'burst' } })}`);
      await waitFor(() => reader.messages.length === 2, { what: 'connect and subscribe replies' });
      assert.equal(reader.messages[0].id, 1, 'connect reply first');
      reader.frames.length = 0;
      const w = client(t, port, { token: token('writer') });
      w.connect();
      const ws = w.newSubscription('burst');
      ws.subscribe();
      await ws.ready(5000);
      w.startBatching(); // 50 publish commands in one frame
      const pubs = [...Array(50).keys()].map((n) => ws.publish({ n }));
      w.stopBatching();
      await Promise.all(pubs);
      await waitFor(() => reader.messages.length === 52, { what: '50 publications' });
      assert.deepEqual(reader.messages.slice(2).map((m) => m.push.pub.data.n), [...Array(50).keys()]);
      assert.ok(check(reader.frames), `limit ${limit}: frames ${JSON.stringify(reader.frames)}`);
    }
  });

  test('JWKS: keys fetched once by kid, cached; unknown kid is an invalid token', async (t) => {
    const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };
    let fetches = 0;
    const jwksServer = http.createServer((req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise((r) => jwksServer.listen(0, '127.0.0.1', r));
    t.after(() => new Promise((r) => jwksServer.close(r)));
    const dir = tempDir(t);
    const port = await freePort();
    const file = writeJson(path.join(dir, 'jwks.json'), {
      http_server: { port },
      client: { token: { jwks_public_endpoint: `http://127.0.0.1:${jwksServer.address().port}/jwks` } },
      channel: { without_namespace: channelDefaults },
    });
    await startGyre(t, { args: ['-c', file] });
    const rs = (claims, kid) => {
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      const sig = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), rsa.privateKey).toString('base64url');
      return `${header}.${payload}.${sig}`;
    };
    for (const user of ['j1', 'j2', 'j3']) {
      const c = client(t, port, { token: rs({ sub: user, exp: now() + 60 }, 'k1') });
      const connected = once(c, 'connected');
      c.connect();
      await connected;
      c.disconnect();
    }
    assert.equal(fetches, 1, 'one fetch serves every connection');
    const bad = client(t, port, { token: rs({ sub: 'x', exp: now() + 60 }, 'nope') });
    const disconnected = once(bad, 'disconnected');
    bad.connect();
    assert.equal((await disconnected).code, 3500);
  });

  test('personal channel single_connection: a new connection closes the older one (3504)', async (t) => {
    const { port } = await startServer(t, {
      client: { subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'users', single_connection: true } },
    });
    const first = await rawPeer(t, port);
    first.send({ id: 1, connect: { token: token('solo') } });
    await waitFor(() => first.messages.length >= 1, { what: 'first connect reply' });
    const other = await rawPeer(t, port);
    other.send({ id: 1, connect: { token: token('someone-else') } });
    const second = await rawPeer(t, port);
    second.send({ id: 1, connect: { token: token('solo') } });
    assert.deepEqual(await first.waitClose(), { code: 3504, reason: 'connection limit' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(second.closed, null, 'the newest connection stays');
    assert.equal(other.closed, null, 'other users are untouched');
  });

  test('anonymous and insecure modes', async (t) => {
    const anon = await startServer(t, { client: { allow_anonymous_connect_without_token: true } });
    const a = client(t, anon.port);
    a.connect();
    await a.ready(5000);
    const s = a.newSubscription('anon-news'); // allow_subscribe_for_client needs a user: refused
    const refused = once(s, 'unsubscribed');
    s.subscribe();
    assert.equal((await refused).code, 103);
    const strict = client(t, (await startServer(t)).port);
    const disconnected = once(strict, 'disconnected');
    strict.connect();
    assert.equal((await disconnected).code, 3501, 'no credentials without anonymous access');
    const insecure = await startServer(t, { client: { insecure: true } });
    const i = client(t, insecure.port);
    i.connect();
    const is = i.newSubscription('locked:anything');
    is.subscribe();
    await is.ready(5000);
    await is.publish({ ok: true });
  });

  test('subscription token refresh (sub_refresh) keeps the subscription', async (t) => {
    const { port } = await startServer(t, { client: { expired_sub_close_delay: '1s' } });
    const c = client(t, port, { token: token('erin') });
    c.connect();
    let calls = 0;
    const s = c.newSubscription('$private:refreshing', {
      getToken: async ({ channel }) => {
        calls += 1;
        return hs({ sub: 'erin', channel, exp: now() + (calls === 1 ? 2 : 60) });
      },
    });
    let unsubscribed = false;
    s.on('unsubscribed', () => { unsubscribed = true; });
    s.subscribe();
    await s.ready(5000);
    await new Promise((r) => setTimeout(r, 4500));
    assert.ok(calls >= 2, 'getToken called again for sub_refresh');
    assert.equal(s.state, 'subscribed');
    assert.equal(unsubscribed, false);
  });

  test('origin check: listed origins pass, others get 403', async (t) => {
    const { port } = await startServer(t);
    const { WebSocket } = await import('./lib/clients.mjs');
    const attempt = (origin) => new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`, { origin });
      ws.on('open', () => { ws.close(); resolve('open'); });
      ws.on('unexpected-response', (_, res) => resolve(res.statusCode));
      ws.on('error', () => {});
    });
    assert.equal(await attempt('http://allowed.example'), 'open');
    assert.equal(await attempt('http://evil.example'), 403);
  });

  test('shutdown sends 3001 to connected clients', async (t) => {
    const { port, server } = await startServer(t);
    const p = await rawPeer(t, port);
    p.send({ id: 1, connect: { token: token('x') } });
    await waitFor(() => p.messages.length > 0, { what: 'connect reply' });
    const exit = await server.stop('SIGTERM');
    assert.equal(exit.code, 0);
    const closed = await p.waitClose(5000);
    assert.deepEqual(closed, { code: 3001, reason: 'shutdown' });
  });
});

// The WebSocket layer itself (RFC 6455 as browsers and the SDKs use it), below the protocol.
describe('websocket framing', () => {
  test('pings are answered, fragments are joined, a close is echoed', async (t) => {
    const { port } = await startServer(t);
    const p = await rawPeer(t, port);
    const pong = new Promise((resolve) => p.ws.once('pong', (data) => resolve(data.toString())));
    p.ws.ping('are you there');
    assert.equal(await pong, 'are you there');
    // One connect command in three fragments, a ping between them.
    const cmd = JSON.stringify({ id: 1, connect: { token: token('frag') } });
    p.ws.send(cmd.slice(0, 5), { fin: false });
    p.ws.ping('mid');
    p.ws.send(cmd.slice(5, 20), { fin: false });
    p.ws.send(cmd.slice(20), { fin: true });
    await waitFor(() => p.messages.length === 1, { what: 'connect reply' });
    assert.equal(p.messages[0].id, 1);
    assert.ok(p.messages[0].connect.client);
    p.ws.close(4000, 'bye');
    const closed = await p.waitClose(5000);
    assert.equal(closed.code, 4000); // the server echoes the client's code
  });

  test('an unmasked client frame closes with 1002; a bad handshake gets 400', async (t) => {
    const { port, server } = await startServer(t);
    const p = await rawPeer(t, port);
    p.ws.send('{"id":1,"connect":{}}', { mask: false });
    assert.equal((await p.waitClose(5000)).code, 1002);

    const handshake = (headers) => new Promise((resolve, reject) => {
      const req = http.request({ port, path: '/connection/websocket', headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', ...headers,
      } });
      req.on('response', (res) => { res.resume(); resolve(res); });
      req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res); });
      req.on('error', reject);
      req.end();
    });
    const key = crypto.randomBytes(16).toString('base64');
    const wrongVersion = await handshake({ 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Key': key });
    assert.equal(wrongVersion.statusCode, 400);
    assert.equal(wrongVersion.headers['sec-websocket-version'], '13');
    const badKey = await handshake({ 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'short' });
    assert.equal(badKey.statusCode, 400);
    const good = await handshake({ 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key });
    assert.equal(good.statusCode, 101);
    assert.equal(good.headers['sec-websocket-accept'],
      crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
    assert.equal(server.exited, null);
  });
});
