// End-to-end tests of the Prometheus metrics (GET /metrics) and the /debug/pprof snapshot: the
// exposition parses strictly (HELP and TYPE for every family, every sample line well formed),
// the families Centrifugo's Grafana dashboard (13039) reads exist with the right types, and the
// counters move by exactly what real traffic does: centrifuge-js clients (JSON and Protobuf),
// server API calls, errors, server disconnects/unsubscribes, ping/pong, proxy calls, HTTP
// request instrumentation. Real gyre binary, real clients, a real Node proxy backend.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { api, collect, eventually, post, startApiServer, userToken } from './lib/api.mjs';
import { startBackend } from './lib/backend.mjs';
import { client, decode, once, rawPeer } from './lib/clients.mjs';
import { freePort } from './lib/gyre.mjs';
import { delta, one, parseMetrics, scrape, series, sum } from './lib/metrics.mjs';

const WS = { transport: 'websocket' };
const open = { allow_subscribe_for_client: true, allow_publish_for_client: true };

/** Prometheus on, the debug snapshot on, and a namespace clients may not subscribe to. */
const observedServer = (t, overrides = {}) => startApiServer(t, {
  prometheus: { enabled: true },
  debug: { enabled: true },
  channel: {
    without_namespace: open,
    namespaces: [{ name: 'ns1', ...open }, { name: 'closed' }],
  },
  ...overrides,
});

async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, `${method}: HTTP ${r.status} ${r.text}`);
  assert.equal(r.json?.error, undefined, `${method} ${JSON.stringify(body)}: ${r.text}`);
  return r.json.result;
}

/** A centrifuge-js client of `user` subscribed to `channel`; publications land in `pubs`. */
async function subscriber(t, port, user, channel, { protobuf = false } = {}) {
  const c = client(t, port, { token: userToken(user), protobuf });
  const s = c.newSubscription(channel);
  const pubs = collect(s, 'publication');
  s.subscribe();
  const connected = once(c, 'connected');
  c.connect();
  await connected;
  await s.ready(5000);
  return { c, s, pubs };
}

/** A raw JSON peer connected as `user` (connect reply awaited). */
async function rawClient(t, port, user) {
  const p = await rawPeer(t, port);
  p.send({ id: 1, connect: { token: userToken(user) } });
  await eventually(() => p.messages.some((m) => m.id === 1), { what: `${user} connect reply` });
  assert.ok(p.messages.find((m) => m.id === 1).connect, JSON.stringify(p.messages));
  return p;
}

/** Scrapes until `check(m)` holds (for values that settle on the server's loop). */
const scrapeUntil = (port, check, what, timeoutMs = 5000, path = '/metrics') =>
  eventually(async () => { const m = await scrape(port, path); return check(m) ? m : null; }, { timeoutMs, what });

const shardCount = (m) => new Set(series(m, 'gyre_shard_loop_lag_seconds_count').map((s) => s.labels.shard)).size;

test('the exposition parser accepts the format and rejects what Prometheus would not', () => {
  const head = '# HELP x_total A help with \\\\ and \\n.\n# TYPE x_total counter\n';
  const good = parseMetrics(`${head}x_total{a="q\\"uote",b="back\\\\slash\\n"} 3\nx_total 1e3 1700000000000\n`
    + '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0.5\nh_count 2\n'
    + '# HELP s S.\n# TYPE s summary\ns{quantile="0.5"} NaN\ns_sum 0\ns_count 0\n');
  assert.deepEqual(good.samples[0].labels, { a: 'q"uote', b: 'back\\slash\n' });
  assert.equal(good.samples[1].value, 1000);
  assert.equal(good.families.get('x_total').help, 'A help with \\ and \n.');
  const bad = {
    'no TYPE': '# HELP y Y.\ny 1\n',
    'no HELP': '# TYPE y gauge\ny 1\n',
    'undeclared sample': `${head}x_total 1\nz 1\n`,
    'bad value': `${head}x_total one\n`,
    'unterminated labels': `${head}x_total{a="1" 1\n`,
    'unquoted label': `${head}x_total{a=1} 1\n`,
    'bad escape': `${head}x_total{a="\\t"} 1\n`,
    'duplicate series': `${head}x_total{a="1"} 1\nx_total{a="1"} 2\n`,
    'negative counter': `${head}x_total -1\n`,
    'no trailing newline': `${head}x_total 1`,
    'unknown type': '# HELP y Y.\n# TYPE y meter\ny 1\n',
    'bucket without le': '# HELP h H.\n# TYPE h histogram\nh_bucket 1\nh_sum 0\nh_count 1\n',
    '+Inf != count': '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 0\nh_count 3\n',
    'buckets not cumulative': '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 0\nh_count 2\n',
    'summary without quantile': '# HELP s S.\n# TYPE s summary\ns 1\ns_sum 0\ns_count 0\n',
    'interleaved families': `${head}# HELP y Y.\n# TYPE y gauge\ny 1\nx_total 2\n`,
  };
  for (const [what, text] of Object.entries(bad)) assert.throws(() => parseMetrics(text), Error, what);
});

