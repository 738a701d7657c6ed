// End-to-end tests of the foundation (issue 2): CLI commands, config sources, the HTTP core,
// signals. Every test drives the real gyre binary.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, rawRequest, runGyre, startGyre, tempDir, waitFor, writeJson } from './lib/gyre.mjs';

test('version and help', () => {
  const v = runGyre(['version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^Gyre v\d+\.\d+\.\d+/);
  const h = runGyre(['--help']);
  assert.equal(h.code, 0);
  for (const cmd of ['genconfig', 'checkconfig', 'defaultconfig', 'gentoken', 'checktoken', 'version', 'serve']) {
    assert.match(h.stdout, new RegExp(cmd), `help lists ${cmd}`);
    const sub = runGyre([cmd, '--help']);
    assert.equal(sub.code, 0, `${cmd} --help`);
  }
  assert.match(h.stdout, /--http_server\.port/);
});

test('genconfig writes fresh secrets, refuses to overwrite, supports json/yaml/toml', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  const r = runGyre(['genconfig', '-c', file]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.ok(cfg.client.token.hmac_secret_key.length >= 64);
  assert.ok(cfg.http_api.key.length >= 64);
  assert.ok(cfg.admin.password.length >= 16);
  assert.ok(cfg.admin.secret.length >= 64);
  assert.deepEqual(cfg.client.allowed_origins, []);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const second = runGyre(['genconfig', '-c', path.join(dir, 'config2.json')]);
  const cfg2 = JSON.parse(fs.readFileSync(path.join(dir, 'config2.json'), 'utf8'));
  assert.equal(second.code, 0);
  assert.notEqual(cfg2.client.token.hmac_secret_key, cfg.client.token.hmac_secret_key, 'secrets are random');

  const again = runGyre(['genconfig', '-c', file]);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /output config file already exists/);

  for (const ext of ['yaml', 'yml', 'toml']) {
    const f = path.join(dir, `config.${ext}`);
    assert.equal(runGyre(['genconfig', '-c', f]).code, 0, ext);
    const check = runGyre(['checkconfig', '-c', f]);
    assert.equal(check.code, 0, `${ext}: ${check.stdout}`);
  }
  const bad = runGyre(['genconfig', '-c', path.join(dir, 'config.ini')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /supported extensions/);
});

test('genconfig then serve: /health answers 200 {} and unknown paths 404', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  assert.equal(runGyre(['genconfig', '-c', file]).code, 0);
  const port = await freePort();
  const server = await startGyre(t, { args: ['-c', file, '--health', `--http_server.port=${port}`] });
  assert.match(server.output, new RegExp(`serving websocket, api, health endpoints on :${port}`));
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '{}');
  const missing = await fetch(`http://127.0.0.1:${port}/nope`);
  assert.equal(missing.status, 404);
  assert.ok(!server.output.includes(JSON.parse(fs.readFileSync(file)).http_api.key), 'no secrets in logs');
  const exit = await server.stop('SIGTERM');
  assert.equal(exit.code, 0);
  assert.match(server.output, /shutdown complete/);
});

test('gentoken then checktoken', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'config.json');
  assert.equal(runGyre(['genconfig', '-c', file]).code, 0);
  const gen = runGyre(['gentoken', '-c', file, '-u', '42', '--ttl', '3600']);
  assert.equal(gen.code, 0, gen.stdout);
  const [banner, token] = gen.stdout.trim().split('\n');
  assert.equal(banner, 'HMAC SHA-256 JWT for user "42" with expiration TTL 1h0m0s:');
  const check = runGyre(['checktoken', '-c', file, token]);
  assert.equal(check.code, 0, check.stdout);
  assert.match(check.stdout, /^valid token for user 42\npayload: \{.*"sub":"42".*\}\n$/);
  const payload = JSON.parse(check.stdout.split('payload: ')[1]);
  assert.equal(payload.exp - payload.iat, 3600);

  const quiet = runGyre(['gentoken', '-c', file, '-u', '', '-t', '-1', '-q']);
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.stdout, /\n/);
  const anon = runGyre(['checktoken', '-c', file, quiet.stdout]);
  assert.match(anon.stdout, /^valid token for anonymous user/);
  assert.ok(!('exp' in JSON.parse(anon.stdout.split('payload: ')[1])));

  const [h, p] = token.split('.');
  const forged = `${h}.${Buffer.from('{"sub":"admin"}').toString('base64url')}.${token.split('.')[2]}`;
  const bad = runGyre(['checktoken', '-c', file, forged]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^error: /);
  assert.ok(p.length > 0);

  const none = runGyre(['checktoken', '-c', file]);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /provide token to check/);

  const other = path.join(dir, 'other.json');
  assert.equal(runGyre(['genconfig', '-c', other]).code, 0);
  const wrongKey = runGyre(['checktoken', '-c', other, token]);
  assert.equal(wrongKey.code, 1);
});

