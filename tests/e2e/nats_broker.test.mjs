// End-to-end tests of the NATS broker: two gyre nodes on one real nats-server. Publications made
// through node B reach subscribers on node A byte for byte, control messages make `info` and
// the user commands cluster-wide, history is not kept (as in Centrifugo's NATS broker), publishes
// fail while NATS is down and delivery resumes once it is back (libnats resubscribes).
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { API_KEY, api, eventually, post, startApiServer, userToken } from './lib/api.mjs';
import { WebSocket, client, decode } from './lib/clients.mjs';
import { freePort, runGyre, tempDir, writeJson } from './lib/gyre.mjs';
import { natsSubscribe, startNats } from './lib/nats.mjs';
import { redisCommand, startRedis } from './lib/redis.mjs';

const open = { allow_subscribe_for_client: true, allow_publish_for_client: true, allow_history_for_client: true };
const channel = {
  without_namespace: { ...open },
  namespaces: [{ name: 'hist', ...open, history_size: 10, history_ttl: '300s' }],
};

/** Node A with v6 keys, node B with the legacy flat keys (`broker: "nats"`, `nats_url`, `nats_prefix`). */
async function twoNodes(t) {
  const nats = await startNats(t);
  const prefix = `gyre${nats.port}`;
  const health = { enabled: true };
  const a = await startApiServer(t, { channel, health, broker: { enabled: true, type: 'nats', nats: { url: nats.url, prefix } } });
  const b = await startApiServer(t, { channel, health, broker: 'nats', nats_url: nats.url, nats_prefix: prefix });
  for (const n of [a, b]) assert.match(n.server.output, new RegExp(`using nats broker url=${nats.url} prefix=${prefix}`));
  return { nats, a, b, prefix };
}

async function subscriber(t, port, ch, { protobuf = false, user = 'u1' } = {}) {
  const c = client(t, port, { protobuf, token: userToken(user) });
  const s = c.newSubscription(ch);
  const pubs = [];
  const subscribed = [];
  s.on('publication', (ctx) => pubs.push(ctx));
  s.on('subscribed', (ctx) => subscribed.push(ctx));
  c.connect();
  s.subscribe();
  await eventually(() => subscribed.length === 1, { what: `subscribed to ${ch}` });
  return { c, s, pubs, subscribed };
}

