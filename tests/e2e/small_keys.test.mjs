// End-to-end tests of five small Centrifugo keys (issue 17, item 14), each with the real binary:
// client.presence_update_interval, client.user_id_http_header,
// client.channel_position_max_time_lag, the Redis client_name and
// channel.publication_data_format.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import path from 'node:path';
import { api, eventually, startApiServer, userToken } from './lib/api.mjs';
import { client, once, WebSocket } from './lib/clients.mjs';
import { freePort, runGyre, tempDir, writeJson } from './lib/gyre.mjs';
import { redisCommand, startRedis } from './lib/redis.mjs';
import { base, openStream } from './lib/transports.mjs';

const open = { allow_subscribe_for_client: true, allow_publish_for_client: true };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A redis engine section on a fresh redis-server, with its own key prefix. */
async function redisEngine(t, extra = {}) {
  const redis = await startRedis(t);
  return { redis, engine: { type: 'redis', redis: { address: [`redis://127.0.0.1:${redis.port}`], prefix: `sk${redis.port}`, ...extra } } };
}

async function subscribed(t, port, channel, opts = {}) {
  const c = client(t, port, { token: userToken('u1'), ...opts });
  const s = c.newSubscription(channel);
  const ready = once(s, 'subscribed');
  c.connect();
  s.subscribe();
  await ready;
  return { c, s };
}

describe('client.presence_update_interval', () => {
  test('presence entries are refreshed at the configured interval, so a short presence_ttl keeps them', async (t) => {
    // presence_ttl 2s: without a refresh within 2 s the entry is gone (the old hard-coded 25 s).
    const { engine } = await redisEngine(t, { presence_ttl: '2s' });
    const { port } = await startApiServer(t, {
      engine,
      client: { presence_update_interval: '400ms' },
      channel: { namespaces: [{ name: 'pres', ...open, presence: true }] },
    });
    await subscribed(t, port, 'pres:room');
    const present = async () => Object.keys((await api(port, 'presence', { channel: 'pres:room' })).json.result.presence).length;
    assert.equal(await present(), 1);
    await sleep(3500); // well past presence_ttl
    assert.equal(await present(), 1, 'the entry outlived presence_ttl: it was refreshed');
  });
});

describe('client.user_id_http_header', () => {
  const headerConfig = (extraClient = {}) => ({
    client: {
      user_id_http_header: 'X-User-Id',
      subscribe_to_user_personal_channel: { enabled: true },
      ...extraClient,
    },
  });
  class GatewayWebSocket extends WebSocket {
    constructor(url, protocols) { super(url, protocols, { headers: { 'x-user-id': 'gw-user' } }); }
  }

  test('a connection without token takes its user from the header (WebSocket and uni_http_stream)', async (t) => {
    const { port } = await startApiServer(t, { ...headerConfig(), uni_http_stream: { enabled: true } });
    const c = client(t, port, { websocket: GatewayWebSocket });
    const personal = once(c, 'subscribed'); // the personal channel names the user
    c.connect();
    assert.equal((await personal).channel, '#gw-user');

    const { res, stream } = await openStream(t, `${base(port)}/connection/uni_http_stream`, {
      headers: { 'content-type': 'application/json', 'X-USER-ID': 'stream-user' }, body: '{}',
    });
    assert.equal(res.status, 200);
    const first = await stream.next((m) => m.connect, 'connect push');
    assert.deepEqual(Object.keys(first.connect.subs || {}), ['#stream-user']);
  });

  test('without the header the connection is refused (3501); anonymous access wins over it, as in Centrifugo', async (t) => {
    const { port } = await startApiServer(t, headerConfig());
    const bare = client(t, port);
    const gone = once(bare, 'disconnected');
    bare.connect();
    assert.equal((await gone).code, 3501);

    const anon = await startApiServer(t, headerConfig({ allow_anonymous_connect_without_token: true }));
    const c = client(t, anon.port, { websocket: GatewayWebSocket });
    let personal = null;
    c.on('subscribed', (ctx) => { personal = ctx.channel; });
    const connected = once(c, 'connected');
    c.connect();
    await connected;
    await sleep(200);
    assert.equal(personal, null, 'anonymous: no user, no personal channel');
  });
});

