// End-to-end tests of several gyre nodes on one real redis-server (issue 7, first part): a
// publication made through node B's API reaches centrifuge-js subscribers on node A, history
// written through one node is read through another, and a client that reconnects to another
// node recovers what it missed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, eventually, post, startApiServer, userToken } from './lib/api.mjs';
import { client, decode, encode } from './lib/clients.mjs';
import { redisCommand, startRedis, startRedisCluster, startRedisSentinel } from './lib/redis.mjs';
import { emulationClient } from './lib/transports.mjs';

const open = { allow_subscribe_for_client: true, allow_publish_for_client: true, allow_history_for_client: true };

async function twoNodes(t, { instances = 1, dir } = {}) {
  const all = [];
  for (let i = 0; i < instances; i += 1) all.push(await startRedis(t, { dir }));
  const redis = all[0];
  const engine = {
    type: 'redis',
    redis: { address: all.map((r) => `redis://127.0.0.1:${r.port}`), prefix: `gyre${redis.port}` },
  };
  const channel = {
    without_namespace: { ...open },
    namespaces: [
      { name: 'hist', ...open, history_size: 20, history_ttl: '300s', force_recovery: true },
      { name: 'pres', ...open, presence: true, allow_presence_for_subscriber: true, join_leave: true, force_push_join_leave: true },
    ],
  };
  const a = await startApiServer(t, { engine, channel, health: { enabled: true } });
  const b = await startApiServer(t, { engine, channel, health: { enabled: true } });
  return { redis, all, a, b, prefix: engine.redis.prefix };
}

async function subscriber(t, port, channel, { protobuf = false, user = 'u1', websocket } = {}) {
  const c = client(t, port, { protobuf, token: userToken(user), ...(websocket ? { websocket } : {}) });
  const s = c.newSubscription(channel);
  const pubs = [];
  const subscribed = [];
  s.on('publication', (ctx) => pubs.push({ offset: ctx.offset, data: decode(ctx.data) }));
  s.on('subscribed', (ctx) => subscribed.push(ctx));
  c.connect();
  s.subscribe();
  await eventually(() => subscribed.length === 1, { what: `subscribed to ${channel}` });
  return { c, s, pubs, subscribed };
}

async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json?.error, undefined, r.text);
  return r.json.result;
}

