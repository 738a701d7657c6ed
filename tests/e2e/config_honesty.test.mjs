// No silent ignores (issue 17, items 13 and 15): keys Gyre knows but does not act on are named at
// start-up, by checkconfig (strict fails) and in README.md; unsafe ones stop start-up naming the
// key; and the flat config of the project's description (`channels` with `history_lifetime`,
// legacy keys, curl to the legacy POST /api) keeps `chat` publications in history.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { client, once } from './lib/clients.mjs';
import { freePort, runGyre, startGyre, tempDir, waitFor, writeJson } from './lib/gyre.mjs';
import { now, sign } from './lib/tokens.mjs';

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md');

test('README lists exactly the table of keys with no effect (gyre differences)', () => {
  const printed = runGyre(['differences']);
  assert.equal(printed.code, 0, printed.stderr);
  const readme = fs.readFileSync(README, 'utf8');
  const m = readme.match(/<!-- differences:begin -->\n([\s\S]*?)<!-- differences:end -->/);
  assert.ok(m, 'README.md has the differences section markers');
  assert.equal(m[1], printed.stdout);
  for (const key of ['client.connection_limit', 'consumers[].enabled', 'websocket.compression',
    'channel.without_namespace.allowed_delta_types', 'channel.without_namespace.allow_tags_filter',
    'opentelemetry', 'graphite']) {
    assert.match(printed.stdout, new RegExp('^- `' + key.replace(/[.[\]]/g, '\\$&') + '`: ', 'm'), key);
  }
});

test('a key with no effect warns once at start-up, is listed by checkconfig and fails --strict', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const file = writeJson(path.join(dir, 'config.json'), {
    http_server: { port },
    websocket: { compression: true },
    channel: { namespaces: [{ name: 'chat', allow_tags_filter: true }] },
    graphite: { enabled: true },
  });
  const s = await startGyre(t, { args: ['-c', file] });
  const lines = s.output.split('\n').filter((l) => l.includes('no effect in this build'));
  assert.equal(lines.length, 1, s.output);
  for (const key of ['websocket.compression', 'channel.namespaces[chat].allow_tags_filter', 'graphite.enabled']) {
    assert.ok(lines[0].includes(key), `${key} in ${lines[0]}`);
  }
  assert.equal((await fetch(`http://127.0.0.1:${port}/connection/websocket`)).status >= 400, true, 'server is up');

  const check = runGyre(['checkconfig', '-c', file]);
  assert.equal(check.code, 0, check.stdout);
  assert.match(check.stdout, /no effect in this build: .*websocket\.compression/);
  assert.match(check.stdout, /channel\.namespaces\[chat\]\.allow_tags_filter/);
  const strict = runGyre(['checkconfig', '--strict', '-c', file]);
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /error: keys with no effect in this build: .*websocket\.compression/);

  const clean = writeJson(path.join(dir, 'clean.json'), { http_server: { port }, websocket: { compression: false } });
  const ok = runGyre(['checkconfig', '--strict', '-c', clean]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.doesNotMatch(ok.stdout, /no effect/);
});

test('consumers, TLS and connection limits stop start-up with one line naming the key', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const cases = [
    [{ consumers: [{ name: 'orders', enabled: true, type: 'kafka' }] }, 'consumers[orders].enabled'],
    [{ client: { connection_limit: 1000 } }, 'client.connection_limit'],
    [{ client: { connection_rate_limit: 50 } }, 'client.connection_rate_limit'],
    [{ http_server: { port, tls: { enabled: true } } }, 'http_server.tls.enabled'],
    [{ tls_external: true }, 'http_server.tls_external'],
    [{ grpc_api: { enabled: true, tls: { enabled: true } } }, 'grpc_api.tls.enabled'],
    [{ proxies: [{ name: 'grpc1', endpoint: 'grpc://127.0.0.1:1', grpc: { tls: { enabled: true } } }] },
      'proxies[grpc1].grpc.tls.enabled'],
  ];
  for (const [extra, key] of cases) {
    const file = writeJson(path.join(dir, 'refused.json'), { http_server: { port }, ...extra });
    const r = runGyre(['-c', file], { timeoutMs: 5000 });
    assert.equal(r.code, 1, `${key}: ${r.stdout}${r.stderr}`);
    const errors = r.stderr.split('\n').filter((l) => /error|refus/i.test(l));
    assert.equal(errors.length, 1, r.stderr);
    assert.ok(errors[0].includes(key), `${key} in ${errors[0]}`);
    assert.match(errors[0], /refusing to start/);
    const check = runGyre(['checkconfig', '-c', file]);
    assert.equal(check.code, 1, key);
    assert.ok(check.stdout.includes(key), check.stdout);
  }
  // A consumer that is not enabled does nothing in Centrifugo either: no refusal.
  const off = writeJson(path.join(dir, 'off.json'),
    { http_server: { port }, consumers: [{ name: 'orders', enabled: false, type: 'kafka' }] });
  assert.equal(runGyre(['checkconfig', '--strict', '-c', off]).code, 0);
});

