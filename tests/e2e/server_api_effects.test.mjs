// End-to-end tests of what server API calls do to connected clients: publications (byte-exact
// data, tags, b64data, idempotency), broadcast, server-side subscribe/unsubscribe, disconnect,
// refresh, presence/channels/info counts, robustness against bad calls, and the npm cent.js client.
// Real gyre binary, real centrifuge-js clients (JSON and Protobuf) and raw WebSocket peers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CentClient, CentException } from 'cent.js';
import { API_KEY, api, collect, eventually, legacy, post, startApiServer, userToken } from './lib/api.mjs';
import { client, once, rawPeer } from './lib/clients.mjs';
import { now } from './lib/tokens.mjs';

/** A connected centrifuge-js client for `user`; resolves with the client and its client id. */
async function connected(t, port, user, opts = {}) {
  const c = client(t, port, { token: userToken(user), ...opts });
  const ready = once(c, 'connected');
  c.connect();
  const ctx = await ready;
  return { c, id: ctx.client };
}

/** A client-side subscription that is subscribed; publications collected in `pubs`. */
async function subscribed(c, channel) {
  const s = c.newSubscription(channel);
  const pubs = collect(s, 'publication');
  s.subscribe();
  await s.ready(5000);
  return { s, pubs };
}

/** A raw JSON-protocol peer, connected as `user` and subscribed to `channels`. */
async function rawSubscriber(t, port, user, channels, token = userToken(user)) {
  const p = await rawPeer(t, port);
  const raw = [];
  p.ws.on('message', (d, isBinary) => { if (!isBinary) raw.push(d.toString()); });
  p.send({ id: 1, connect: { token } });
  channels.forEach((ch, i) => p.send({ id: i + 2, subscribe: { channel: ch } }));
  await eventually(() => p.messages.filter((m) => m.id).length === channels.length + 1, { what: `${user} connect+subscribe replies` });
  for (const m of p.messages.filter((x) => x.id)) assert.equal(m.error, undefined, `${user}: ${JSON.stringify(m)}`);
  p.raw = raw;
  p.client = p.messages.find((m) => m.id === 1).connect.client;
  p.pushes = () => p.messages.filter((m) => m.push);
  return p;
}

async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, `${method}: HTTP ${r.status} ${r.text}`);
  assert.equal(r.json?.error, undefined, `${method} ${JSON.stringify(body)}: ${r.text}`);
  return r.json.result;
}