test('defaultconfig prints the full default tree', () => {
  const r = runGyre(['defaultconfig']);
  assert.equal(r.code, 0);
  const cfg = JSON.parse(r.stdout);
  assert.equal(cfg.http_server.port, 8000);
  assert.equal(cfg.client.ping_interval, '25s');
  assert.equal(cfg.channel.history_meta_ttl, '720h0m0s');
  assert.equal(cfg.http_api.handler_prefix, '/api');
  assert.equal(cfg.websocket.message_size_limit, 65536);
});

test('bad configs stop start-up with one line naming the key', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const cases = [
    [{ http_server: { port: 'abc' } }, /http_server\.port: "abc" \(expected an integer\)/],
    [{ client: { queue_max_size: -1 } }, /client\.queue_max_size: -1 \(expected a non-negative integer\)/],
    [{ engine: { type: 'tarantool' } }, /engine\.type: "tarantool"/],
    [{ channel: { namespaces: [{ name: 'x' }] } }, /channel\.namespaces: name "x"/],
  ];
  for (const [cfg, expected] of cases) {
    const file = writeJson(path.join(dir, 'bad.json'), { ...cfg, http_server: { ...(cfg.http_server || {}), port: cfg.http_server?.port ?? port } });
    const r = runGyre(['-c', file]);
    assert.equal(r.code, 1, JSON.stringify(cfg));
    assert.match(r.stderr, expected);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    const check = runGyre(['checkconfig', '-c', file]);
    assert.equal(check.code, 1);
    assert.match(check.stdout, /error validating config/);
  }
  for (const [name, text, re] of [
    ['broken.json', '{"http_server": {', /invalid JSON at line 1/],
    ['broken.yaml', 'client:\n  - a\n  b: [', /invalid YAML/],
    ['broken.toml', '[client\n', /invalid TOML/],
  ]) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    const r = runGyre(['-c', file]);
    assert.equal(r.code, 1, name);
    assert.match(r.stderr, re);
  }
  const redis = writeJson(path.join(dir, 'redis.json'),
    { engine: { type: 'redis', redis: { address: ['redis://127.0.0.1:x'] } }, http_server: { port } });
  const rr = runGyre(['-c', redis]);
  assert.equal(rr.code, 1);
  assert.match(rr.stderr, /engine\.redis\.address: .*port/);
});

test('checkconfig --strict refuses unknown keys', (t) => {
  const dir = tempDir(t);
  const file = writeJson(path.join(dir, 'c.json'), { http_server: { port: 8000 }, bogus_key: 1 });
  const lax = runGyre(['checkconfig', '-c', file]);
  assert.equal(lax.code, 0);
  assert.match(lax.stdout, /unknown configuration key: bogus_key/);
  const strict = runGyre(['checkconfig', '--strict', '-c', file]);
  assert.equal(strict.code, 1);
  assert.match(strict.stdout, /unknown keys in config: bogus_key/);
});

test('legacy flat config, env vars and flags all start the server', async (t) => {
  const dir = tempDir(t);
  const p1 = await freePort();
  const legacy = writeJson(path.join(dir, 'legacy.json'), {
    port: p1, health: true, api_key: 'k', token_hmac_secret_key: 's', admin_password: 'p',
    admin_secret: 'x', allowed_origins: ['http://localhost:3000'], namespaces: [{ name: 'chat', presence: true }],
  });
  const a = await startGyre(t, { args: ['-c', legacy] });
  assert.equal((await fetch(`http://127.0.0.1:${p1}/health`)).status, 200);
  assert.match(a.output, /legacy configuration keys mapped/);
  await a.stop();

  const p2 = await freePort();
  const b = await startGyre(t, {
    args: ['-c', path.join(dir, 'missing.json')],
    env: { CENTRIFUGO_HTTP_SERVER_PORT: String(p2), CENTRIFUGO_HEALTH_ENABLED: 'true', CENTRIFUGO_BOGUS: '1' },
  });
  assert.match(b.output, /config file .* not found/);
  assert.match(b.output, /unknown environment variable: CENTRIFUGO_BOGUS/);
  assert.equal((await fetch(`http://127.0.0.1:${p2}/health`)).status, 200);
  await b.stop();

  const p3 = await freePort();
  const c = await startGyre(t, {
    args: ['-c', legacy, '--port', String(p3)],
    env: { GYRE_HTTP_SERVER_PORT: String(p1) },
  });
  assert.equal((await fetch(`http://127.0.0.1:${p3}/health`)).status, 200, 'flag beats env and file');
  await c.stop();
});

