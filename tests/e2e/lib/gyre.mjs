// Helpers for end-to-end tests: run the real gyre binary on free loopback ports, wait with
// timeouts, and always stop what was started (by pid) when the test ends.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const GYRE_BIN = process.env.GYRE_BIN || path.resolve('build/gyre');

/**
 * True when GYRE_BIN is a sanitizer build (it links libasan/libubsan). Such a build keeps freed
 * memory in ASan's quarantine, so RSS says nothing about what Gyre holds, and UBSan's checks need
 * file descriptors of their own.
 */
export const SANITIZED = /lib(asan|ubsan)/.test(spawnSync('ldd', [GYRE_BIN], { encoding: 'utf8' }).stdout || '');

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gyre-e2e-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a gyre CLI command to completion (bounded by timeoutMs). */
export function runGyre(args, { env = {}, cwd, timeoutMs = 20000 } = {}) {
  const r = spawnSync(GYRE_BIN, args, {
    env: { ...cleanEnv(), ...env }, cwd, timeout: timeoutMs, encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('CENTRIFUGO_') || (k.startsWith('GYRE_') && k !== 'GYRE_BIN')) delete env[k];
  }
  return env;
}

export async function waitFor(predicate, { timeoutMs = 10000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// Every process a test starts, so that a failing clean-up hook (a sanitizer report throws)
// can stop the rest first: node:test may skip the hooks after a failing one, and a process
// left running would keep the test file from ever ending.
const running = new Set();

/** Registers a child process until it exits. */
export function trackProcess(proc) {
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
}

function killEveryTrackedProcess() {
  for (const p of running) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/**
 * Starts the server; resolves once `readyLine` appears in its log. The process is killed by pid
 * when the test ends, whatever happened.
 */
export async function startGyre(t, { args = [], env = {}, cwd, readyLine = /serving .* endpoints on/, timeoutMs = 15000 } = {}) {
  const proc = spawn(GYRE_BIN, args, { env: { ...cleanEnv(), ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  trackProcess(proc);
  const server = { proc, output: '', exited: null };
  proc.stdout.on('data', (d) => { server.output += d.toString(); });
  proc.stderr.on('data', (d) => { server.output += d.toString(); });
  server.exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
    server.exited = { code, signal };
    resolve(server.exited);
  }));
  t.after(async () => {
    if (!server.exited) {
      // SIGTERM first so a sanitizer build reports leaks at exit; SIGKILL if it hangs.
      try { process.kill(proc.pid, 'SIGTERM'); } catch { /* already gone */ }
      const killer = setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 10000);
      await server.exitPromise;
      clearTimeout(killer);
    }
    const report = server.output.match(/(ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:).*/);
    if (report) {
      killEveryTrackedProcess();
      // From the report's first line on: the stack of the bad access is what a reader needs.
      const start = server.output.lastIndexOf('\n', report.index) + 1;
      throw new Error(`sanitizer report from gyre: ${report[0]}\n${server.output.slice(start, start + 12000)}`);
    }
  });
  if (readyLine) {
    await waitFor(() => readyLine.test(server.output) || server.exited,
      { timeoutMs, what: `gyre to log ${readyLine}` });
    if (server.exited && !readyLine.test(server.output)) {
      throw new Error(`gyre exited early (${JSON.stringify(server.exited)}):\n${server.output}`);
    }
  }
  server.stop = async (signal = 'SIGTERM', timeoutMs2 = 10000) => {
    if (server.exited) return server.exited;
    process.kill(proc.pid, signal);
    let handle;
    const timer = new Promise((_, rej) => { handle = setTimeout(() => rej(new Error('gyre did not exit in time')), timeoutMs2); });
    try {
      return await Promise.race([server.exitPromise, timer]);
    } finally {
      clearTimeout(handle); // a pending timer would keep the test process alive
    }
  };
  return server;
}

/** Sends raw bytes on a fresh TCP connection and returns everything received until close/timeout. */
export function rawRequest(port, data, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { sock.destroy(); resolve(out); }, timeoutMs);
    sock.on('connect', () => sock.write(data));
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('error', (e) => { clearTimeout(timer); if (out) resolve(out); else reject(e); });
    sock.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

export function writeJson(file, obj) {
  fs.writeFileSync(file, JSON.stringify(obj, null, 2));
  return file;
}
