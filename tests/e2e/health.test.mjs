// End-to-end tests of /health (issue 17): a liveness check as in Centrifugo, 200 {} while the
// process serves HTTP, whatever Redis does: frozen (SIGSTOP) or gone, it stays 200 and answers
// at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, eventually, startApiServer } from './lib/api.mjs';
import { startRedis } from './lib/redis.mjs';

async function health(port) {
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}

test('/health answers 200 {} at once while Redis is frozen, and after Redis is gone', async (t) => {
  const redis = await startRedis(t);
  const { port } = await startApiServer(t, {
    engine: { type: 'redis', redis: { address: `redis://127.0.0.1:${redis.port}`, prefix: `h${redis.port}` } },
    health: { enabled: true },
  });
  const up = await health(port);
  assert.deepEqual([up.status, up.body], [200, '{}']);

  process.kill(redis.proc.pid, 'SIGSTOP');
  let resumed = false;
  const resume = () => { if (!resumed) { resumed = true; try { process.kill(redis.proc.pid, 'SIGCONT'); } catch { /* gone */ } } };
  t.after(resume);
  try {
    for (let i = 0; i < 5; i += 1) {
      const h = await health(port);
      assert.equal(h.status, 200);
      assert.equal(h.body, '{}');
      assert.ok(h.ms < 1000, `answered in ${h.ms} ms`);
    }
  } finally {
    resume();
  }

  await redis.stop();
  // Once the node knows Redis is gone (publishes fail with 100), /health still says the process is up.
  await eventually(async () => (await api(port, 'publish', { channel: 'x', data: {} })).json?.error?.code === 100,
    { what: 'publish to fail with 100 once redis is gone', timeoutMs: 10000 });
  const h = await health(port);
  assert.equal(h.status, 200);
  assert.equal(h.body, '{}');
});