test('internal port carries health; external port does not', async (t) => {
  const dir = tempDir(t);
  const ext = await freePort();
  const internal = await freePort();
  const file = writeJson(path.join(dir, 'c.json'), {
    http_server: { port: ext, internal_port: String(internal) }, health: { enabled: true },
  });
  const s = await startGyre(t, { args: ['-c', file], readyLine: new RegExp(`serving api, health endpoints on :${internal}`) });
  assert.equal((await fetch(`http://127.0.0.1:${internal}/health`)).status, 200);
  assert.equal((await fetch(`http://127.0.0.1:${ext}/health`)).status, 404);
  // The server API goes to the internal port too (no key configured: locked with 401).
  assert.equal((await fetch(`http://127.0.0.1:${internal}/api/info`, { method: 'POST', body: '{}' })).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${ext}/api/info`, { method: 'POST', body: '{}' })).status, 404);
  await s.stop();
});

test('oversized and malformed requests get 431/413/400 and the server keeps serving', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const file = writeJson(path.join(dir, 'c.json'), {
    http_server: { port, max_request_body_size: 1000, max_request_header_size: 4096 }, health: { enabled: true },
  });
  await startGyre(t, { args: ['-c', file] });
  const bigHeader = await rawRequest(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`);
  assert.match(bigHeader, /^HTTP\/1\.1 431 /);
  const bigBody = await rawRequest(port, `POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'b'.repeat(5000)}`);
  assert.match(bigBody, /^HTTP\/1\.1 413 /);
  const garbage = await rawRequest(port, 'THIS IS NOT HTTP\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 /);
  const badLength = await rawRequest(port, 'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
  assert.match(badLength, /^HTTP\/1\.1 400 /);
  // Keep-alive: two requests on one connection, then the server still serves everyone.
  const two = await rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(two.match(/HTTP\/1\.1 200 OK/g)?.length, 2);
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
});

test('SIGHUP reloads namespaces atomically; a broken file keeps the running config', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const file = path.join(dir, 'c.json');
  writeJson(file, { http_server: { port }, health: { enabled: true } });
  const s = await startGyre(t, { args: ['-c', file] });
  writeJson(file, { http_server: { port }, health: { enabled: true }, channel: { namespaces: [{ name: 'chat' }, { name: 'news' }] } });
  process.kill(s.proc.pid, 'SIGHUP');
  await waitFor(() => /configuration reloaded namespaces=2/.test(s.output), { what: 'reload log line' });
  fs.writeFileSync(file, '{"broken": ');
  process.kill(s.proc.pid, 'SIGHUP');
  await waitFor(() => /configuration reload failed/.test(s.output), { what: 'reload failure line' });
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  assert.equal(s.exited, null);
  const exit = await s.stop('SIGINT');
  assert.equal(exit.code, 0);
});

test('graceful shutdown closes idle keep-alive connections promptly', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const file = writeJson(path.join(dir, 'c.json'), { http_server: { port }, health: { enabled: true }, shutdown: { timeout: '20s' } });
  const s = await startGyre(t, { args: ['-c', file] });
  const idle = rawRequest(port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 15000 });
  await waitFor(async () => true);
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  const exit = await s.stop('SIGTERM', 15000);
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - started < 5000, 'idle connections do not hold shutdown');
  assert.match(await idle, /^HTTP\/1\.1 200 OK/);
});

test('a port already in use stops start-up with a clear error', async (t) => {
  const port = await freePort();
  const first = await startGyre(t, { args: ['-c', '/nonexistent.json', `--port=${port}`] });
  const second = runGyre(['-c', '/nonexistent.json', `--port=${port}`, '--shards=1']);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /cannot listen on \*:\d+/);
  await first.stop();
});

test('serve: static files for trying a client page, no escaping the directory', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'index.html'), '<h1>hello gyre</h1>');
  const port = await freePort();
  const s = await startGyre(t, { args: ['serve', '-d', dir, '-p', String(port), '-a', '127.0.0.1'], readyLine: /start serving/ });
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.equal(await page.text(), '<h1>hello gyre</h1>');
  const escape = await rawRequest(port, 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(escape, /^HTTP\/1\.1 404 /);
  await s.stop();
});

test('.env in the working directory is loaded; the environment wins over it', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  fs.writeFileSync(path.join(dir, '.env'), `# comment\nCENTRIFUGO_HTTP_SERVER_PORT=${port}\nexport CENTRIFUGO_HEALTH_ENABLED="true"\nCENTRIFUGO_LOG_LEVEL=error\n`);
  const s = await startGyre(t, { args: [], cwd: dir, env: { CENTRIFUGO_LOG_LEVEL: 'info' } });
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  assert.match(s.output, /serving .*health endpoints/, 'info level from the environment, not .env');
});

test('TLS asked for but not available stops start-up; unavailable endpoints warn', async (t) => {
  const dir = tempDir(t);
  const port = await freePort();
  const tls = writeJson(path.join(dir, 'tls.json'), { http_server: { port, tls: { enabled: true } } });
  const r = runGyre(['-c', tls]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refusing to start: not available in this build: http_server\.tls\.enabled/);
  const grpc = writeJson(path.join(dir, 'grpc.json'), { http_server: { port }, grpc_api: { enabled: true } });
  const s = await startGyre(t, { args: ['-c', grpc] });
  assert.match(s.output, /no effect in this build: grpc_api\.enabled/);
});
