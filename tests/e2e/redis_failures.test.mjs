// Redis failures must show (issue 17, items 10-12): with a single Redis down or one Cluster
// master gone, presence and presence_stats answer error 100 (server API and client protocol)
// instead of an empty result; a new positioned subscription whose stream read fails closes the
// connection with 3004 so centrifuge-js reconnects and subscribes once Redis is back; and
// Centrifugo's seed-list address form (redis://h1?addr=h2&addr=h3) starts on a Cluster.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import path from 'node:path';
import { api, eventually, startApiServer, userToken } from './lib/api.mjs';
import { client, decode } from './lib/clients.mjs';
import { runGyre, tempDir, writeJson } from './lib/gyre.mjs';
import { redisCommand, startRedis, startRedisCluster } from './lib/redis.mjs';

const open = { allow_subscribe_for_client: true, allow_publish_for_client: true, allow_history_for_client: true };
const channel = {
  without_namespace: { ...open },
  namespaces: [{
    name: 'hist', ...open, history_size: 20, history_ttl: '300s', force_recovery: true,
    presence: true, allow_presence_for_subscriber: true,
  }],
};

async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json?.error, undefined, r.text);
  return r.json.result;
}

async function apiError(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, r.text);
  return r.json?.error?.code;
}

/** A centrifuge-js client subscribed to `ch`; records publications and close codes. */
async function subscriber(t, port, ch, user) {
  const c = client(t, port, { token: userToken(user) });
  const s = c.newSubscription(ch);
  const got = { c, s, pubs: [], codes: [], subscribed: 0 };
  s.on('publication', (ctx) => got.pubs.push({ offset: ctx.offset, data: decode(ctx.data) }));
  s.on('subscribed', () => { got.subscribed += 1; });
  c.on('disconnected', (ctx) => got.codes.push(ctx.code));
  c.on('connecting', (ctx) => got.codes.push(ctx.code));
  c.connect();
  s.subscribe();
  return got;
}

/** The SDK call's error code (the call must fail). */
async function sdkErrorCode(call) {
  try {
    await call();
  } catch (e) {
    return e.code;
  }
  assert.fail('the call succeeded');
}