/** A raw JSON-protocol WebSocket peer subscribed to `ch`: keeps the text frames as received. */
async function rawJsonSubscriber(t, port, ch) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`);
  t.after(() => ws.terminate());
  const frames = [];
  ws.on('message', (data) => frames.push(data.toString()));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  ws.send(JSON.stringify({ id: 1, connect: { token: userToken('raw') } }));
  ws.send(JSON.stringify({ id: 2, subscribe: { channel: ch } }));
  await eventually(() => frames.some((f) => f.includes('"id":2')), { what: 'raw subscribe reply' });
  return frames;
}

async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json?.error, undefined, r.text);
  return r.json.result;
}

// Bytes a JSON round trip would change (1.50, \u00e9, a number beyond 2^64, spacing).
const exact = '{"x":1.50,"s":"\\u00e9","big":123456789012345678901234567890, "arr":[1, 2]}';

describe('nats broker, two nodes', () => {
  test('a publication through node B reaches JSON and Protobuf subscribers on node A, bytes intact', async (t) => {
    const { a, b } = await twoNodes(t);
    const json = await subscriber(t, a.port, 'news');
    const proto = await subscriber(t, a.port, 'news', { protobuf: true, user: 'u2' });
    const raw = await rawJsonSubscriber(t, a.port, 'news');
    const local = await subscriber(t, b.port, 'news', { user: 'u3' });
    // `subscribed` comes once NATS confirmed the node's SUB: nothing published later is missed.
    for (let n = 1; n <= 5; n += 1) assert.deepEqual(await ok(b.port, 'publish', { channel: 'news', data: { n } }), {});
    await eventually(() => [json, proto, local].every((s) => s.pubs.length === 5), { what: 'five publications on both nodes' });
    for (const s of [json, proto, local]) assert.deepEqual(s.pubs.map((p) => decode(p.data).n), [1, 2, 3, 4, 5]);
    // Exact bytes: sent as a raw API body, compared as bytes (Protobuf) and as frame text (JSON).
    const r = await api(b.port, 'publish', `{"channel":"news","data":${exact}}`);
    assert.equal(r.text, '{"result":{}}');
    await eventually(() => proto.pubs.length === 6 && json.pubs.length === 6, { what: 'the exact publication' });
    assert.equal(Buffer.from(proto.pubs[5].data).toString('latin1'), Buffer.from(exact).toString('latin1'));
    assert.equal(json.pubs[5].data.x, 1.5);
    await eventually(() => raw.some((f) => f.includes(`"data":${exact}`)), { what: 'the exact bytes in a JSON frame' });
    assert.equal(json.pubs[5].offset, undefined, 'no offsets without history');
  });

  test('the payload on NATS is Centrifugo\'s: a protobuf Push on <prefix>.client.<channel>', async (t) => {
    const { nats, b, prefix } = await twoNodes(t);
    const sub = await natsSubscribe(t, nats.port, `${prefix}.client.>`);
    await ok(b.port, 'publish', { channel: 'wire', data: { w: 1 } });
    await eventually(() => sub.msgs.length === 1, { what: 'the publication on NATS' });
    const { subject, data } = sub.msgs[0];
    assert.equal(subject, `${prefix}.client.wire`);
    // Push { channel (2) = "wire", pub (4) = Publication { data (4) = {"w":1} } }.
    const body = Buffer.from('{"w":1}');
    const pub = Buffer.concat([Buffer.from([0x22, body.length]), body]);
    assert.deepEqual(data.subarray(0, 6), Buffer.concat([Buffer.from([0x12, 4]), Buffer.from('wire')]));
    assert.equal(data[6], 0x22);
    assert.ok(data.subarray(8).subarray(0, pub.length).equals(pub), data.toString('hex'));
  });

  test('info on either node lists both nodes', async (t) => {
    const { a, b } = await twoNodes(t);
    const c = client(t, b.port, { token: userToken('counted') });
    c.connect();
    await eventually(() => c.state === 'connected', { what: 'client on node B' });
    for (const port of [a.port, b.port]) {
      let nodes = [];
      await eventually(async () => {
        nodes = (await ok(port, 'info', {})).nodes;
        return nodes.length === 2 && nodes.some((n) => n.num_clients === 1);
      }, { what: `node on ${port} to list both nodes`, timeoutMs: 10000 });
      assert.equal(new Set(nodes.map((n) => n.uid)).size, 2);
      assert.deepEqual(nodes.map((n) => n.num_clients).sort(), [0, 1]);
    }
  });

  test('API unsubscribe and disconnect sent to node B reach the user on node A', async (t) => {
    const { a, b } = await twoNodes(t);
    const sub = await subscriber(t, a.port, 'room', { user: 'remote-user' });
    const unsubscribed = [];
    const disconnects = [];
    sub.s.on('unsubscribed', (ctx) => unsubscribed.push(ctx.code));
    sub.c.on('disconnected', (ctx) => disconnects.push(ctx.code));
    assert.deepEqual(await ok(b.port, 'unsubscribe', { user: 'remote-user', channel: 'room' }), {});
    await eventually(() => unsubscribed.length === 1, { what: 'the unsubscribe from node B' });
    assert.deepEqual(await ok(b.port, 'disconnect', { user: 'remote-user', disconnect: { code: 4501, reason: 'from b' } }), {});
    await eventually(() => disconnects.includes(4501), { what: 'the disconnect from node B' });
  });

  test('history namespaces: publish succeeds without a position, history answers 100 (as Centrifugo)', async (t) => {
    const { a, b } = await twoNodes(t);
    const sub = await subscriber(t, a.port, 'hist:h1');
    // Centrifugo's NATS broker ignores the history and idempotency options: no offset, no epoch,
    // and a repeated idempotency key is delivered again.
    assert.deepEqual(await ok(b.port, 'publish', { channel: 'hist:h1', data: { n: 1 } }), {});
    assert.deepEqual(await ok(b.port, 'publish', { channel: 'hist:h1', data: { n: 2 }, idempotency_key: 'k' }), {});
    assert.deepEqual(await ok(b.port, 'publish', { channel: 'hist:h1', data: { n: 2 }, idempotency_key: 'k' }), {});
    await eventually(() => sub.pubs.length === 3, { what: 'three publications' });
    assert.deepEqual(sub.pubs.map((p) => [decode(p.data).n, p.offset]), [[1, undefined], [2, undefined], [2, undefined]]);
    for (const port of [a.port, b.port]) {
      const h = await api(port, 'history', { channel: 'hist:h1', limit: -1 });
      assert.equal(h.status, 200);
      assert.deepEqual(h.json, { error: { code: 100, message: 'internal server error' } }, h.text);
    }
    // Without history configured the channel answers 108 before the broker is asked.
    assert.equal((await api(a.port, 'history', { channel: 'news' })).json.error?.code, 108);
  });

  test('nats-server down: publish answers 100 at once; after a restart on the same port delivery resumes', async (t) => {
    const { nats, a, b } = await twoNodes(t);
    const sub = await subscriber(t, a.port, 'live', { protobuf: true });
    await ok(b.port, 'publish', { channel: 'live', data: { n: 1 } });
    await eventually(() => sub.pubs.length === 1, { what: 'delivery before the outage' });
    assert.equal((await post(b.port, '/health', undefined, { method: 'GET' })).status, 200);
    await nats.stop();
    await eventually(() => /nats disconnected/.test(b.server.output), { what: 'node B to notice NATS is gone' });
    assert.equal((await post(b.port, '/health', undefined, { method: 'GET' })).status, 200, 'liveness only, as Centrifugo');
    const started = Date.now();
    const r = await api(b.port, 'publish', { channel: 'live', data: { n: 2 } });
    assert.equal(r.status, 200);
    assert.equal(r.json.error?.code, 100, r.text);
    assert.ok(Date.now() - started < 3000, 'answered at once, not after a hang');
    await nats.restart();
    // libnats reconnects and sends node A's SUB again; node B's publishes succeed again.
    await eventually(async () => (await api(b.port, 'publish', { channel: 'live', data: { n: 3 } })).json?.error === undefined,
      { what: 'publishing again once NATS is back', timeoutMs: 15000 });
    // Node B may be back before node A has sent its SUB again (at most once): keep publishing
    // until node A hears one.
    let n = 3;
    await eventually(async () => {
      if (sub.pubs.some((p) => decode(p.data).n >= 3)) return true;
      await api(b.port, 'publish', { channel: 'live', data: { n: ++n } });
      return false;
    }, { what: 'delivery on node A after the restart', timeoutMs: 10000 });
    assert.equal(sub.subscribed.length, 1, 'the subscription survived without resubscribing');
    assert.ok(!sub.pubs.some((p) => decode(p.data).n === 2), 'the failed publish was not delivered');
    assert.equal((await post(b.port, '/health', undefined, { method: 'GET' })).status, 200);
    for (const n of [a, b]) {
      assert.match(n.server.output, /nats reconnected/);
      assert.equal(n.server.exited, null);
    }
  });
});

describe('nats broker with presence in redis', () => {
  test('NATS carries publications, the engine\'s Redis keeps node-wide presence', async (t) => {
    const nats = await startNats(t);
    const redis = await startRedis(t);
    const prefix = `gyrenr${nats.port}`;
    const config = {
      channel: { without_namespace: { ...open, presence: true, allow_presence_for_subscriber: true } },
      engine: { type: 'redis', redis: { address: [`127.0.0.1:${redis.port}`], prefix } },
      broker: { enabled: true, type: 'nats', nats: { url: nats.url, prefix } },
    };
    const a = await startApiServer(t, config);
    const b = await startApiServer(t, config);
    const onA = await subscriber(t, a.port, 'mixed', { user: 'ann' });
    await subscriber(t, b.port, 'mixed', { user: 'ben' });
    await ok(b.port, 'publish', { channel: 'mixed', data: { n: 1 } });
    await eventually(() => onA.pubs.length === 1, { what: 'the publication over NATS' });
    assert.deepEqual(await ok(a.port, 'presence_stats', { channel: 'mixed' }), { num_clients: 2, num_users: 2 });
    assert.deepEqual((await redisCommand(redis.port, 'KEYS', `${prefix}.*`)).sort(),
      [`${prefix}.presence.data.mixed`, `${prefix}.presence.expire.mixed`]);
  });
});

describe('nats broker configuration', () => {
  test('no nats-server at start-up: gyre exits 1 naming the URL (as Centrifugo)', async (t) => {
    const dir = tempDir(t);
    const url = `nats://127.0.0.1:${await freePort()}`;
    const file = writeJson(path.join(dir, 'c.json'), {
      http_server: { port: await freePort() }, http_api: { key: API_KEY },
      broker: { enabled: true, type: 'nats', nats: { url } },
    });
    const r = runGyre(['-c', file]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, new RegExp(`error connecting to ${url}`));
  });

  test('engine.type "nats" is refused naming the key; broker.type is checked', async (t) => {
    const dir = tempDir(t);
    const bad = writeJson(path.join(dir, 'bad.json'), { engine: { type: 'nats' } });
    const r = runGyre(['checkconfig', '-c', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /engine\.type: "nats"/);
    const bad2 = writeJson(path.join(dir, 'bad2.json'), { broker: { enabled: true, type: 'kafka' } });
    const r2 = runGyre(['checkconfig', '-c', bad2]);
    assert.equal(r2.code, 1);
    assert.match(r2.stdout + r2.stderr, /broker\.type: "kafka"/);
    const good = writeJson(path.join(dir, 'good.json'), { broker: 'nats', nats_url: 'nats://127.0.0.1:4222', nats_prefix: 'p' });
    assert.equal(runGyre(['checkconfig', '-c', good]).code, 0);
  });
});
