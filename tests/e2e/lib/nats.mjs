// A real nats-server on a free loopback port for a test: stopped by pid when the test ends,
// every wait bounded by a timeout. `restart()` brings it back on the same port.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { freePort, trackProcess, waitFor } from './gyre.mjs';

/** True once a NATS server on `port` greets with its INFO line. */
function greets(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const done = (v) => { sock.destroy(); resolve(v); };
    sock.setTimeout(500, () => done(false));
    sock.on('data', (d) => { out += d.toString(); if (out.startsWith('INFO ')) done(true); });
    sock.on('error', () => done(false));
  });
}

async function spawnNats(nats) {
  const proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(nats.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackProcess(proc);
  nats.proc = proc;
  nats.exited = null;
  proc.stdout.on('data', (d) => { nats.output += d.toString(); });
  proc.stderr.on('data', (d) => { nats.output += d.toString(); });
  nats.exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => { nats.exited = { code, signal }; resolve(); }));
  let up = false;
  await waitFor(async () => { up = await greets(nats.port); return up || nats.exited; },
    { timeoutMs: 10000, what: 'nats-server to send INFO' });
  if (!up) throw new Error(`nats-server did not start: ${nats.output}`);
}

export async function startNats(t, { port } = {}) {
  const nats = { port: port ?? await freePort(), proc: null, exited: null, output: '' };
  nats.url = `nats://127.0.0.1:${nats.port}`;
  nats.stop = async () => {
    if (!nats.proc || nats.exited) return;
    try { process.kill(nats.proc.pid, 'SIGKILL'); } catch { /* gone */ }
    await Promise.race([nats.exitPromise, new Promise((r) => setTimeout(r, 5000))]);
  };
  nats.restart = async () => { await nats.stop(); await spawnNats(nats); };
  t.after(() => nats.stop());
  await spawnNats(nats);
  return nats;
}

/**
 * A raw NATS subscriber on `subject` (the plain text protocol, no client library): resolves once
 * the server confirmed the SUB (PONG); `msgs` collects { subject, data: Buffer }. Closed when
 * the test ends.
 */
export function natsSubscribe(t, port, subject, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const sub = { msgs: [], sock };
    t.after(() => sock.destroy());
    let buf = Buffer.alloc(0);
    let ready = false;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`NATS SUB ${subject} not confirmed`)); }, timeoutMs);
    sock.on('error', (e) => { if (!ready) { clearTimeout(timer); reject(e); } });
    sock.on('connect', () => sock.write(`CONNECT {"verbose":false,"pedantic":false}\r\nSUB ${subject} 1\r\nPING\r\n`));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.subarray(0, eol).toString();
        if (line.startsWith('MSG ')) {
          const parts = line.split(' ');
          const size = Number(parts.at(-1));
          if (buf.length < eol + 2 + size + 2) return; // payload not complete yet
          sub.msgs.push({ subject: parts[1], data: Buffer.from(buf.subarray(eol + 2, eol + 2 + size)) });
          buf = buf.subarray(eol + 2 + size + 2);
          continue;
        }
        buf = buf.subarray(eol + 2);
        if (line === 'PING') sock.write('PONG\r\n');
        if (line === 'PONG' && !ready) { ready = true; clearTimeout(timer); resolve(sub); }
      }
    });
  });
}