describe('redis failures show as errors', () => {
  test('a single redis down: presence and presence_stats answer 100 to the API and to a subscriber', async (t) => {
    const redis = await startRedis(t);
    const engine = { type: 'redis', redis: { address: [`redis://127.0.0.1:${redis.port}`], prefix: `gyref${redis.port}` } };
    const a = await startApiServer(t, { engine, channel });
    const sub = await subscriber(t, a.port, 'hist:room', 'alice');
    await eventually(() => sub.subscribed === 1, { what: 'subscribed' });
    await eventually(async () => (await ok(a.port, 'presence_stats', { channel: 'hist:room' })).num_clients === 1,
      { what: 'alice in the presence' });
    assert.deepEqual(Object.values((await sub.s.presence()).clients).map((i) => i.user), ['alice']);

    await redis.stop();
    assert.equal(await apiError(a.port, 'presence', { channel: 'hist:room' }), 100);
    assert.equal(await apiError(a.port, 'presence_stats', { channel: 'hist:room' }), 100);
    assert.equal(await sdkErrorCode(() => sub.s.presence()), 100);
    assert.equal(await sdkErrorCode(() => sub.s.presenceStats()), 100);
    assert.equal(await sdkErrorCode(() => sub.c.presence('hist:room')), 100);

    // Back: real answers again.
    await redis.restart();
    await eventually(async () => (await api(a.port, 'presence', { channel: 'hist:room' })).json?.error === undefined,
      { what: 'presence answering again', timeoutMs: 10000 });
  });

  test('one cluster master gone: presence 100; a new subscription there is closed with 3004 and subscribes once it is back', async (t) => {
    const nodes = await startRedisCluster(t);
    const prefix = `gyref${nodes[0].port}`;
    // The PUB/SUB connection goes to the first seed; commands go to each slot's master.
    const address = `redis+cluster://127.0.0.1:${nodes[0].port}?addr=127.0.0.1:${nodes[1].port}&addr=127.0.0.1:${nodes[2].port}`;
    const a = await startApiServer(t, { engine: { type: 'redis', redis: { address: [address], prefix } }, channel });
    // Two channels whose slot is on nodes[1] (keys are hash-tagged by channel).
    const slots = await redisCommand(nodes[0].port, 'CLUSTER', 'SLOTS');
    const ownerPort = async (ch) => {
      const slot = await redisCommand(nodes[0].port, 'CLUSTER', 'KEYSLOT', ch);
      return slots.find((r) => r[0] <= slot && slot <= r[1])[2][1];
    };
    const onGone = [];
    for (let i = 0; onGone.length < 2; i += 1) {
      if (await ownerPort(`hist:k${i}`) === nodes[1].port) onGone.push(`hist:k${i}`);
    }
    const [there, later] = onGone;
    await ok(a.port, 'publish', { channel: later, data: { n: 1 } });
    const sub = await subscriber(t, a.port, there, 'alice');
    await eventually(() => sub.subscribed === 1, { what: `subscribed to ${there}` });
    assert.equal((await ok(a.port, 'presence_stats', { channel: there })).num_clients, 1);

    await nodes[1].stop();
    assert.equal(await apiError(a.port, 'presence', { channel: there }), 100);
    assert.equal(await apiError(a.port, 'presence_stats', { channel: there }), 100);
    assert.equal(await sdkErrorCode(() => sub.s.presence()), 100);
    assert.equal(await sdkErrorCode(() => sub.s.presenceStats()), 100);

    // Its stream cannot be read: the connection is closed with 3004, the SDK reconnects.
    const late = await subscriber(t, a.port, later, 'bob');
    await eventually(() => late.codes.includes(3004), { what: 'a 3004 while the master is gone' });
    assert.equal(late.subscribed, 0);

    await nodes[1].restart();
    for (const n of [nodes[0], nodes[2]]) {
      await eventually(async () => String(await redisCommand(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        { what: 'the cluster whole again', timeoutMs: 15000 });
    }
    await eventually(() => late.subscribed === 1, { what: `the late subscription to ${later}`, timeoutMs: 15000 });
    // The master came back empty (no persistence): a new stream, positioned from its start.
    const published = await ok(a.port, 'publish', { channel: later, data: { n: 2 } });
    await eventually(() => late.pubs.length === 1, { what: 'a publication after subscribing' });
    assert.deepEqual(late.pubs[0], { offset: published.offset, data: { n: 2 } });
  });
});

describe('seed-list address form', () => {
  test('redis://h1?addr=h2&addr=h3 names a Cluster: it starts and works', async (t) => {
    const nodes = await startRedisCluster(t);
    const prefix = `gyres${nodes[0].port}`;
    const address = `redis://127.0.0.1:${nodes[0].port}?addr=127.0.0.1:${nodes[1].port}&addr=127.0.0.1:${nodes[2].port}`;
    const a = await startApiServer(t, { engine: { type: 'redis', redis: { address: [address], prefix } }, channel });
    const channels = Array.from({ length: 6 }, (_, i) => `hist:s${i}`);
    const subs = [];
    for (const ch of channels) subs.push(await subscriber(t, a.port, ch, `u-${ch}`));
    await eventually(() => subs.every((s) => s.subscribed === 1), { what: 'every subscription' });
    for (const ch of channels) await ok(a.port, 'publish', { channel: ch, data: { ch } });
    await eventually(() => subs.every((s) => s.pubs.length === 1), { what: 'one publication per channel' });
    subs.forEach((s, i) => assert.deepEqual(s.pubs[0], { offset: 1, data: { ch: channels[i] } }));
    // Cluster keys: hash-tagged by channel, spread over the masters.
    const holders = new Set();
    for (const [i, node] of nodes.entries()) {
      const keys = await redisCommand(node.port, 'KEYS', `${prefix}.stream.*`);
      for (const k of keys) assert.match(k, /\.stream\.(meta\.)?\{hist:s\d\}$/);
      if (keys.length > 0) holders.add(i);
    }
    assert.ok(holders.size >= 2, 'streams on several masters');
    assert.deepEqual(await ok(a.port, 'presence_stats', { channel: channels[0] }), { num_clients: 1, num_users: 1 });
  });

  test('a seed list naming a lone server stops start-up with one clear line, as Centrifugo refuses it', async (t) => {
    const redis = await startRedis(t);
    const dir = tempDir(t);
    const file = writeJson(path.join(dir, 'config.json'), {
      engine: { type: 'redis', redis: { address: [`redis://127.0.0.1:${redis.port}?addr=127.0.0.1:${redis.port}`] } },
    });
    const r = runGyre(['-c', file], { timeoutMs: 10000 });
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /engine\.redis\.address: addr= lists Redis Cluster seeds, but 127\.0\.0\.1:\d+ is not a cluster node/);
  });
});