test('the description\'s flat config: curl to POST /api publishes to chat, history returns it', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const key = 'description-api-key';
  const file = writeJson(path.join(dir, 'config.json'), {
    port,
    token_hmac_secret_key: 'description-secret',
    admin_password: 'password',
    admin_secret: 'admin-secret',
    api_key: key,
    websocket_handler_prefix: '/connection/websocket',
    proxy_publish_endpoint: 'http://127.0.0.1:9/centrifugo/publish',
    proxy_subscribe_endpoint: 'http://127.0.0.1:9/centrifugo/subscribe',
    channels: { chat: { history_size: 20, history_lifetime: 300 } },
  });
  const s = await startGyre(t, { args: ['-c', file] });
  assert.doesNotMatch(s.output, /unknown configuration key/);
  const curl = (body) => execFileSync('curl', ['-sS', '--max-time', '5', '-X', 'POST',
    `http://127.0.0.1:${port}/api`, '-H', `Authorization: apikey ${key}`, '-d', JSON.stringify(body)],
  { encoding: 'utf8', timeout: 10000 });
  const published = JSON.parse(curl({ method: 'publish', params: { channel: 'chat', data: { text: 'hi' } } }));
  assert.equal(published.error, undefined, JSON.stringify(published));
  assert.equal(published.result.offset, 1, JSON.stringify(published));
  const history = JSON.parse(curl({ method: 'history', params: { channel: 'chat', limit: 10 } }));
  assert.deepEqual(history.result.publications.map((p) => p.data), [{ text: 'hi' }]);
  // Only chat is named: another channel keeps no history.
  const other = JSON.parse(curl({ method: 'publish', params: { channel: 'lobby', data: { text: 'x' } } }));
  assert.equal(other.result.offset, undefined, JSON.stringify(other));
});

test('a channels entry reaches SDK subscribers: options on top of the namespace, others untouched', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const file = writeJson(path.join(dir, 'config.json'), {
    port,
    token_hmac_secret_key: 'entry-secret',
    api_key: 'entry-key',
    namespaces: [{ name: 'team', presence: true }],
    channels: {
      chat: { history_size: 20, history_lifetime: 300, allow_subscribe_for_client: true,
        allow_history_for_subscriber: true, force_recovery: true },
      'team:room': { allow_subscribe_for_client: true, allow_presence_for_subscriber: true },
    },
  });
  await startGyre(t, { args: ['-c', file] });
  const c = client(t, port, { token: sign({ sub: 'u1', exp: now() + 3600 }, { key: 'entry-secret' }) });
  c.connect();
  const chat = c.newSubscription('chat');
  chat.subscribe();
  await once(chat, 'subscribed');
  const got = once(chat, 'publication');
  const res = await fetch(`http://127.0.0.1:${port}/api`, {
    method: 'POST', headers: { Authorization: 'apikey entry-key' },
    body: JSON.stringify({ method: 'publish', params: { channel: 'chat', data: { n: 1 } } }),
  });
  assert.equal(res.status, 200);
  const pub = await got;
  assert.deepEqual(pub.data, { n: 1 });
  assert.equal(pub.offset, 1);
  const history = await chat.history({ limit: 10 });
  assert.deepEqual(history.publications.map((p) => p.data), [{ n: 1 }]);
  // The entry for team:room lies over namespace team (presence stays on).
  const room = c.newSubscription('team:room');
  room.subscribe();
  await once(room, 'subscribed');
  const presence = await room.presence();
  assert.equal(Object.keys(presence.clients).length, 1);
  // A channel without an entry keeps the defaults: no subscribe permission.
  const lobby = c.newSubscription('lobby');
  lobby.subscribe();
  const refused = await once(lobby, 'unsubscribed');
  assert.equal(refused.code, 103, JSON.stringify(refused));
});

test('SIGHUP reloads channels entries and names keys with no effect again', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const base = { port, api_key: 'reload-key' };
  const file = writeJson(path.join(dir, 'config.json'), base);
  const s = await startGyre(t, { args: ['-c', file] });
  const publish = async (channel) => (await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST', headers: { 'X-API-Key': 'reload-key' },
    body: JSON.stringify({ channel, data: {} }),
  })).json();
  assert.equal((await publish('news')).result.offset, undefined);
  writeJson(file, { ...base, channels: { news: { history_size: 5, history_lifetime: 60, allow_tags_filter: true } } });
  process.kill(s.proc.pid, 'SIGHUP');
  await waitFor(() => /configuration reloaded/.test(s.output), { what: 'reload' });
  assert.match(s.output, /no effect in this build: channels\.news\.allow_tags_filter/);
  assert.equal((await publish('news')).result.offset, 1);
});