describe('API effects on connected clients', () => {
  let port;
  const cleanups = [];
  const scope = { after: (fn) => cleanups.push(fn) };
  before(async () => { ({ port } = await startApiServer(scope, { client: { expired_close_delay: '1s' } })); });
  after(async () => { for (const fn of cleanups.reverse()) await fn(); });

  test('publish: data reaches subscribers byte-exact, with tags; b64data for JSON and Protobuf', async (t) => {
    const peer = await rawSubscriber(t, port, 'raw-reader', ['exact']);
    const { c } = await connected(t, port, 'js-reader');
    const { pubs } = await subscribed(c, 'exact');
    const body = '{"channel":"exact","data":{"a":1.0,"b":"<x>","c":[true,null]},"tags":{"k":"v","z":""}}';
    const r = await post(port, '/api/publish', body);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { result: {} });
    await eventually(() => pubs.length === 1 && peer.pushes().length === 1, { what: 'publication at both readers' });
    const frame = peer.raw.find((f) => f.includes('"pub"'));
    assert.ok(frame.includes('{"a":1.0,"b":"<x>","c":[true,null]}'), `raw frame keeps the bytes: ${frame}`);
    const push = peer.pushes()[0].push;
    assert.equal(push.channel, 'exact');
    assert.deepEqual(push.pub.tags, { k: 'v', z: '' });
    assert.deepEqual(pubs[0].data, { a: 1, b: '<x>', c: [true, null] });
    assert.deepEqual(pubs[0].tags, { k: 'v', z: '' });
    assert.equal(pubs[0].info, undefined, 'API publications carry no client info');

    // Any JSON value is data, forwarded as sent.
    const shapes = ['"plain \\u00e9 \\n"', '12345678901234567890', '[1,{"x":[]},"s"]', '{}'];
    for (const d of shapes) {
      const rr = await post(port, '/api/publish', `{"channel":"exact","data":${d}}`);
      assert.deepEqual(rr.json, { result: {} }, d);
    }
    await eventually(() => peer.pushes().length === 1 + shapes.length, { what: 'data shapes at the raw reader' });
    for (const d of shapes) {
      assert.ok(peer.raw.some((f) => f.includes(`"data":${d}`)), `raw frames carry ${d} as sent`);
    }
    await eventually(() => pubs.length === 1 + shapes.length, { what: 'data shapes at centrifuge-js' });
    assert.deepEqual(pubs.slice(1).map((p) => p.data), shapes.map((d) => JSON.parse(d)));
    pubs.splice(1);

    // b64data: JSON clients get the decoded bytes as JSON, Protobuf clients the exact bytes.
    const asJson = Buffer.from('{"via":"b64"}').toString('base64');
    assert.deepEqual(await ok(port, 'publish', { channel: 'exact', b64data: asJson }), {});
    await eventually(() => pubs.length === 2, { what: 'b64 publication (JSON)' });
    assert.deepEqual(pubs[1].data, { via: 'b64' });
    const pb = await connected(t, port, 'pb-reader', { protobuf: true });
    const { pubs: binPubs } = await subscribed(pb.c, 'binary');
    const bytes = Buffer.from([0, 1, 2, 127, 128, 254, 255]);
    assert.deepEqual(await ok(port, 'publish', { channel: 'binary', b64data: bytes.toString('base64'), data: { ignored: true } }), {});
    await eventually(() => binPubs.length === 1, { what: 'b64 publication (Protobuf)' });
    assert.deepEqual([...binPubs[0].data], [...bytes]);

    // skip_history and delta are accepted and still deliver.
    assert.deepEqual(await ok(port, 'publish', { channel: 'exact', data: { n: 3 }, skip_history: true, delta: true }), {});
    await eventually(() => pubs.length === 3, { what: 'third publication' });
    assert.deepEqual(pubs[2].data, { n: 3 });
    assert.equal(pubs.length, 3);
  });

  test('publish: a repeated idempotency_key is acknowledged but delivered once per channel', async (t) => {
    const { c } = await connected(t, port, 'idem-reader');
    const { pubs: p1 } = await subscribed(c, 'idem-1');
    const { pubs: p2 } = await subscribed(c, 'idem-2');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await ok(port, 'publish', { channel: 'idem-1', data: { n: i }, idempotency_key: 'k-1' }), {}, `attempt ${i}`);
    }
    assert.deepEqual(await ok(port, 'publish', { channel: 'idem-2', data: { n: 'other' }, idempotency_key: 'k-1' }), {});
    assert.deepEqual(await ok(port, 'publish', { channel: 'idem-1', data: { n: 'marker' } }), {});
    await eventually(() => p1.length >= 2 && p2.length >= 1, { what: 'marker publication' });
    assert.deepEqual(p1.map((p) => p.data), [{ n: 0 }, { n: 'marker' }]);
    assert.deepEqual(p2.map((p) => p.data), [{ n: 'other' }], 'same key, other channel: delivered');
  });

  test('broadcast: every listed channel gets the publication; per-channel errors', async (t) => {
    const { c } = await connected(t, port, 'bc-reader');
    const a = await subscribed(c, 'bc-a');
    const b = await subscribed(c, 'ns1:bc-b');
    const r = await api(port, 'broadcast', { channels: ['bc-a', 'nope:z', 'ns1:bc-b', ''], data: { hello: 'all' }, tags: { t: '1' } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      result: {
        responses: [
          { result: {} },
          { error: { code: 102, message: 'unknown channel' } },
          { result: {} },
          { error: { code: 107, message: 'bad request' } },
        ],
      },
    });
    await eventually(() => a.pubs.length === 1 && b.pubs.length === 1, { what: 'broadcast at both channels' });
    for (const { pubs } of [a, b]) {
      assert.deepEqual(pubs[0].data, { hello: 'all' });
      assert.deepEqual(pubs[0].tags, { t: '1' });
    }
  });

  test('batch and legacy multi-command publishes arrive in command order', async (t) => {
    const { c } = await connected(t, port, 'order-reader');
    const { pubs } = await subscribed(c, 'order');
    const batch = await api(port, 'batch', { commands: [...Array(10).keys()].map((n) => ({ publish: { channel: 'order', data: { n } } })) });
    assert.deepEqual(batch.json, { replies: Array(10).fill({ publish: {} }) });
    const lines = [...Array(10).keys()].map((n) => JSON.stringify({ id: n + 1, method: 'publish', params: { channel: 'order', data: { n: 10 + n } } }));
    const l = await legacy(port, lines.join('\n'));
    assert.deepEqual(l.lines, [...Array(10).keys()].map((n) => ({ id: n + 1, result: {} })));
    const par = await api(port, 'batch', { parallel: true, commands: [...Array(10).keys()].map((n) => ({ publish: { channel: 'order', data: { n: 20 + n } } })) });
    assert.deepEqual(par.json, { replies: Array(10).fill({ publish: {} }) });
    await eventually(() => pubs.length === 30, { what: '30 publications' });
    assert.deepEqual(pubs.slice(0, 20).map((p) => p.data.n), [...Array(20).keys()]);
    assert.deepEqual(pubs.slice(20).map((p) => p.data.n).sort((a, b) => a - b), [...Array(10).keys()].map((n) => 20 + n));
  });

  test('subscribe: server-side subscription for all connections of a user, or one client', async (t) => {
    const a1 = await connected(t, port, 'alice');
    const a2 = await connected(t, port, 'alice');
    const bob = await connected(t, port, 'bob');
    const subs = [a1, a2, bob].map(({ c }) => collect(c, 'subscribed'));
    const pubs = [a1, a2, bob].map(({ c }) => collect(c, 'publication'));
    assert.deepEqual(await ok(port, 'subscribe', { user: 'alice', channel: 'srv', data: { welcome: 1 }, info: { seat: 7 } }), {});
    await eventually(() => subs[0].length === 1 && subs[1].length === 1, { what: 'subscribed at both alice connections' });
    for (const s of subs.slice(0, 2)) {
      assert.equal(s[0].channel, 'srv');
      assert.deepEqual(s[0].data, { welcome: 1 });
    }
    const presence = await eventually(async () => {
      const p = (await ok(port, 'presence', { channel: 'srv' })).presence;
      return Object.keys(p).length === 2 && p;
    }, { what: 'two presence entries' });
    assert.deepEqual(Object.keys(presence).sort(), [a1.id, a2.id].sort());
    for (const id of [a1.id, a2.id]) {
      assert.deepEqual(presence[id], { client: id, user: 'alice', chan_info: { seat: 7 } });
    }
    assert.deepEqual(await ok(port, 'publish', { channel: 'srv', data: { to: 'srv' } }), {});
    await eventually(() => pubs[0].length === 1 && pubs[1].length === 1, { what: 'server-side publications' });
    for (const p of pubs.slice(0, 2)) {
      assert.equal(p[0].channel, 'srv');
      assert.deepEqual(p[0].data, { to: 'srv' });
    }
    assert.equal(subs[2].length + pubs[2].length, 0, 'bob untouched');

    // Only one connection of the user when `client` is set; b64data for the subscribe data.
    const b64 = Buffer.from('{"only":"a2"}').toString('base64');
    assert.deepEqual(await ok(port, 'subscribe', { user: 'alice', channel: 'srv-one', client: a2.id, b64data: b64 }), {});
    await eventually(() => subs[1].length === 2, { what: 'subscribed at a2' });
    assert.equal(subs[1][1].channel, 'srv-one');
    assert.deepEqual(subs[1][1].data, { only: 'a2' });
    const one = await eventually(async () => {
      const p = (await ok(port, 'presence', { channel: 'srv-one' })).presence;
      return Object.keys(p).length > 0 && p;
    }, { what: 'srv-one presence' });
    assert.deepEqual(Object.keys(one), [a2.id]);
    assert.equal(subs[0].length, 1, 'a1 not subscribed to srv-one');
    assert.equal(subs[2].length, 0, 'bob not subscribed to srv-one');

    // override.presence=false: subscribed, but not in presence.
    assert.deepEqual(await ok(port, 'subscribe', { user: 'alice', channel: 'srv-quiet', override: { presence: { value: false } } }), {});
    await eventually(() => subs[0].length === 2 && subs[1].length === 3, { what: 'srv-quiet subscribed at both' });
    assert.deepEqual([subs[0][1].channel, subs[1][2].channel], ['srv-quiet', 'srv-quiet']);
    assert.deepEqual(await ok(port, 'presence_stats', { channel: 'srv-quiet' }), { num_clients: 0, num_users: 0 });
    assert.deepEqual(await ok(port, 'channels', { pattern: 'srv-quiet' }), { channels: { 'srv-quiet': { num_clients: 2 } } });

    // Server-side unsubscribe: the Centrifuge object fires `unsubscribed` for the channel.
    const unsubs = [a1, a2].map(({ c }) => collect(c, 'unsubscribed'));
    assert.deepEqual(await ok(port, 'unsubscribe', { user: 'alice', channel: 'srv' }), {});
    await eventually(() => unsubs[0].length === 1 && unsubs[1].length === 1, { what: 'server-side unsubscribed' });
    assert.deepEqual(unsubs.map((u) => u[0].channel), ['srv', 'srv']);
    await eventually(async () => Object.keys((await ok(port, 'presence', { channel: 'srv' })).presence).length === 0,
      { what: 'srv presence empty' });
    assert.equal(a1.c.state, 'connected');
  });

  test('unsubscribe: client-side subscriptions get 2000 "server unsubscribe"; empty channel means all', async (t) => {
    const u1 = await connected(t, port, 'ursula');
    const u2 = await connected(t, port, 'ursula');
    const s1 = await subscribed(u1.c, 'room-1');
    const s2 = await subscribed(u1.c, 'room-2');
    const s3 = await subscribed(u2.c, 'room-1');
    const ev = [s1, s2, s3].map(({ s }) => collect(s, 'unsubscribed'));

    // Only connection u2 for room-1.
    assert.deepEqual(await ok(port, 'unsubscribe', { user: 'ursula', channel: 'room-1', client: u2.id }), {});
    await eventually(() => ev[2].length === 1, { what: 'u2 room-1 unsubscribed' });
    assert.deepEqual(ev[2][0], { channel: 'room-1', code: 2000, reason: 'server unsubscribe' });
    assert.equal(s3.s.state, 'unsubscribed');
    await eventually(async () => (await ok(port, 'presence_stats', { channel: 'room-1' })).num_clients === 1,
      { what: 'room-1 presence drops to one client' });
    assert.deepEqual(await ok(port, 'presence_stats', { channel: 'room-1' }), { num_clients: 1, num_users: 1 });
    assert.equal(ev[0].length, 0, 'u1 room-1 still subscribed');

    // No channel: every channel of the user.
    assert.deepEqual(await ok(port, 'unsubscribe', { user: 'ursula' }), {});
    await eventually(() => ev[0].length === 1 && ev[1].length === 1, { what: 'u1 unsubscribed from both rooms' });
    assert.deepEqual(ev[0][0], { channel: 'room-1', code: 2000, reason: 'server unsubscribe' });
    assert.deepEqual(ev[1][0], { channel: 'room-2', code: 2000, reason: 'server unsubscribe' });
    assert.equal(u1.c.state, 'connected', 'unsubscribe keeps the connection');
    await eventually(async () => Object.keys((await ok(port, 'channels', { pattern: 'room-*' })).channels).length === 0,
      { what: 'no room-* channels left' });
    assert.deepEqual(await ok(port, 'channels', { pattern: 'room-*' }), { channels: {} });
  });

  test('disconnect: custom code/reason, whitelist, one client, default 3503', async (t) => {
    const d1 = await connected(t, port, 'dave');
    const d2 = await connected(t, port, 'dave');
    const d3 = await connected(t, port, 'dave');
    const ev = [d1, d2, d3].map(({ c }) => collect(c, 'disconnected'));
    const probe = await subscribed(d1.c, 'dave-probe');
    const d1Reconnects = collect(d1.c, 'connecting');

    assert.deepEqual(await ok(port, 'disconnect', { user: 'dave', whitelist: [d1.id, d3.id], disconnect: { code: 4500, reason: 'bye' } }), {});
    await eventually(() => ev[1].length === 1, { what: 'd2 disconnected' });
    assert.deepEqual(ev[1][0], { code: 4500, reason: 'bye' });
    assert.equal(d2.c.state, 'disconnected', '4500: no reconnect');

    assert.deepEqual(await ok(port, 'disconnect', { user: 'dave', client: d3.id, disconnect: { code: 4501, reason: 'only you' } }), {});
    await eventually(() => ev[2].length === 1, { what: 'd3 disconnected' });
    assert.deepEqual(ev[2][0], { code: 4501, reason: 'only you' });

    // Filters that match no connection of the user: WebSocket connections have no session id,
    // and a client id of another user is not the user's connection.
    for (const body of [
      { user: 'dave', session: 'no-such-session' },
      { user: 'not-dave', client: d1.id },
      { user: 'dave', client: 'no-such-client' },
    ]) assert.deepEqual(await ok(port, 'disconnect', body), {}, JSON.stringify(body));
    assert.deepEqual(await ok(port, 'unsubscribe', { user: 'dave', channel: 'dave-probe', session: 'no-such-session' }), {});
    assert.deepEqual(await ok(port, 'refresh', { user: 'dave', session: 'no-such-session', expired: true }), {});

    // d1 survived all these calls and still receives.
    assert.deepEqual(await ok(port, 'publish', { channel: 'dave-probe', data: { alive: true } }), {});
    await eventually(() => probe.pubs.length === 1, { what: 'd1 still receives' });
    assert.equal(ev[0].length, 0);
    assert.equal(d1Reconnects.length, 0, 'd1 was never closed');

    assert.deepEqual(await ok(port, 'disconnect', { user: 'dave' }), {});
    await eventually(() => ev[0].length === 1, { what: 'd1 disconnected' });
    assert.deepEqual(ev[0][0], { code: 3503, reason: 'force disconnect' });
    assert.equal(d1.c.state, 'disconnected');
  });

  test('refresh: expired closes with 3005 (client reconnects); expire_at extends the connection', async (t) => {
    const r1 = await connected(t, port, 'rita');
    const connecting = once(r1.c, 'connecting');
    const reconnected = new Promise((resolve) => r1.c.on('connected', resolve));
    assert.deepEqual(await ok(port, 'refresh', { user: 'rita', expired: true }), {});
    assert.deepEqual(await connecting, { code: 3005, reason: 'connection expired' });
    await Promise.race([reconnected, new Promise((_, rej) => setTimeout(() => rej(new Error('no reconnect')), 5000))]);

    // Two peers whose tokens expire in 1 s; only one is refreshed through the API.
    const exp = now() + 2;
    const frank = await rawSubscriber(t, port, 'frank', [], userToken('frank', { exp }));
    const gina = await rawSubscriber(t, port, 'gina', [], userToken('gina', { exp }));
    assert.equal(frank.messages[0].connect.expires, true);
    const until = now() + 60;
    assert.deepEqual(await ok(port, 'refresh', { user: 'frank', expire_at: until }), {});
    await eventually(() => frank.pushes().some((m) => m.push.refresh), { what: 'refresh push' });
    const push = frank.pushes().find((m) => m.push.refresh).push.refresh;
    assert.equal(push.expires, true);
    assert.ok(push.ttl >= 58 && push.ttl <= 60, `ttl ${push.ttl}`);
    const hank = await rawSubscriber(t, port, 'hank', []);
    assert.deepEqual(await ok(port, 'refresh', { user: 'hank', expire_at: now() - 10 }), {});
    assert.deepEqual(await hank.waitClose(5000), { code: 3005, reason: 'connection expired' }, 'expire_at in the past');
    assert.deepEqual(await gina.waitClose(8000), { code: 3005, reason: 'connection expired' });
    await new Promise((r) => setTimeout(r, 300)); // margin past gina's close: frank's old expiry has passed too
    frank.send({ id: 50, subscribe: { channel: 'still-here' } });
    await eventually(() => frank.messages.some((m) => m.id === 50), { what: 'frank answers after the old expiry' });
    assert.equal(frank.messages.find((m) => m.id === 50).error, undefined);
    assert.equal(frank.closed, null);
  });

  test('bad API calls do not disturb a connected subscriber', async (t) => {
    const { c } = await connected(t, port, 'calm');
    const { s, pubs } = await subscribed(c, 'calm-room');
    const bad = [
      () => post(port, '/api/publish', '{"channel":'),
      () => post(port, '/api/publish', '', {}),
      () => post(port, '/api/publish', { channel: 'calm-room', data: { bad: 1 } }, { key: 'wrong' }),
      () => post(port, '/api/publish', { channel: 'calm-room', data: { bad: 2 } }, { method: 'PUT' }),
      () => post(port, '/api/nope', {}),
      () => post(port, '/api', '{"method":"foo"}'),
      () => post(port, '/api', '{"method":"publish","params":{"channel":5}}\n{garbage'),
      () => post(port, '/api', ''),
      () => api(port, 'batch', { commands: [{ publish: { channel: 'nope:x', data: {} } }, null, 7, 'x'] }),
      () => api(port, 'batch', '{"commands":[{"publish":'),
      () => api(port, 'publish', { channel: 'calm-room', b64data: '@@@' }),
      () => api(port, 'publish', { channel: 'calm-room' }),
      () => api(port, 'publish', { channel: 'calm-room', data: { x: 1 } }, { headers: { 'X-Centrifugo-Error-Mode': 'transport' }, key: 'bad' }),
      () => api(port, 'subscribe', { user: 'calm', channel: '' }),
      () => api(port, 'unsubscribe', { user: 'calm', channel: 'nope:q' }),
      () => api(port, 'disconnect', { user: 'someone-else' }),
      () => api(port, 'presence', { channel: 'ns1:calm' }),
      () => api(port, 'history', { channel: 'calm-room', limit: -1 }),
      () => api(port, 'rpc', { method: 'x'.repeat(300), params: [1, 2] }),
      () => api(port, 'channels', { pattern: '[' }),
      () => api(port, 'info', '[]'),
      () => legacy(port, `{"id":1,"method":12345678901,"params":{}}`),
      () => legacy(port, `{"id":-1,"method":"publish","params":{"channel":"calm-room"}}`),
      () => post(port, '/api/publish', `{"channel":"calm-room","data":${'['.repeat(2000)}`),
    ];
    const results = await Promise.all([...bad, ...bad].map((f) => f()));
    for (const r of results) assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `status ${r.status}`);
    assert.deepEqual(pubs, [], 'no bad call delivered anything');
    assert.deepEqual(await ok(port, 'publish', { channel: 'calm-room', data: { still: 'fine' } }), {});
    await eventually(() => pubs.length === 1, { what: 'subscriber still receives' });
    assert.deepEqual(pubs[0].data, { still: 'fine' });
    assert.equal(c.state, 'connected');
    assert.equal(s.state, 'subscribed');
  });
});

