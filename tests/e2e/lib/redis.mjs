// A real redis-server on a free loopback port for a test: no persistence, stopped by pid when
// the test ends, waited for with a timeout.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { freePort, waitFor } from './gyre.mjs';

function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const done = (v) => { sock.destroy(); resolve(v); };
    sock.setTimeout(500, () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => { out += d.toString(); if (out.includes('PONG')) done(true); });
    sock.on('error', () => done(false));
  });
}

export async function startRedis(t, { port } = {}) {
  const p = port ?? await freePort();
  const proc = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const redis = { port: p, proc, exited: null, output: '' };
  proc.stdout.on('data', (d) => { redis.output += d.toString(); });
  proc.stderr.on('data', (d) => { redis.output += d.toString(); });
  redis.exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => { redis.exited = { code, signal }; resolve(); }));
  redis.stop = async () => {
    if (redis.exited) return;
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
    await redis.exitPromise;
  };
  t.after(() => redis.stop());
  let up = false;
  await waitFor(async () => { up = await ping(p); return up || redis.exited; }, { timeoutMs: 10000, what: 'redis-server to answer PING' });
  if (!up) throw new Error(`redis-server did not start: ${redis.output}`);
  return redis;
}
