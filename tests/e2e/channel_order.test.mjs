// Per-channel order (issue 17): publications to one channel reach every subscriber in the order
// the server accepted them. Several publishers, each on its own keep-alive HTTP connection and at
// full speed (each waits only for its own previous reply), publish numbered messages; several
// centrifuge-js subscribers (JSON and Protobuf, on different shards) must see each publisher's
// sequence in order and, with history, offsets that grow by exactly one.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { API_KEY, eventually, startApiServer, userToken } from './lib/api.mjs';
import { client, decode } from './lib/clients.mjs';
import { scrape, series, sum } from './lib/metrics.mjs';
import { startRedis } from './lib/redis.mjs';

const PUBLISHERS = 4;
const PER_PUBLISHER = 250;
const SUBSCRIBERS = 6;
const open = { allow_subscribe_for_client: true };

/** One publisher: its own keep-alive socket, the next publish sent when the last one answered. */
async function publishAll(port, channel, who) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let seq = 0; seq < PER_PUBLISHER; seq += 1) {
      const body = JSON.stringify({ channel, data: { who, seq } });
      const status = await new Promise((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1', port, path: '/api/publish', method: 'POST', agent,
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, 'content-length': Buffer.byteLength(body) },
        }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(status, 200);
    }
  } finally {
    agent.destroy();
  }
}

async function subscribe(t, port, channel, protobuf, user) {
  const c = client(t, port, { protobuf, token: userToken(user) });
  const s = c.newSubscription(channel);
  const got = [];
  let subscribed = false;
  s.on('publication', (ctx) => got.push({ offset: ctx.offset, ...decode(ctx.data) }));
  s.on('subscribed', () => { subscribed = true; });
  c.connect();
  s.subscribe();
  await eventually(() => subscribed, { what: `${user} subscribed` });
  return got;
}

/** Each publisher's sequence in order; with history, offsets strictly one apart. */
function checkOrder(got, who, { history }) {
  const total = PUBLISHERS * PER_PUBLISHER;
  assert.equal(got.length, total, `${who} received ${got.length} of ${total}`);
  const next = new Array(PUBLISHERS).fill(0);
  let inversions = 0;
  for (const p of got) {
    if (p.seq !== next[p.who]) inversions += 1;
    next[p.who] = p.seq + 1;
  }
  assert.equal(inversions, 0, `${who}: ${inversions} publications out of their publisher's order`);
  if (history) {
    for (let i = 1; i < got.length; i += 1) {
      assert.equal(got[i].offset, got[i - 1].offset + 1, `${who}: offset ${got[i].offset} after ${got[i - 1].offset}`);
    }
  }
}

async function run(t, { engine, history }) {
  const ns = history
    ? { name: 'ord', ...open, history_size: 5000, history_ttl: '300s', force_positioning: true }
    : { name: 'ord', ...open };
  const { port } = await startApiServer(t, {
    gyre: { shards: Number(process.env.SHARDS || 4) },
    prometheus: { enabled: true },
    ...(engine ? { engine } : {}),
    channel: { without_namespace: open, namespaces: [ns] },
  });
  const channel = `ord:${history ? 'h' : 'p'}`;
  const received = [];
  for (let i = 0; i < SUBSCRIBERS; i += 1) {
    received.push(await subscribe(t, port, channel, i % 2 === 1, `sub${i}`));
  }
  const publishers = [];
  for (let p = 0; p < PUBLISHERS; p += 1) publishers.push(publishAll(port, channel, p));
  await Promise.all(publishers);
  const total = PUBLISHERS * PER_PUBLISHER;
  await eventually(() => received.every((r) => r.length >= total), { timeoutMs: 20000, what: 'every publication delivered' });
  received.forEach((got, i) => checkOrder(got, `sub${i} (${i % 2 ? 'protobuf' : 'json'})`, { history }));
  // The hubs' own check of the home shard's stamps agrees.
  const metrics = await scrape(port);
  assert.equal(series(metrics, 'gyre_hub_order_violations_total').length, 1, 'the order check is exported');
  assert.equal(sum(metrics, 'gyre_hub_order_violations_total'), 0);
}

describe('per-channel order at every subscriber', () => {
  test('memory engine, 4 shards, no history', async (t) => run(t, { history: false }));
  test('memory engine, 4 shards, history and positioning', async (t) => run(t, { history: true }));
  test('redis engine, 4 shards, no history', async (t) => {
    const redis = await startRedis(t);
    await run(t, { history: false, engine: { type: 'redis', redis: { address: `redis://127.0.0.1:${redis.port}`, prefix: `ord${redis.port}` } } });
  });
  test('redis engine, 4 shards, history and positioning', async (t) => {
    const redis = await startRedis(t);
    await run(t, { history: true, engine: { type: 'redis', redis: { address: `redis://127.0.0.1:${redis.port}`, prefix: `ord${redis.port}` } } });
  });
});
