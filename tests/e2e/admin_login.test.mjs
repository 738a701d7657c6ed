// End-to-end tests of the admin login over plain HTTP (issue 17): a wrong password answers 400
// as in Centrifugo; repeated failures from one address are throttled with a growing delay (429
// and Retry-After, even for the right password) and logged at a bounded rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApiServer } from './lib/api.mjs';
import { sleep } from './lib/backend.mjs';

const PASSWORD = 'admin-e2e-password';

async function login(port, password) {
  const res = await fetch(`http://127.0.0.1:${port}/admin/auth`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `password=${encodeURIComponent(password)}`,
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), text, json };
}

const startAdmin = (t) => startApiServer(t, { admin: { enabled: true, password: PASSWORD, secret: 'admin-e2e-secret' } });

test('a wrong password answers 400 without a token; the right one a token', async (t) => {
  const { port } = await startAdmin(t);
  const wrong = await login(port, 'nope');
  assert.equal(wrong.status, 400, wrong.text);
  assert.equal(wrong.json?.token, undefined);
  const right = await login(port, PASSWORD);
  assert.equal(right.status, 200, right.text);
  assert.equal(typeof right.json?.token, 'string');
});

test('failed logins from one address: 5 free, then a delay that doubles; the right password waits too', async (t) => {
  const { port } = await startAdmin(t);
  for (let i = 1; i <= 5; i += 1) {
    const r = await login(port, `guess${i}`);
    assert.equal(r.status, 400, `failure ${i}: ${r.text}`);
  }
  // The 5th failure barred the address for 1 s: even the right password is refused unread.
  let r = await login(port, PASSWORD);
  assert.equal(r.status, 429, r.text);
  assert.equal(r.retryAfter, '1');
  assert.equal(r.json?.token, undefined);
  await sleep(1100);
  r = await login(port, 'guess6'); // looked at again: wrong, and now barred for 2 s
  assert.equal(r.status, 400, r.text);
  r = await login(port, PASSWORD);
  assert.equal(r.status, 429, r.text);
  assert.equal(r.retryAfter, '2');
  await sleep(2100);
  r = await login(port, PASSWORD);
  assert.equal(r.status, 200, r.text);
  // A success clears the record: failures are free again.
  assert.equal((await login(port, 'again')).status, 400);
  assert.equal((await login(port, PASSWORD)).status, 200);
});

test('a flood of wrong passwords is logged at a bounded rate, with counts', async (t) => {
  const { port, server } = await startAdmin(t);
  const started = Date.now();
  const statuses = [];
  for (let i = 0; i < 60; i += 1) statuses.push((await login(port, `flood${i}`)).status);
  const seconds = (Date.now() - started) / 1000;
  assert.deepEqual(statuses.slice(0, 5), [400, 400, 400, 400, 400]);
  // Barred for 1 s, then 2 s, ...: only an attempt after a delay ran out is looked at again.
  const lookedAt = statuses.slice(5).filter((s) => s !== 429);
  assert.ok(lookedAt.every((s) => s === 400) && lookedAt.length <= Math.log2(seconds + 1) + 1, statuses.join());
  const lines = () => server.output.split('\n').filter((l) => /admin login refused/.test(l));
  const during = lines().length;
  assert.ok(during >= 1, 'refusals are logged');
  assert.ok(during <= Math.ceil(seconds) + 1, `${during} lines in ${seconds} s:\n${lines().join('\n')}`);
  assert.match(lines()[0], /remote=(::ffff:)?127\.0\.0\.1 /);
  // A line a second later carries the count of what was not logged: nothing is lost.
  await sleep(1100);
  assert.ok([400, 429].includes((await login(port, 'late')).status)); // refused either way
  await sleep(100);
  const counts = lines().map((l) => Number(/refused_since_last_line=(\d+)/.exec(l)?.[1]));
  assert.equal(counts.reduce((a, b) => a + b, 0), 61, lines().join('\n'));
});