describe('live counts', () => {
  test('presence, presence_stats, channels and info follow connects and disconnects', async (t) => {
    const { port } = await startApiServer(t);
    const base = (await ok(port, 'info', {})).nodes[0];
    for (const k of ['num_clients', 'num_users', 'num_channels', 'num_subs']) assert.equal(base[k] ?? 0, 0, `idle ${k}`);

    const p1 = await connected(t, port, 'pat');
    const p2 = await connected(t, port, 'pat');
    const q = client(t, port, { token: userToken('quinn', { info: { role: 'admin' } }) });
    q.connect();
    const qid = (await once(q, 'connected')).client;
    await subscribed(p1.c, 'pres:room');
    await subscribed(p2.c, 'pres:room');
    await subscribed(q, 'pres:room');
    await subscribed(q, 'lobby');

    const pres = (await ok(port, 'presence', { channel: 'pres:room' })).presence;
    assert.deepEqual(Object.keys(pres).sort(), [p1.id, p2.id, qid].sort());
    assert.deepEqual(pres[p1.id], { client: p1.id, user: 'pat' });
    assert.deepEqual(pres[qid], { client: qid, user: 'quinn', conn_info: { role: 'admin' } });
    assert.deepEqual(await ok(port, 'presence_stats', { channel: 'pres:room' }), { num_clients: 3, num_users: 2 });
    assert.deepEqual(await ok(port, 'channels', {}), { channels: { 'pres:room': { num_clients: 3 }, lobby: { num_clients: 1 } } });
    assert.deepEqual(await ok(port, 'channels', { pattern: 'pres:*' }), { channels: { 'pres:room': { num_clients: 3 } } });
    assert.deepEqual(await ok(port, 'channels', { pattern: 'l?bby' }), { channels: { lobby: { num_clients: 1 } } });
    assert.deepEqual(await ok(port, 'channels', { pattern: 'zzz*' }), { channels: {} });
    const node = (await ok(port, 'info', {})).nodes[0];
    assert.deepEqual(
      [node.num_clients, node.num_users, node.num_channels, node.num_subs],
      [3, 2, 2, 4], 'clients, users, channels, subscriptions');

    q.disconnect();
    await eventually(async () => {
      const n = (await ok(port, 'info', {})).nodes[0];
      return n.num_clients === 2 && (n.num_channels ?? 0) === 1;
    }, { what: 'counts drop after a disconnect' });
    const after1 = (await ok(port, 'info', {})).nodes[0];
    assert.deepEqual([after1.num_clients, after1.num_users ?? 0, after1.num_channels, after1.num_subs], [2, 1, 1, 2]);
    assert.deepEqual(await ok(port, 'presence_stats', { channel: 'pres:room' }), { num_clients: 2, num_users: 1 });
    assert.deepEqual(await ok(port, 'channels', {}), { channels: { 'pres:room': { num_clients: 2 } } });
  });
});