describe('client.channel_position_max_time_lag', () => {
  // Redis paused for ~1 s: a publication made meanwhile reaches the subscriber ~1 s after the
  // broker took it.
  async function slowPublication(t, clientSection) {
    const { redis, engine } = await redisEngine(t);
    const { port } = await startApiServer(t, {
      engine,
      client: clientSection,
      channel: { namespaces: [{ name: 'pos', ...open, history_size: 10, history_ttl: '60s', force_positioning: true }] },
    });
    const { s } = await subscribed(t, port, 'pos:a');
    const pubs = [];
    const resubscribing = [];
    s.on('publication', (ctx) => pubs.push(ctx.data));
    s.on('subscribing', (ctx) => resubscribing.push(ctx.code));
    assert.equal((await api(port, 'publish', { channel: 'pos:a', data: { n: 1 } })).status, 200);
    await eventually(() => pubs.length === 1, { what: 'the first publication' });
    assert.equal(await redisCommand(redis.port, 'CLIENT', 'PAUSE', '1000', 'ALL'), 'OK');
    const r = await api(port, 'publish', { channel: 'pos:a', data: { n: 2 } }, { timeoutMs: 5000 });
    assert.equal(r.json?.error, undefined, r.text);
    return { pubs, resubscribing };
  }

  test('a positioned subscriber whose publication lagged more than the maximum gets insufficient state (2500)', async (t) => {
    const { resubscribing } = await slowPublication(t, { channel_position_max_time_lag: '300ms' });
    await eventually(() => resubscribing.includes(2500), { what: 'unsubscribe with 2500 (insufficient state)' });
  });

  test('without a maximum (the default) the same late publication is delivered', async (t) => {
    const { pubs, resubscribing } = await slowPublication(t, {});
    await eventually(() => pubs.length === 2, { what: 'the late publication' });
    assert.deepEqual(resubscribing, []);
  });
});

describe('redis client_name', () => {
  test('every connection to Redis carries the name (CLIENT LIST), including the PUB/SUB one', async (t) => {
    const { redis, engine } = await redisEngine(t, { client_name: 'gyre-e2e' });
    const { port } = await startApiServer(t, { engine });
    await subscribed(t, port, 'news'); // a PUB/SUB subscription exists
    const list = String(await redisCommand(redis.port, 'CLIENT', 'LIST')).trim().split('\n');
    const named = list.filter((l) => / name=gyre-e2e /.test(l));
    const others = list.filter((l) => !/ name=gyre-e2e /.test(l) && !/ cmd=client\|list /.test(l));
    assert.ok(named.length >= 2, `named connections: ${list.join('\n')}`);
    assert.ok(named.some((l) => / sub=[1-9]/.test(l)), `the subscriber is named: ${list.join('\n')}`);
    assert.deepEqual(others, [], 'no unnamed connection from gyre');
  });

  test('a name Redis would refuse stops start-up naming the key', async (t) => {
    const dir = tempDir(t);
    const file = writeJson(path.join(dir, 'c.json'), {
      http_server: { port: await freePort() },
      engine: { type: 'redis', redis: { address: ['redis://127.0.0.1:1'], client_name: 'two words' } },
    });
    const r = runGyre(['-c', file], { timeoutMs: 10000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /engine\.redis\.client_name: "two words"/);
  });
});

describe('channel.publication_data_format', () => {
  const formats = {
    channel: {
      publication_data_format: 'json_object',
      without_namespace: { ...open },
      namespaces: [{ name: 'bin', ...open, publication_data_format: 'binary' }],
    },
  };

  test('json_object: the API and clients get 107 for anything but a JSON object; a namespace may override', async (t) => {
    const { port } = await startApiServer(t, formats);
    for (const data of ['text', [1, 2], 42]) {
      const r = await api(port, 'publish', { channel: 'chat', data });
      assert.equal(r.json?.error?.code, 107, `${JSON.stringify(data)}: ${r.text}`);
    }
    assert.equal((await api(port, 'publish', { channel: 'chat', data: { ok: true } })).json?.error, undefined);
    assert.equal((await api(port, 'publish', { channel: 'bin:x', data: 'text' })).json?.error, undefined);
    const b = await api(port, 'broadcast', { channels: ['chat', 'bin:x'], data: 'text' });
    assert.deepEqual(b.json.result.responses.map((x) => x.error?.code), [107, undefined]);

    const c = client(t, port, { token: userToken('u1') });
    const connected = once(c, 'connected');
    c.connect();
    await connected;
    await assert.rejects(c.publish('chat', 'text'), (e) => e.code === 107);
    await c.publish('chat', { ok: true });
    await c.publish('bin:x', 'text');
  });

  test('an unknown format stops start-up naming the key', async (t) => {
    const dir = tempDir(t);
    const file = writeJson(path.join(dir, 'c.json'), { channel: { publication_data_format: 'xml' } });
    const r = runGyre(['checkconfig', '-c', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /channel\.publication_data_format: "xml"/);
  });
});