describe('metrics of one server under real traffic', () => {
  let port;
  let server;
  let startedAfter;
  let startedBefore;
  const cleanups = [];
  const scope = { after: (fn) => cleanups.push(fn) };
  before(async () => {
    startedBefore = Date.now() / 1000;
    ({ port, server } = await observedServer(scope));
    startedAfter = Date.now() / 1000;
  });
  after(async () => { for (const fn of cleanups.reverse()) await fn(); });

  test('counters move by exactly what N clients and K API publications do', async (t) => {
    const N = 6; // 3 JSON + 3 Protobuf, 5 distinct users
    const K = 20;
    const channel = 'ns1:traffic';
    const users = ['alice', 'alice', 'bob', 'carol', 'dave', 'erin'];
    const before0 = await scrapeUntil(port, (m) => one(m, 'centrifugo_node_num_clients') === 0, 'no clients yet');

    const subs = [];
    for (let i = 0; i < N; ++i) subs.push(await subscriber(t, port, users[i], channel, { protobuf: i % 2 === 1 }));
    for (let k = 0; k < K; ++k) await ok(port, 'publish', { channel, data: { k } });
    await eventually(() => subs.every((s) => s.pubs.length === K), { what: `all ${N} clients got ${K} publications` });
    subs.forEach((s, i) => assert.deepEqual(s.pubs.map((p) => decode(p.data).k), [...Array(K).keys()], `client ${i} in order`));

    // Replies and pushes are counted before they are written: scrape until the outbox drained.
    const m = await scrapeUntil(port, (x) => one(x, 'gyre_transport_outbox_bytes') === 0, 'outbox drained');
    const d = (name, filter) => delta(before0, m, name, filter);

    assert.equal(one(m, 'centrifugo_node_num_clients'), N);
    assert.equal(one(m, 'centrifugo_node_num_users'), 5);
    assert.equal(one(m, 'centrifugo_node_num_subscriptions'), N);
    assert.equal(one(m, 'centrifugo_node_num_channels'), 1);
    assert.equal(one(m, 'centrifugo_node_num_nodes'), 1);

    assert.equal(d('centrifugo_client_connections_accepted', WS), N, 'connections_accepted{websocket}');
    assert.equal(sum(m, 'centrifugo_client_connections_inflight', WS), N, 'connections_inflight{websocket}');
    assert.equal(sum(m, 'centrifugo_client_subscriptions_inflight'), N, 'subscriptions_inflight');
    assert.equal(d('centrifugo_node_action_count', { action: 'add_client' }), N);
    assert.equal(d('centrifugo_node_action_count', { action: 'add_subscription' }), N);
    assert.equal(d('centrifugo_node_action_count', { action: 'broker_subscribe' }), 1, 'one broker subscription per channel');

    for (const frame of ['connect', 'subscribe']) {
      assert.equal(d('centrifugo_transport_messages_received', { ...WS, frame_type: frame }), N, `received ${frame}`);
      assert.equal(d('centrifugo_transport_messages_sent', { ...WS, frame_type: frame }), N, `sent ${frame} replies`);
      assert.ok(d('centrifugo_transport_messages_received_size', { ...WS, frame_type: frame }) > 0, `received ${frame} bytes`);
      assert.equal(d('centrifugo_client_command_duration_seconds_count', { method: frame }), N, `command_duration{${frame}} summary`);
      assert.equal(d('centrifugo_client_command_duration_seconds_histogram_count', { method: frame }), N, `command_duration{${frame}} histogram`);
    }
    assert.equal(d('centrifugo_transport_messages_sent', { ...WS, frame_type: 'push_publication' }), N * K, 'push_publication sent');
    assert.ok(d('centrifugo_transport_messages_sent_size', { ...WS, frame_type: 'push_publication' }) >= N * K * 8, 'push_publication bytes');
    assert.equal(d('centrifugo_transport_messages_received', WS), 2 * N, 'nothing else received from clients');

    assert.equal(d('centrifugo_api_command_duration_seconds_count', { protocol: 'http', method: 'publish' }), K);
    assert.equal(d('centrifugo_api_command_duration_seconds_histogram_count', { protocol: 'http', method: 'publish' }), K);
    assert.equal(d('centrifugo_api_command_errors_total'), 0, 'no API errors');
    assert.equal(d('centrifugo_node_messages_sent_count', { type: 'publication' }), K, 'publications to the broker');
    assert.equal(d('centrifugo_node_messages_received_count', { type: 'publication' }), K, 'publications from the broker');
    const broadcasts = d('centrifugo_node_broadcast_duration_seconds_count', { type: 'publication' });
    assert.ok(broadcasts >= K && broadcasts <= K * shardCount(m), `broadcasts ${broadcasts}: one per publication per shard with subscribers`);

    // One encoding per wire format per publication (both formats have subscribers), then reuse.
    assert.equal(d('gyre_hub_frame_encodes_total', { result: 'encoded' }), 2 * K, 'frames encoded once per wire format');
    assert.ok(d('gyre_hub_frame_encodes_total', { result: 'reused' }) > 0, 'frames reused for other subscribers');
    const written = d('gyre_transport_messages_written_total', WS);
    const writes = d('gyre_transport_socket_writes_total', WS);
    assert.ok(writes >= 1 && writes <= written, `socket writes ${writes} vs messages written ${written}`);
    // Publications queued together leave as one message, so only this much is certain: the two
    // replies and at least one publication message per client.
    assert.ok(written >= 3 * N, `messages written ${written}: at least the replies and a publication per client`);

    assert.equal(d('centrifugo_client_num_server_disconnects'), 0);
    assert.equal(d('centrifugo_client_num_reply_errors'), 0);

    // Client-initiated disconnects: gauges back to zero, nothing counted as a server disconnect.
    for (const s of subs) s.c.disconnect();
    // The node gauges are gathered from the shards before the counters are read: wait for all.
    const gone = await scrapeUntil(port, (x) => ['clients', 'users', 'subscriptions', 'channels']
      .every((g) => one(x, `centrifugo_node_num_${g}`) === 0)
      && sum(x, 'centrifugo_client_connections_inflight') === 0
      && sum(x, 'centrifugo_client_subscriptions_inflight') === 0
      && delta(before0, x, 'centrifugo_node_action_count', { action: 'broker_unsubscribe' }) === 1,
    'gauges back to zero after the clients left');
    assert.equal(delta(before0, gone, 'centrifugo_node_action_count', { action: 'remove_client' }), N);
    assert.equal(delta(before0, gone, 'centrifugo_node_action_count', { action: 'remove_subscription' }), N);
    assert.equal(delta(before0, gone, 'centrifugo_client_num_server_disconnects'), 0, 'client closes are not server disconnects');
    assert.equal(delta(before0, gone, 'centrifugo_transport_outgoing_close_count'), 0);
    assert.equal(delta(before0, gone, 'centrifugo_client_connections_accepted'), N);
  });

  test('format: the dashboard families exist with their types and well-formed series', async (t) => {
    const { c } = await subscriber(t, port, 'format-user', 'ns1:format', { protobuf: true });
    await ok(port, 'publish', { channel: 'ns1:format', data: { x: 1 } });
    await ok(port, 'channels', {});
    const m = await scrapeUntil(port, (x) => sum(x, 'centrifugo_node_broadcast_duration_seconds_count') > 0, 'a broadcast');
    const types = {
      centrifugo_client_command_duration_seconds: 'summary',
      centrifugo_client_command_duration_seconds_histogram: 'histogram',
      centrifugo_api_command_duration_seconds: 'summary',
      centrifugo_api_command_duration_seconds_histogram: 'histogram',
      centrifugo_proxy_duration_seconds: 'summary',
      centrifugo_node_survey_duration_seconds: 'summary',
      centrifugo_node_broadcast_duration_seconds: 'histogram',
      centrifugo_client_ping_pong_duration_seconds: 'histogram',
      centrifugo_node_pub_sub_lag_seconds: 'histogram',
      centrifugo_node_num_clients: 'gauge',
      centrifugo_node_num_users: 'gauge',
      centrifugo_node_num_subscriptions: 'gauge',
      centrifugo_node_num_channels: 'gauge',
      centrifugo_node_num_nodes: 'gauge',
      centrifugo_node_build: 'gauge',
      centrifugo_node_messages_sent_count: 'counter',
      centrifugo_node_messages_received_count: 'counter',
      centrifugo_node_action_count: 'counter',
      centrifugo_client_num_reply_errors: 'counter',
      centrifugo_client_num_server_disconnects: 'counter',
      centrifugo_client_num_server_unsubscribes: 'counter',
      centrifugo_client_connections_accepted: 'counter',
      centrifugo_client_connections_inflight: 'gauge',
      centrifugo_client_subscriptions_inflight: 'gauge',
      centrifugo_transport_messages_sent: 'counter',
      centrifugo_transport_messages_sent_size: 'counter',
      centrifugo_transport_messages_received: 'counter',
      centrifugo_transport_messages_received_size: 'counter',
      centrifugo_api_command_errors_total: 'counter',
      centrifugo_proxy_errors: 'counter',
      centrifugo_node_incoming_http_requests_total: 'counter',
      process_start_time_seconds: 'gauge',
      process_resident_memory_bytes: 'gauge',
      process_cpu_seconds_total: 'counter',
      process_open_fds: 'gauge',
      process_max_fds: 'gauge',
      gyre_shard_loop_lag_seconds: 'histogram',
      gyre_transport_outbox_bytes: 'gauge',
      gyre_transport_socket_writes_total: 'counter',
      gyre_transport_messages_written_total: 'counter',
      gyre_hub_frame_encodes_total: 'counter',
    };
    for (const [name, type] of Object.entries(types)) {
      assert.ok(m.families.has(name), `family ${name} exported`);
      assert.equal(m.families.get(name).type, type, `${name} type`);
      assert.ok(m.families.get(name).help.length > 0, `${name} help`);
    }

    // Summaries: the three quantiles, _sum and _count, for a command that ran.
    const summaryOf = (name, filter) => {
      const qs = ['0.5', '0.99', '0.999'].map((q) => one(m, name, { ...filter, quantile: q }));
      for (const q of qs) assert.ok(Number.isFinite(q) && q > 0 && q <= 10, `${name} quantile ${q}`);
      assert.ok(qs[0] <= qs[1] && qs[1] <= qs[2], `${name} quantiles ordered: ${qs}`);
      assert.ok(one(m, `${name}_count`, filter) >= 1, `${name}_count`);
      assert.ok(one(m, `${name}_sum`, filter) > 0, `${name}_sum`);
    };
    summaryOf('centrifugo_client_command_duration_seconds', { method: 'connect', channel_namespace: '' });
    summaryOf('centrifugo_client_command_duration_seconds', { method: 'subscribe', channel_namespace: '' });
    summaryOf('centrifugo_api_command_duration_seconds', { protocol: 'http', method: 'publish' });
    // Precreated command series with no observation yet: NaN quantiles and zero counts.
    assert.ok(Number.isNaN(one(m, 'centrifugo_client_command_duration_seconds', { method: 'rpc', quantile: '0.5' })));
    assert.equal(one(m, 'centrifugo_client_command_duration_seconds_count', { method: 'rpc' }), 0);

    // Histograms: a bucket per bound plus +Inf (the parser checked order and +Inf == _count).
    const buckets = series(m, 'centrifugo_node_broadcast_duration_seconds_bucket', { type: 'publication', channel_namespace: '' });
    assert.ok(buckets.length >= 10 && buckets.at(-1).labels.le === '+Inf', `broadcast buckets: ${buckets.length}`);
    assert.ok(series(m, 'centrifugo_api_command_duration_seconds_histogram_bucket', { method: 'publish' }).length >= 10);
    const shards = shardCount(m);
    assert.ok(shards >= 1);
    for (let i = 0; i < shards; ++i) {
      assert.ok(series(m, 'gyre_shard_loop_lag_seconds_bucket', { shard: String(i) }).length >= 10, `loop lag buckets of shard ${i}`);
      assert.ok(one(m, 'gyre_shard_loop_lag_seconds_count', { shard: String(i) }) >= 1, `shard ${i} timer fired`);
    }
    assert.equal(series(m, 'centrifugo_node_pub_sub_lag_seconds_bucket').length % 13, 0, 'pub_sub_lag: whole series only');

    // Gauges read at scrape time.
    const build = series(m, 'centrifugo_node_build');
    assert.equal(build.length, 1);
    assert.equal(build[0].value, 1);
    assert.match(build[0].labels.version, /^\d+\.\d+\.\d+/);
    assert.equal(one(m, 'centrifugo_node_num_clients'), 1);
    assert.equal(one(m, 'centrifugo_node_num_channels'), 1);
    const pid = server.proc.pid;
    const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
    const openFds = one(m, 'process_open_fds');
    assert.ok(Math.abs(openFds - fds) <= 3, `process_open_fds ${openFds} vs /proc: ${fds}`);
    const maxFds = one(m, 'process_max_fds');
    const limit = /Max open files\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'))[1];
    assert.equal(maxFds, Number(limit), 'process_max_fds is the soft limit');
    const rss = one(m, 'process_resident_memory_bytes');
    const vmRss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
    assert.ok(rss > 1e6 && Math.abs(rss - vmRss) < 0.5 * vmRss, `rss ${rss} vs VmRSS ${vmRss}`);
    const cpu = one(m, 'process_cpu_seconds_total');
    assert.ok(cpu > 0 && cpu < 60, `cpu seconds ${cpu}`);
    assert.ok(one(m, 'gyre_transport_outbox_bytes') >= 0);
    c.disconnect();
    await scrapeUntil(port, (x) => one(x, 'centrifugo_node_num_clients') === 0, 'format client gone');
  });

  test('process_start_time_seconds: the kernel\'s start time of the process, to the tick', async () => {
    const m = await scrape(port);
    const v = one(m, 'process_start_time_seconds');
    const line = m.text.match(/^process_start_time_seconds .*$/m)[0];
    // As Prometheus' Go client computes it: btime + starttime / CLK_TCK (/proc/stat, /proc/<pid>/stat).
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))[1]);
    const stat = fs.readFileSync(`/proc/${server.proc.pid}/stat`, 'utf8');
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    const expected = btime + startTicks / hz;
    assert.ok(Math.abs(v - expected) <= 1.5 / hz, `"${line}" is ${v}; the process started at ${expected.toFixed(2)}`);
    // And that is when this test spawned it (btime has a one-second resolution).
    assert.ok(v >= startedBefore - 1.5 && v <= startedAfter + 1.5,
      `"${line}": started between ${startedBefore.toFixed(2)} and ${startedAfter.toFixed(2)}`);
  });

  test('errors, server unsubscribes and server disconnects are counted by code', async (t) => {
    const before0 = await scrape(port);
    const p = await rawClient(t, port, 'victim');
    // A namespace without allow_subscribe_for_client and no subscription token: 103.
    p.send({ id: 2, subscribe: { channel: 'closed:room' } });
    p.send({ id: 3, subscribe: { channel: 'ns1:room' } });
    await eventually(() => p.messages.some((x) => x.id === 2) && p.messages.some((x) => x.id === 3), { what: 'subscribe replies' });
    assert.equal(p.messages.find((x) => x.id === 2).error?.code, 103, JSON.stringify(p.messages));
    assert.ok(p.messages.find((x) => x.id === 3).subscribe, JSON.stringify(p.messages));

    // API publish into an unknown namespace: 102.
    const bad = await api(port, 'publish', { channel: 'nope:x', data: {} });
    assert.equal(bad.json?.error?.code, 102, bad.text);
    // Server-side unsubscribe: push with code 2000.
    await ok(port, 'unsubscribe', { user: 'victim', channel: 'ns1:room' });
    await eventually(() => p.messages.some((x) => x.push?.unsubscribe), { what: 'unsubscribe push' });
    assert.equal(p.messages.find((x) => x.push?.unsubscribe).push.unsubscribe.code, 2000);
    // API disconnect with the default code (3503 "force disconnect").
    await ok(port, 'disconnect', { user: 'victim' });
    const closed = await p.waitClose();
    assert.equal(closed.code, 3503);

    const m = await scrapeUntil(port, (x) => one(x, 'centrifugo_node_num_clients') === 0, 'victim gone');
    const d = (name, filter) => delta(before0, m, name, filter);
    assert.equal(d('centrifugo_client_num_reply_errors', { method: 'subscribe', code: '103', channel_namespace: '' }), 1);
    assert.equal(d('centrifugo_client_num_reply_errors'), 1, 'no other reply errors');
    assert.equal(d('centrifugo_transport_messages_sent', { ...WS, frame_type: 'subscribe' }), 2, 'both subscribe replies');
    assert.equal(d('centrifugo_client_command_duration_seconds_count', { method: 'subscribe' }), 2, 'the failed one timed too');
    assert.equal(d('centrifugo_api_command_errors_total', { protocol: 'http', method: 'publish', error: '102' }), 1);
    assert.equal(d('centrifugo_api_command_errors_total'), 1, 'no other API errors');
    assert.equal(d('centrifugo_api_command_duration_seconds_count', { protocol: 'http', method: 'publish' }), 1, 'failed publish timed');
    for (const method of ['unsubscribe', 'disconnect']) {
      assert.equal(d('centrifugo_api_command_duration_seconds_count', { protocol: 'http', method }), 1, `api ${method}`);
    }
    assert.equal(d('centrifugo_client_num_server_unsubscribes', { code: '2000', channel_namespace: '' }), 1);
    assert.equal(d('centrifugo_client_num_server_unsubscribes'), 1);
    assert.equal(d('centrifugo_transport_messages_sent', { ...WS, frame_type: 'push_unsubscribe' }), 1);
    assert.equal(d('centrifugo_client_num_server_disconnects', { code: '3503' }), 1);
    assert.equal(d('centrifugo_client_num_server_disconnects'), 1);
    assert.equal(d('centrifugo_transport_outgoing_close_count', { ...WS, code: '3503' }), 1);
    assert.equal(d('centrifugo_node_action_count', { action: 'remove_subscription' }), 1, 'the unsubscribed one');

    // A custom disconnect code is its own label value.
    const q = await rawClient(t, port, 'victim2');
    await ok(port, 'disconnect', { user: 'victim2', disconnect: { code: 4107, reason: 'custom' } });
    assert.equal((await q.waitClose()).code, 4107);
    const m2 = await scrapeUntil(port, (x) => one(x, 'centrifugo_node_num_clients') === 0, 'victim2 gone');
    assert.equal(delta(m, m2, 'centrifugo_client_num_server_disconnects', { code: '4107' }), 1);
    assert.equal(delta(m, m2, 'centrifugo_client_num_server_disconnects'), 1);
  });

  test('without instrument_http_handlers no HTTP request is counted', async () => {
    await ok(port, 'info', {});
    const m = await scrape(port);
    assert.ok(m.families.has('centrifugo_node_incoming_http_requests_total'));
    assert.equal(series(m, 'centrifugo_node_incoming_http_requests_total').length, 0);
  });

  test('/debug/pprof: a JSON snapshot with the live counts', async (t) => {
    const { c } = await subscriber(t, port, 'debug-user', 'ns1:debug');
    const r = await fetch(`http://127.0.0.1:${port}/debug/pprof`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') || '', /application\/json/);
    const j = await r.json();
    assert.equal(j.num_clients, 1);
    assert.equal(j.num_users, 1);
    assert.equal(j.num_channels, 1);
    assert.equal(j.num_subs, 1);
    assert.equal(j.num_nodes, 1);
    assert.match(j.version, /^\d+\.\d+\.\d+/);
    assert.ok(j.process.rss > 1e6 && j.process.open_fds > 0, JSON.stringify(j.process));
    // The client is idle: the snapshot and a scrape right after agree exactly.
    const m = await scrape(port);
    assert.equal(j.transport.socket_writes, sum(m, 'gyre_transport_socket_writes_total'));
    assert.equal(j.transport.messages_written, sum(m, 'gyre_transport_messages_written_total'));
    assert.equal(j.transport.outbox_bytes, one(m, 'gyre_transport_outbox_bytes'));
    assert.ok(j.transport.socket_writes > 0);
    assert.equal(j.transport.messages_per_write.toFixed(3),
      (j.transport.messages_written / j.transport.socket_writes).toFixed(3));
    const post405 = await post(port, '/debug/pprof', {}, { key: null });
    assert.equal(post405.status, 405);
    c.disconnect();
  });
});