describe('redis engine, two nodes', () => {
  test('a publication through node B reaches subscribers on node A (JSON and Protobuf)', async (t) => {
    const { a, b } = await twoNodes(t);
    const json = await subscriber(t, a.port, 'news');
    const proto = await subscriber(t, a.port, 'news', { protobuf: true, user: 'u2' });
    const local = await subscriber(t, b.port, 'news', { user: 'u3' });
    // `subscribed` comes only once Redis confirmed the node's subscription: nothing published
    // after it can be missed, even through the other node.
    const numbered = (sub) => sub.pubs.filter((p) => p.data.n !== undefined).map((p) => p.data.n);
    for (let n = 1; n <= 5; n += 1) await ok(b.port, 'publish', { channel: 'news', data: { n } });
    await eventually(() => [json, proto, local].every((sub) => numbered(sub).length === 5),
      { what: 'five publications on both nodes' });
    for (const sub of [json, proto, local]) assert.deepEqual(numbered(sub), [1, 2, 3, 4, 5]);
    // A raw JSON payload keeps its exact bytes across Redis.
    await ok(a.port, 'publish', { channel: 'news', data: { n: 6, x: 1.5, s: 'é' } });
    await eventually(() => numbered(local).length === 6, { what: 'publication from A on B' });
    assert.deepEqual(local.pubs.at(-1).data, { n: 6, x: 1.5, s: 'é' });
  });

  test('history written through one node is read through the other, offsets shared', async (t) => {
    const { a, b } = await twoNodes(t);
    const results = [];
    for (let n = 1; n <= 3; n += 1) results.push(await ok(a.port, 'publish', { channel: 'hist:h1', data: { n } }));
    assert.deepEqual(results.map((r) => r.offset), [1, 2, 3]);
    const epoch = results[0].epoch;
    assert.match(epoch, /^[A-Za-z]{8}$/);
    assert.equal(results[2].epoch, epoch);
    assert.deepEqual(await ok(b.port, 'publish', { channel: 'hist:h1', data: { n: 4 } }), { offset: 4, epoch });
    const h = await ok(b.port, 'history', { channel: 'hist:h1', limit: -1 });
    assert.equal(h.epoch, epoch);
    assert.equal(h.offset, 4);
    assert.deepEqual(h.publications.map((p) => [p.offset, p.data.n]), [[1, 1], [2, 2], [3, 3], [4, 4]]);
    const since = await ok(a.port, 'history', { channel: 'hist:h1', limit: 2, since: { offset: 1, epoch } });
    assert.deepEqual(since.publications.map((p) => p.offset), [2, 3]);
    const rev = await ok(a.port, 'history', { channel: 'hist:h1', limit: 2, reverse: true });
    assert.deepEqual(rev.publications.map((p) => p.offset), [4, 3]);
    // Idempotent publish: the same key through either node gets the first result.
    const first = await ok(a.port, 'publish', { channel: 'hist:h1', data: { n: 5 }, idempotency_key: 'k1' });
    assert.deepEqual(await ok(b.port, 'publish', { channel: 'hist:h1', data: { n: 5 }, idempotency_key: 'k1' }), first);
    assert.equal((await ok(a.port, 'history', { channel: 'hist:h1', limit: 0 })).offset, 5);
  });

  test('a subscriber that moves to the other node recovers what it missed', async (t) => {
    const { a, b } = await twoNodes(t);
    const sub = await subscriber(t, a.port, 'hist:moving');
    const { epoch } = sub.subscribed[0].streamPosition;
    await ok(b.port, 'publish', { channel: 'hist:moving', data: { live: 1 } });
    await eventually(() => sub.pubs.length === 1, { what: 'live delivery' });
    const seen = sub.pubs.at(-1).offset;
    // Move: disconnect from A, publish while away, connect to B with the same subscription.
    sub.c.disconnect();
    for (let n = 1; n <= 3; n += 1) await ok(a.port, 'publish', { channel: 'hist:moving', data: { n } });
    const onB = client(t, b.port, { token: userToken('u1') });
    const s2 = onB.newSubscription('hist:moving', { since: { offset: seen, epoch } });
    const got = [];
    const ctxs = [];
    s2.on('publication', (ctx) => got.push(ctx.offset));
    s2.on('subscribed', (ctx) => ctxs.push(ctx));
    onB.connect();
    s2.subscribe();
    await eventually(() => ctxs.length === 1, { what: 'subscribed on node B' });
    assert.equal(ctxs[0].wasRecovering, true);
    assert.equal(ctxs[0].recovered, true);
    await eventually(() => got.length === 3, { what: 'the three missed publications' });
    assert.deepEqual(got, [seen + 1, seen + 2, seen + 3]);
  });

  test('with redis down API calls answer 100 and nothing hangs; service resumes after', async (t) => {
    const { redis, a } = await twoNodes(t);
    await ok(a.port, 'publish', { channel: 'hist:x', data: { n: 1 } });
    await redis.stop();
    const started = Date.now();
    const r = await api(a.port, 'publish', { channel: 'hist:x', data: { n: 2 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.error?.code, 100, r.text);
    const h = await api(a.port, 'history', { channel: 'hist:x', limit: -1 });
    assert.equal(h.json.error?.code, 100, h.text);
    assert.ok(Date.now() - started < 5000, 'answers come quickly, not after a hang');
    // A client subscribing meanwhile is told to reconnect (3004) and gets there once Redis
    // is back.
    const c = client(t, a.port, { token: userToken('late') });
    const s = c.newSubscription('late');
    const disconnects = [];
    c.on('disconnected', (ctx) => disconnects.push(ctx.code));
    c.on('connecting', (ctx) => disconnects.push(ctx.code));
    let subscribed = false;
    s.on('subscribed', () => { subscribed = true; });
    c.connect();
    s.subscribe();
    await eventually(() => disconnects.includes(3004), { what: 'a 3004 while redis is down' });
    assert.equal(subscribed, false);
    await startRedis(t, { port: redis.port });
    await eventually(async () => (await api(a.port, 'publish', { channel: 'hist:x', data: { n: 3 } })).json?.error === undefined,
      { what: 'publishing again once redis is back', timeoutMs: 10000 });
    await eventually(() => subscribed, { what: 'the late subscription', timeoutMs: 10000 });
    assert.equal(a.server.exited, null);
  });
  test('redis restarts with its data: /health stays 200, subscribers stay and get every publication', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gyre-redis-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const { redis, a, b } = await twoNodes(t, { dir });
    const health = async (port) => (await post(port, '/health', undefined, { method: 'GET' })).status;
    assert.equal(await health(a.port), 200);
    const sub = await subscriber(t, a.port, 'hist:r');
    const events = [];
    sub.c.on('disconnected', (ctx) => events.push(`disconnected ${ctx.code}`));
    sub.s.on('unsubscribed', (ctx) => events.push(`unsubscribed ${ctx.code}`));
    await ok(b.port, 'publish', { channel: 'hist:r', data: { n: 1 } });
    await eventually(() => sub.pubs.length === 1, { what: 'the first publication' });
    await redisCommand(redis.port, 'SHUTDOWN').catch(() => {}); // saves, then the link drops
    const probe = async (port) => (await api(port, 'publish', { channel: 'probe', data: {} })).json?.error?.code;
    await eventually(async () => (await probe(b.port)) === 100, { what: 'publish to fail with 100 while redis is down' });
    assert.equal(await health(a.port), 200, 'liveness only, as Centrifugo');
    await startRedis(t, { port: redis.port, dir });
    for (const node of [a, b]) {
      await eventually(async () => (await probe(node.port)) === undefined, { what: 'publishing again once redis is back', timeoutMs: 10000 });
    }
    // Each shard has its own command link, and the probe above proved only one per node: a
    // publish answered 100 by a link still reconnecting was not made, so it is made again.
    const publishOnce = (n) => eventually(async () => {
      const r = await api(b.port, 'publish', { channel: 'hist:r', data: { n } });
      if (r.json?.error && r.json.error.code !== 100) assert.fail(r.text);
      return r.status === 200 && r.json?.error === undefined;
    }, { what: `publication ${n} accepted`, timeoutMs: 10000 });
    for (let n = 2; n <= 4; n += 1) await publishOnce(n);
    // Node A's PUB/SUB link may come back later still (/health no longer waits for it). A
    // publication made before node A resubscribed is recovered from the kept stream once a
    // later one reveals the gap, so keep publishing now and then (well within the namespace's
    // history_size of 20).
    let n = 5;
    let last = 0;
    await eventually(async () => {
      if (sub.pubs.length >= 4) return true;
      if (Date.now() - last > 300) {
        last = Date.now();
        await publishOnce(n++);
      }
      return false;
    }, { what: 'publications after the restart', timeoutMs: 10000 });
    assert.deepEqual(sub.pubs.slice(0, 4).map((p) => [p.offset, p.data.n]), [[1, 1], [2, 2], [3, 3], [4, 4]]);
    assert.equal(events.filter((e) => e.startsWith('disconnected')).length, 0, events.join());
  });
  test('redis restarts empty: the subscriber is told its stream is gone and goes on', async (t) => {
    const { redis, a, b } = await twoNodes(t);
    const sub = await subscriber(t, a.port, 'hist:e');
    await ok(b.port, 'publish', { channel: 'hist:e', data: { n: 1 } });
    await eventually(() => sub.pubs.length === 1, { what: 'the first publication' });
    await redis.stop();
    await startRedis(t, { port: redis.port });
    await eventually(async () => (await api(b.port, 'publish', { channel: 'hist:e', data: { n: 2 } })).json?.error === undefined,
      { what: 'publishing once redis is back', timeoutMs: 10000 });
    // A new epoch: the next publication node A hears reveals the gap; the client resubscribes
    // (2500) and learns recovery failed. (Node A may resubscribe to Redis after the first
    // publications, so keep publishing until one arrives.)
    let n = 100;
    // (Each shard of node B has its own Redis link: one may still be reconnecting, so an
    // error here is retried, not fatal.)
    await eventually(async () => {
      await api(b.port, 'publish', { channel: 'hist:e', data: { n: n++ } });
      return sub.subscribed.some((ctx) => ctx.wasRecovering && !ctx.recovered);
    }, { what: 'a resubscribe that could not recover', timeoutMs: 10000 });
    await eventually(async () => {
      if (sub.pubs.some((p) => p.data.n === 3)) return true;
      await api(b.port, 'publish', { channel: 'hist:e', data: { n: 3 } });
      return false;
    }, { what: 'publications in the new stream', timeoutMs: 10000 });
  });
  test('a publication lost on its way to a node is found by the position check and recovered', async (t) => {
    const redis = await startRedis(t);
    const prefix = `gyrepos${redis.port}`;
    const engine = { type: 'redis', redis: { address: [`127.0.0.1:${redis.port}`], prefix } };
    const channel = { without_namespace: { ...open },
      namespaces: [{ name: 'hist', ...open, history_size: 20, history_ttl: '300s', force_recovery: true }] };
    const a = await startApiServer(t, { engine, channel, client: { channel_position_check_delay: '1s' } });
    const sub = await subscriber(t, a.port, 'hist:p');
    await ok(a.port, 'publish', { channel: 'hist:p', data: { n: 1 } });
    await eventually(() => sub.pubs.length === 1, { what: 'the first publication' });
    // Write the next publication into the stream without its PUB/SUB message, as if the
    // message had been lost between Redis and the node (protobuf Publication, data = field 4).
    const offset = await redisCommand(redis.port, 'HINCRBY', `${prefix}.stream.meta.hist:p`, 's', '1');
    await redisCommand(redis.port, 'XADD', `${prefix}.stream.hist:p`, String(offset), 'd', '\x22\x07{"n":2}');
    await eventually(() => sub.pubs.length === 2, { what: 'the lost publication recovered', timeoutMs: 8000 });
    assert.deepEqual(sub.pubs[1], { offset: 2, data: { n: 2 } });
    assert.ok(sub.subscribed.at(-1).recovered, 'resubscribed and recovered');
  });
  test('server API user commands through node B reach the user on node A', async (t) => {
    const { a, b } = await twoNodes(t);
    const c = client(t, a.port, { token: userToken('remote-user') });
    const serverSubs = [];
    const pubs = [];
    const disconnects = [];
    c.on('subscribed', (ctx) => serverSubs.push(ctx.channel));
    c.on('publication', (ctx) => pubs.push(decode(ctx.data)));
    c.on('disconnected', (ctx) => disconnects.push(ctx.code));
    c.connect();
    await eventually(() => c.state === 'connected', { what: 'client on node A' });
    assert.deepEqual(await ok(b.port, 'subscribe', { user: 'remote-user', channel: 'pushed' }), {});
    await eventually(() => serverSubs.includes('pushed'), { what: 'server-side subscription from node B' });
    await ok(b.port, 'publish', { channel: 'pushed', data: { via: 'b' } });
    await eventually(() => pubs.length === 1, { what: 'publication on the pushed channel' });
    assert.deepEqual(pubs[0], { via: 'b' });
    const unsubscribed = [];
    c.on('unsubscribed', (ctx) => unsubscribed.push(ctx.channel));
    assert.deepEqual(await ok(b.port, 'unsubscribe', { user: 'remote-user', channel: 'pushed' }), {});
    await eventually(() => unsubscribed.includes('pushed'), { what: 'the unsubscribe from node B' });
    assert.deepEqual(await ok(b.port, 'disconnect', {
      user: 'remote-user', disconnect: { code: 4501, reason: 'from b' },
    }), {});
    await eventually(() => disconnects.includes(4501), { what: 'the disconnect from node B' });
  });
  test('info lists every node with its counts', async (t) => {
    const { a, b } = await twoNodes(t);
    const c = client(t, b.port, { token: userToken('counted') });
    c.connect();
    await eventually(() => c.state === 'connected', { what: 'client on node B' });
    let nodes = [];
    await eventually(async () => {
      nodes = (await ok(a.port, 'info', {})).nodes;
      return nodes.length === 2 && nodes.some((n) => n.num_clients === 1);
    }, { what: 'node A to hear of node B and its client', timeoutMs: 10000 });
    assert.equal(new Set(nodes.map((n) => n.uid)).size, 2);
    assert.deepEqual(nodes.map((n) => n.num_clients).sort(), [0, 1]);
    for (const n of nodes) assert.ok(n.version && n.name, JSON.stringify(n));
  });
  test('channels sums subscribers over every node', async (t) => {
    const { a, b } = await twoNodes(t);
    await subscriber(t, a.port, 'room1', { user: 'x1' });
    await subscriber(t, a.port, 'room2', { user: 'x2' });
    await subscriber(t, b.port, 'room1', { user: 'x3', protobuf: true });
    await subscriber(t, b.port, 'room3', { user: 'x4' });
    // Node A must first hear of node B (announced every 3 s) to ask it.
    await eventually(async () => (await ok(a.port, 'info', {})).nodes.length === 2,
      { what: 'node A to hear of node B', timeoutMs: 10000 });
    const expected = { 'room1': { num_clients: 2 }, 'room2': { num_clients: 1 }, 'room3': { num_clients: 1 } };
    for (const port of [a.port, b.port]) {
      await eventually(async () => {
        const r = await ok(port, 'channels', {});
        return JSON.stringify(Object.fromEntries(Object.entries(r.channels).sort())) === JSON.stringify(expected);
      }, { what: `channels through ${port === a.port ? 'A' : 'B'} to sum both nodes`, timeoutMs: 10000 });
    }
    assert.deepEqual((await ok(a.port, 'channels', { pattern: 'room1' })).channels, { 'room1': { num_clients: 2 } });
  });
  test('presence is node-wide: clients on both nodes, seen through either', async (t) => {
    const { a, b } = await twoNodes(t);
    const onA = await subscriber(t, a.port, 'pres:room', { user: 'alice' });
    const joins = [];
    const leaves = [];
    onA.s.on('join', (ctx) => joins.push(ctx.info.user));
    onA.s.on('leave', (ctx) => leaves.push(ctx.info.user));
    const onB = await subscriber(t, b.port, 'pres:room', { user: 'bob', protobuf: true });
    await eventually(() => joins.includes('bob'), { what: 'bob\'s join (node B) seen on node A' });
    for (const port of [a.port, b.port]) {
      const p = await ok(port, 'presence', { channel: 'pres:room' });
      assert.deepEqual(Object.values(p.presence).map((i) => i.user).sort(), ['alice', 'bob']);
      assert.deepEqual(await ok(port, 'presence_stats', { channel: 'pres:room' }), { num_clients: 2, num_users: 2 });
    }
    onB.c.disconnect();
    await eventually(() => leaves.includes('bob'), { what: 'bob\'s leave (node B) seen on node A' });
    await eventually(async () => (await ok(a.port, 'presence_stats', { channel: 'pres:room' })).num_clients === 1,
      { what: 'bob to leave the presence' });
    onA.c.disconnect();
    await eventually(async () => (await ok(b.port, 'presence_stats', { channel: 'pres:room' })).num_clients === 0,
      { what: 'alice to leave the presence' });
  });
});

describe('redis engine, channels sharded over three instances', () => {
  test('each channel lives on one instance; delivery and history work on all; one down fails only its channels', async (t) => {
    const { all, a, b, prefix } = await twoNodes(t, { instances: 3 });
    const channels = Array.from({ length: 12 }, (_, i) => `hist:c${i}`);
    const subs = [];
    for (const ch of channels) subs.push(await subscriber(t, a.port, ch, { user: `u-${ch}` }));
    for (const ch of channels) await ok(b.port, 'publish', { channel: ch, data: { ch } });
    await eventually(() => subs.every((s) => s.pubs.length === 1), { what: 'one publication per channel on node A' });
    subs.forEach((s, i) => assert.deepEqual(s.pubs[0], { offset: 1, data: { ch: channels[i] } }));
    // Every channel's stream is on exactly one instance, and the channels use all three.
    const owner = new Map();
    for (const [i, r] of all.entries()) {
      for (const key of await redisCommand(r.port, 'KEYS', `${prefix}.stream.hist:*`)) {
        const ch = key.slice(`${prefix}.stream.`.length);
        assert.equal(owner.has(ch), false, `${ch} on two instances`);
        owner.set(ch, i);
      }
    }
    assert.deepEqual([...owner.keys()].sort(), [...channels].sort());
    assert.equal(new Set(owner.values()).size, 3, 'channels spread over all instances');
    for (const ch of channels) {
      const h = await ok(a.port, 'history', { channel: ch, limit: -1 });
      assert.deepEqual(h.publications.map((p) => p.data), [{ ch }]);
    }
    // With one instance gone only its channels fail; the others still publish.
    const down = owner.get(channels[0]);
    await all[down].stop();
    for (const ch of channels) {
      const r = await api(b.port, 'publish', { channel: ch, data: { again: true } });
      if (owner.get(ch) === down) assert.equal(r.json?.error?.code, 100, r.text);
      else assert.equal(r.json?.error, undefined, r.text);
    }
  });
});

describe('redis engine on a Redis Cluster', () => {
  test('two nodes on a three-master cluster (one recognising it from a plain address): delivery, history, presence, keys hash-tagged', async (t) => {
    const nodes = await startRedisCluster(t);
    const prefix = `gyrec${nodes[0].port}`;
    const engine = {
      type: 'redis',
      redis: { address: [`redis+cluster://127.0.0.1:${nodes[0].port}?addr=127.0.0.1:${nodes[1].port}`], prefix },
    };
    const channel = {
      without_namespace: { ...open },
      namespaces: [{ name: 'hist', ...open, history_size: 20, history_ttl: '300s', force_recovery: true,
        presence: true, allow_presence_for_subscriber: true }],
    };
    const a = await startApiServer(t, { engine, channel });
    // Node B names one node with a plain address: it recognises the cluster by itself.
    const plain = { type: 'redis', redis: { address: [`127.0.0.1:${nodes[2].port}`], prefix } };
    const b = await startApiServer(t, { engine: plain, channel });
    assert.match(b.server.output, /is a cluster node/);
    const channels = Array.from({ length: 9 }, (_, i) => `hist:k${i}`);
    const subs = [];
    for (const ch of channels) subs.push(await subscriber(t, a.port, ch, { user: `u-${ch}`, protobuf: ch.endsWith('1') }));
    for (const ch of channels) {
      for (let n = 1; n <= 2; n += 1) await ok(b.port, 'publish', { channel: ch, data: { ch, n } });
    }
    await eventually(() => subs.every((s) => s.pubs.length === 2), { what: 'two publications per channel on node A' });
    subs.forEach((s, i) => assert.deepEqual(s.pubs, [1, 2].map((n) => ({ offset: n, data: { ch: channels[i], n } }))));
    // Each channel's keys share one slot ({channel}), and the channels cover every master.
    const holders = new Set();
    for (const [i, node] of nodes.entries()) {
      const keys = await redisCommand(node.port, 'KEYS', `${prefix}.stream.*`);
      for (const k of keys) assert.match(k, /\.stream\.(meta\.)?\{hist:k\d\}$/);
      if (keys.length > 0) holders.add(i);
    }
    assert.equal(holders.size, 3, 'streams on every master');
    for (const ch of channels) {
      const h = await ok(a.port, 'history', { channel: ch, limit: -1 });
      assert.deepEqual(h.publications.map((p) => p.data.n), [1, 2]);
      const p = await ok(b.port, 'presence_stats', { channel: ch });
      assert.deepEqual(p, { num_clients: 1, num_users: 1 });
    }
    const again = await ok(b.port, 'publish', { channel: channels[0], data: { x: 1 }, idempotency_key: 'k1' });
    assert.deepEqual(await ok(a.port, 'publish', { channel: channels[0], data: { x: 1 }, idempotency_key: 'k1' }), again);
  });
});

describe('redis engine through Sentinel', () => {
  test('after a failover both nodes follow the new master: nobody is left deaf', async (t) => {
    const { replica, sentinel, masterPort } = await startRedisSentinel(t);
    const engine = {
      type: 'redis',
      redis: { address: [`redis+sentinel://127.0.0.1:${sentinel.port}?sentinel_master_name=mymaster`], prefix: `gyres${sentinel.port}` },
    };
    const channel = { without_namespace: { ...open },
      namespaces: [{ name: 'hist', ...open, history_size: 50, history_ttl: '300s', force_recovery: true }] };
    const a = await startApiServer(t, { engine, channel, health: { enabled: true } });
    const b = await startApiServer(t, { engine, channel, health: { enabled: true } });
    const sub = await subscriber(t, a.port, 'hist:f');
    await ok(b.port, 'publish', { channel: 'hist:f', data: { n: 1 } });
    await eventually(() => sub.pubs.length === 1, { what: 'a publication before the failover' });
    await redisCommand(sentinel.port, 'SENTINEL', 'FAILOVER', 'mymaster');
    await eventually(async () => (await masterPort()) === replica.port, { what: 'the replica promoted', timeoutMs: 15000 });
    // Both nodes' PUB/SUB connections move to the new master (a subscriber left on the old
    // one would go deaf once it is gone).
    await eventually(async () => {
      const clients = String(await redisCommand(replica.port, 'CLIENT', 'LIST'));
      return (clients.match(/cmd=subscribe/g) || []).length >= 2;
    }, { what: 'both nodes subscribed on the new master', timeoutMs: 15000 });
    let n = 2;
    await eventually(async () => {
      const r = await api(b.port, 'publish', { channel: 'hist:f', data: { n } });
      if (r.json?.error === undefined) n += 1;
      return sub.pubs.some((p) => p.data.n >= 2);
    }, { what: 'a publication after the failover on node A', timeoutMs: 15000 });
    const last = n - 1;
    await eventually(() => sub.pubs.at(-1)?.data.n === last, { what: 'every publication made after the failover' });
    await eventually(async () => (await fetch(`http://127.0.0.1:${a.port}/health`)).status === 200,
      { what: '/health of node A back to 200 (every link on the new master)', timeoutMs: 10000 });
  });
});

describe('redis presence with presence_user_mapping', () => {
  test('users are counted in their own keys, across nodes and repeated connections', async (t) => {
    const redis = await startRedis(t);
    const prefix = `gyreum${redis.port}`;
    const engine = { type: 'redis', redis: { address: [`127.0.0.1:${redis.port}`], prefix, presence_user_mapping: true } };
    const channel = { without_namespace: { ...open, presence: true, allow_presence_for_subscriber: true } };
    const a = await startApiServer(t, { engine, channel });
    const b = await startApiServer(t, { engine, channel });
    const ann1 = await subscriber(t, a.port, 'um', { user: 'ann' });
    await subscriber(t, b.port, 'um', { user: 'ann' });
    await subscriber(t, b.port, 'um', { user: 'bob' });
    for (const port of [a.port, b.port]) {
      assert.deepEqual(await ok(port, 'presence_stats', { channel: 'um' }), { num_clients: 3, num_users: 2 });
    }
    assert.equal(String(await redisCommand(redis.port, 'HGET', `${prefix}.presence.user.clients.um`, 'ann')), '2');
    ann1.c.disconnect();
    await eventually(async () => (await ok(b.port, 'presence_stats', { channel: 'um' })).num_clients === 2,
      { what: 'one of ann\'s connections to leave' });
    assert.deepEqual(await ok(b.port, 'presence_stats', { channel: 'um' }), { num_clients: 2, num_users: 2 });
    assert.equal(String(await redisCommand(redis.port, 'HGET', `${prefix}.presence.user.clients.um`, 'ann')), '1');
  });
});

describe('broker and presence_manager set separately', () => {
  test('PUB/SUB and history on one redis, presence on another, both node-wide', async (t) => {
    const pubsub = await startRedis(t);
    const presence = await startRedis(t);
    const prefix = `gyresep${pubsub.port}`;
    const config = {
      broker: { enabled: true, type: 'redis', redis: { address: [`127.0.0.1:${pubsub.port}`], prefix } },
      presence_manager: { enabled: true, type: 'redis', redis: { address: [`redis://127.0.0.1:${presence.port}`], prefix } },
      channel: { without_namespace: { ...open },
        namespaces: [{ name: 'both', ...open, history_size: 10, history_ttl: '300s', presence: true,
          allow_presence_for_subscriber: true }] },
    };
    const a = await startApiServer(t, config);
    const b = await startApiServer(t, config);
    const onA = await subscriber(t, a.port, 'both:x', { user: 'ann' });
    await subscriber(t, b.port, 'both:x', { user: 'ben' });
    await ok(b.port, 'publish', { channel: 'both:x', data: { n: 1 } });
    await eventually(() => onA.pubs.length === 1, { what: 'the publication from node B on node A' });
    assert.deepEqual(await ok(a.port, 'presence_stats', { channel: 'both:x' }), { num_clients: 2, num_users: 2 });
    const keysOn = async (r) => (await redisCommand(r.port, 'KEYS', `${prefix}.*`)).sort();
    const pubsubKeys = await keysOn(pubsub);
    const presenceKeys = await keysOn(presence);
    assert.ok(pubsubKeys.includes(`${prefix}.stream.both:x`), pubsubKeys.join());
    assert.ok(pubsubKeys.every((k) => !k.includes('.presence.')), pubsubKeys.join());
    assert.deepEqual(presenceKeys, [`${prefix}.presence.data.both:x`, `${prefix}.presence.expire.both:x`]);
  });
});

describe('emulation across nodes', () => {
  test('a stream on node A driven through node B\'s /emulation: B forwards to A over Redis', async (t) => {
    const redis = await startRedis(t);
    const engine = { type: 'redis', redis: { address: [`redis://127.0.0.1:${redis.port}`], prefix: `gyre${redis.port}` } };
    const cfg = { engine, channel: { without_namespace: { ...open } }, http_stream: { enabled: true }, sse: { enabled: true } };
    const a = await startApiServer(t, cfg);
    const b = await startApiServer(t, cfg);
    // B routes only to nodes it has heard from: wait until each lists the other.
    await eventually(async () => (await api(b.port, 'info', {})).json?.result?.nodes?.length === 2,
      { timeoutMs: 15000, what: 'node B hears node A' });
    for (const [transport, protobuf] of [['http_stream', false], ['http_stream', true], ['sse', false]]) {
      const c = emulationClient(t, a.port, {
        transports: [transport], protobuf, token: userToken(`u-${transport}-${protobuf}`),
        emulationEndpoint: `http://127.0.0.1:${b.port}/emulation`,
      });
      const s = c.newSubscription(`x-${transport}-${protobuf}`);
      const pubs = [];
      s.on('publication', (ctx) => pubs.push(decode(ctx.data)));
      c.connect();
      s.subscribe();
      // The subscribe command itself travelled A <- B: being subscribed proves the forwarding.
      await s.ready(5000);
      await s.publish(protobuf ? encode({ via: 'b' }) : { via: 'b' }); // the publish command too
      await ok(a.port, 'publish', { channel: `x-${transport}-${protobuf}`, data: { via: 'api' } });
      await eventually(() => pubs.length === 2, { what: `both publications over ${transport}` });
      assert.deepEqual(pubs, [{ via: 'b' }, { via: 'api' }]);
      c.disconnect();
    }
    // A node id that neither node knows: 404, as Centrifugo answers.
    const r = await post(b.port, '/emulation', { node: 'no-such-node', session: 's', data: '{}' }, { key: '' });
    assert.equal(r.status, 404);
  });
});