describe('npm cent.js client', () => {
  test('cent.js drives publish, broadcast, presence, info, channels, subscribe, disconnect and pipeline', async (t) => {
    const { port } = await startApiServer(t);
    const cent = new CentClient({ url: `http://127.0.0.1:${port}/api`, apiKey: API_KEY });
    const reader = await connected(t, port, 'cent-reader');
    const { pubs } = await subscribed(reader.c, 'cent-chat');

    assert.deepEqual(await cent.publish({ channel: 'cent-chat', data: { text: 'from cent.js' }, tags: { src: 'cent' } }), {});
    await eventually(() => pubs.length === 1, { what: 'publication from cent.js' });
    assert.deepEqual(pubs[0].data, { text: 'from cent.js' });
    assert.deepEqual(pubs[0].tags, { src: 'cent' });

    assert.deepEqual(await cent.broadcast({ channels: ['cent-chat', 'nope:x'], data: { n: 2 } }), {
      responses: [{ result: {} }, { error: { code: 102, message: 'unknown channel' } }],
    });
    await eventually(() => pubs.length === 2, { what: 'broadcast from cent.js' });
    assert.deepEqual(pubs[1].data, { n: 2 });

    const presence = await cent.getPresence({ channel: 'cent-chat' });
    assert.deepEqual(presence, { presence: { [reader.id]: { client: reader.id, user: 'cent-reader' } } });
    assert.deepEqual(await cent.getPresenceStats({ channel: 'cent-chat' }), { num_clients: 1, num_users: 1 });
    assert.deepEqual(await cent.getChannels({ pattern: 'cent-*' }), { channels: { 'cent-chat': { num_clients: 1 } } });
    const info = await cent.getInfo();
    assert.equal(info.nodes.length, 1);
    assert.equal(info.nodes[0].num_clients, 1);
    assert.equal(info.nodes[0].num_users, 1);

    await assert.rejects(cent.publish({ channel: 'nope:x', data: {} }), CentException, 'API error rejects');
    await assert.rejects(cent.getPresence({ channel: 'ns1:x' }), CentException, '108 rejects');
    await assert.rejects(cent.getHistory({ channel: 'cent-chat' }), CentException, 'history off rejects');

    // Server-side subscribe through cent.js, then a publication to it.
    const serverSubs = collect(reader.c, 'subscribed');
    const serverPubs = collect(reader.c, 'publication');
    assert.deepEqual(await cent.subscribe({ user: 'cent-reader', channel: 'cent-srv' }), {});
    await eventually(() => serverSubs.length === 1, { what: 'server-side subscribed' });
    assert.equal(serverSubs[0].channel, 'cent-srv');
    assert.deepEqual(await cent.publish({ channel: 'cent-srv', data: { srv: true } }), {});
    await eventually(() => serverPubs.length === 1, { what: 'server-side publication' });
    assert.deepEqual([serverPubs[0].channel, serverPubs[0].data], ['cent-srv', { srv: true }]);

    // Pipeline: legacy /api, several commands, one result per line.
    const results = await cent.pipeline([
      { method: 'publish', params: { channel: 'cent-chat', data: { n: 3 } } },
      { method: 'presence_stats', params: { channel: 'cent-chat' } },
      { method: 'channels', params: { pattern: 'cent-srv' } },
    ]);
    assert.deepEqual(results, [{}, { num_clients: 1, num_users: 1 }, { channels: { 'cent-srv': { num_clients: 1 } } }]);
    await eventually(() => pubs.length === 3, { what: 'pipeline publication' });

    const unsubscribed = once(reader.c, 'unsubscribed');
    assert.deepEqual(await cent.unsubscribe({ user: 'cent-reader', channel: 'cent-srv' }), {});
    assert.equal((await unsubscribed).channel, 'cent-srv');

    const disconnected = once(reader.c, 'disconnected');
    assert.deepEqual(await cent.disconnect({ user: 'cent-reader' }), {});
    assert.deepEqual(await disconnected, { code: 3503, reason: 'force disconnect' });

    const wrongKey = new CentClient({ url: `http://127.0.0.1:${port}/api`, apiKey: 'wrong' });
    await assert.rejects(wrongKey.getInfo(), 'a 401 (empty body) rejects');
  });
});