describe('metrics configuration', () => {
  test('prometheus and debug disabled: /metrics and /debug/pprof are 404', async (t) => {
    const { port } = await startApiServer(t, {});
    for (const path of ['/metrics', '/debug/pprof']) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
      assert.equal(r.status, 404, path);
    }
  });

  test('instrument_http_handlers counts requests by route, method and status; custom prefix', async (t) => {
    const K = 7;
    const { port } = await observedServer(t, {
      prometheus: { enabled: true, handler_prefix: '/prom', instrument_http_handlers: true },
    });
    for (let k = 0; k < K; ++k) await ok(port, 'publish', { channel: 'ns1:http', data: { k } });
    assert.equal((await api(port, 'publish', { channel: 'ns1:http', data: {} }, { key: 'wrong' })).status, 401);
    assert.equal((await api(port, 'info', {})).status, 200);
    const notFound = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    assert.equal(notFound.status, 404, '/metrics is not served under a custom prefix');
    await scrape(port, '/prom');
    const m = await scrape(port, '/prom');
    const req = (labels) => sum(m, 'centrifugo_node_incoming_http_requests_total', labels);
    assert.equal(req({ path: '/api/publish', method: 'POST', status: '200' }), K);
    assert.equal(req({ path: '/api/publish', method: 'POST', status: '401' }), 1);
    assert.equal(req({ path: '/api/info', method: 'POST', status: '200' }), 1);
    assert.equal(req({ path: '/prom', method: 'GET', status: '200' }), 1, 'the first scrape (the second is still running)');
    assert.equal(req({ status: '404' }), 1, 'the /metrics miss');
    assert.equal(req({ path: '/api/publish' }), K + 1);
  });

  test('outbox bytes: a client that stops reading holds bytes there until it is dropped', async (t) => {
    // A write may wait long here: the default websocket.write_timeout (1 s) would drop the
    // reader before the bytes are seen.
    const { port } = await observedServer(t, {
      client: { queue_max_size: 33554432 }, websocket: { write_timeout: '60s' },
    });
    const p = await rawClient(t, port, 'slow');
    p.send({ id: 2, subscribe: { channel: 'slowpoke' } });
    await eventually(() => p.messages.some((m) => m.id === 2), { what: 'subscribe reply' });
    p.ws._socket.pause(); // stop reading: the kernel buffers fill, then the server's queue
    const data = { pad: 'x'.repeat(60000) };
    // More than loopback's socket buffers take (a few MiB each way).
    for (let i = 0; i < 250; i++) await ok(port, 'publish', { channel: 'slowpoke', data });
    const held = await scrapeUntil(port, (x) => one(x, 'gyre_transport_outbox_bytes') > 200000,
      'outbox bytes held for the slow reader');
    assert.ok(one(held, 'gyre_transport_outbox_bytes') <= 250 * 61000);
    await ok(port, 'disconnect', { user: 'slow' });
    p.ws.terminate();
    await scrapeUntil(port, (x) => one(x, 'gyre_transport_outbox_bytes') === 0 &&
      one(x, 'centrifugo_node_num_clients') === 0, 'outbox bytes released', 10000);
  });

  test('ping/pong: pings sent, pongs received and timed', async (t) => {
    const { port } = await observedServer(t, { client: { ping_interval: '1s', pong_timeout: '500ms' } });
    const before0 = await scrape(port);
    const a = await subscriber(t, port, 'pinged-json', 'ns1:ping');
    const b = await subscriber(t, port, 'pinged-proto', 'ns1:ping', { protobuf: true });
    await scrapeUntil(port, (x) => delta(before0, x, 'centrifugo_client_ping_pong_duration_seconds_count', WS) >= 4,
      'two pongs from each client', 6000);
    a.c.disconnect();
    b.c.disconnect();
    const m = await scrapeUntil(port, (x) => one(x, 'centrifugo_node_num_clients') === 0, 'clients gone');
    const d = (name, filter) => delta(before0, m, name, filter);
    const pings = d('centrifugo_transport_messages_sent', { ...WS, frame_type: 'server_ping' });
    const pongs = d('centrifugo_transport_messages_received', { ...WS, frame_type: 'client_pong' });
    const timed = d('centrifugo_client_ping_pong_duration_seconds_count', WS);
    assert.ok(timed >= 4, `pongs timed: ${timed}`);
    assert.equal(pongs, timed, 'every pong is timed');
    assert.ok(pings >= pongs && pings <= pongs + 2, `pings ${pings}, pongs ${pongs}: at most one unanswered per client`);
    assert.ok(d('centrifugo_transport_messages_sent_size', { ...WS, frame_type: 'server_ping' }) > 0);
    const secs = d('centrifugo_client_ping_pong_duration_seconds_sum', WS);
    assert.ok(secs > 0 && secs / timed < 0.5, `mean ping/pong ${secs / timed}s`);
    const inf = one(m, 'centrifugo_client_ping_pong_duration_seconds_bucket', { ...WS, le: '+Inf' });
    assert.equal(inf, one(m, 'centrifugo_client_ping_pong_duration_seconds_count', WS));
    assert.equal(d('centrifugo_client_num_server_disconnects'), 0, 'nobody closed for a missing pong');
    assert.equal(d('centrifugo_client_command_duration_seconds_count'), 4, 'pongs are no commands: 2 connects + 2 subscribes');
  });

  test('proxy calls: duration by type and name, errors of a dead backend', async (t) => {
    const backend = await startBackend(t, {
      connect: (body) => ({ result: { user: `proxied-${body.client.slice(0, 4)}` } }),
    });
    const deadPort = await freePort();
    const { port } = await observedServer(t, {
      client: { proxy: { connect: { enabled: true, endpoint: backend.url('connect'), timeout: '1s' } } },
      channel: {
        proxy: { subscribe: { endpoint: `http://127.0.0.1:${deadPort}/subscribe`, timeout: '1s' } },
        without_namespace: open,
        namespaces: [{ name: 'dead', subscribe_proxy_enabled: true }],
      },
    });
    const before0 = await scrape(port);
    const p = await rawPeer(t, port);
    p.send({ id: 1, connect: {} });
    p.send({ id: 2, subscribe: { channel: 'dead:room' } });
    await eventually(() => p.messages.some((x) => x.id === 2), { what: 'subscribe reply' });
    assert.ok(p.messages.find((x) => x.id === 1).connect, JSON.stringify(p.messages));
    assert.equal(p.messages.find((x) => x.id === 2).error?.code, 100, JSON.stringify(p.messages));
    assert.equal(backend.of('connect').length, 1);

    const m = await scrape(port);
    const d = (name, filter) => delta(before0, m, name, filter);
    const connect = { protocol: 'http', type: 'connect', name: 'default' };
    const subscribe = { protocol: 'http', type: 'subscribe', name: 'default' };
    assert.equal(d('centrifugo_proxy_duration_seconds_count', connect), 1);
    assert.equal(d('centrifugo_proxy_duration_seconds_histogram_count', connect), 1);
    assert.equal(d('centrifugo_proxy_errors', connect), 0);
    assert.equal(d('centrifugo_proxy_duration_seconds_count', subscribe), 1);
    assert.equal(d('centrifugo_proxy_errors', subscribe), 1, 'the dead backend');
    assert.equal(d('centrifugo_proxy_errors'), 1);
    assert.equal(sum(m, 'centrifugo_proxy_inflight_requests'), 0, 'nothing in flight');
    for (const q of ['0.5', '0.99', '0.999']) {
      const v = one(m, 'centrifugo_proxy_duration_seconds', { ...connect, quantile: q });
      assert.ok(Number.isFinite(v) && v > 0, `proxy quantile ${q}: ${v}`);
    }
    assert.equal(d('centrifugo_client_num_reply_errors', { method: 'subscribe', code: '100' }), 1);
    assert.equal(d('centrifugo_client_connections_accepted', WS), 1);
  });
});
