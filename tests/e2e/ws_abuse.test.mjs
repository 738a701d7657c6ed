// End-to-end tests of what a hostile or broken peer can do to the server (issue 17): floods of
// WebSocket pings or protocol commands from a peer that never reads, close frames that RFC 6455
// forbids, running out of descriptors, and HTTP/1.1 requests without a Host header. The peers are
// raw TCP sockets: the upgrade request and the masked frames are written by hand.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, test } from 'node:test';
import { SANITIZED, freePort, rawRequest, startGyre, tempDir, waitFor, writeJson } from './lib/gyre.mjs';
import { scrape, sum } from './lib/metrics.mjs';

async function startServer(t, extra = {}) {
  const dir = tempDir(t);
  const port = await freePort();
  const cfg = {
    http_server: { port },
    client: { allow_anonymous_connect_without_token: true },
    ...extra,
  };
  const server = await startGyre(t, { args: ['-c', writeJson(path.join(dir, 'config.json'), cfg)] });
  return { port, server };
}

/** Resident memory of a process in bytes (VmRSS of /proc/<pid>/status). */
function rss(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}

/** A client frame: FIN set, masked with a random key, as RFC 6455 requires of clients. */
function frame(opcode, payload = Buffer.alloc(0)) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = body.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
    : n <= 0xffff ? Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => {
        const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b;
      })()]);
  const mask = crypto.randomBytes(4);
  const masked = Buffer.alloc(n);
  for (let i = 0; i < n; ++i) masked[i] = body[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, masked]);
}

const closeFrame = (code, reason = Buffer.alloc(0)) => {
  const b = Buffer.alloc(2); b.writeUInt16BE(code);
  return frame(0x8, Buffer.concat([b, Buffer.isBuffer(reason) ? reason : Buffer.from(reason)]));
};

/** Server frames (never masked) at the start of `buf`; `rest` is an incomplete frame. */
function parseFrames(buf) {
  const frames = [];
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const op = buf[pos] & 0x0f;
    let len = buf[pos + 1] & 0x7f;
    let at = pos + 2;
    if (len === 126) { if (buf.length < at + 2) break; len = buf.readUInt16BE(at); at += 2; }
    else if (len === 127) { if (buf.length < at + 8) break; len = Number(buf.readBigUInt64BE(at)); at += 8; }
    if (buf.length < at + len) break;
    frames.push({ op, payload: buf.subarray(at, at + len) });
    pos = at + len;
  }
  return { frames, rest: buf.subarray(pos) };
}

/**
 * A raw WebSocket peer: resolves after the 101 response. `frames` collects what the server
 * sends while the peer reads; `ended` resolves when the server closes the TCP connection
 * (FIN, reset or a failed write).
 */
function rawWebSocket(t, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const peer = { sock, frames: [], ended: null };
    let buf = Buffer.alloc(0);
    let upgraded = false;
    peer.endedPromise = new Promise((done) => {
      const end = (how) => { if (!peer.ended) { peer.ended = { how, at: Date.now() }; done(peer.ended); } };
      sock.on('end', () => end('fin'));
      sock.on('error', (e) => end(e.code || 'error'));
      sock.on('close', () => end('close'));
    });
    t.after(() => sock.destroy());
    const timer = setTimeout(() => reject(new Error('no 101 within 5 s')), 5000);
    sock.on('connect', () => sock.write(
      'GET /connection/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
      'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n\r\n`));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        clearTimeout(timer);
        if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(`no upgrade: ${head}`)); return; }
        upgraded = true;
        resolve(peer);
      }
      const { frames, rest } = parseFrames(buf);
      peer.frames.push(...frames);
      buf = Buffer.from(rest);
    });
    sock.on('error', (e) => { clearTimeout(timer); if (!upgraded) reject(e); });
  });
}

/**
 * Writes `chunk` again and again without ever reading, honouring the socket's own backpressure,
 * until the server drops the connection, `maxBytes` went out, or `ms` passed. Samples the
 * server's RSS meanwhile; resolves with the peak and what was written.
 */
async function flood(peer, chunk, pid, { ms, maxBytes }) {
  peer.sock.pause(); // never read: the server's replies pile up in the kernel, then in Gyre
  const started = Date.now();
  let peak = rss(pid);
  const sampler = setInterval(() => { try { peak = Math.max(peak, rss(pid)); } catch { /* exited */ } }, 20);
  let written = 0;
  try {
    while (!peer.ended && Date.now() - started < ms && written < maxBytes) {
      written += chunk.length;
      if (!peer.sock.write(chunk)) {
        // Wait for the kernel to take more, for the end, or for a bounded moment.
        await new Promise((resolve) => {
          const done = () => { clearTimeout(timer); peer.sock.off('drain', done); resolve(); };
          const timer = setTimeout(done, 100);
          peer.sock.on('drain', done);
          peer.endedPromise.then(done);
        });
      }
    }
    // A peer that wrote its last bytes learns of the end when the server resets the connection.
    await Promise.race([peer.endedPromise, new Promise((r) => setTimeout(r, Math.max(1000, started + ms - Date.now())))]);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rss(pid));
  return { peak, written, started, took: Date.now() - started };
}

const MB = 1024 * 1024;
// How soon a peer that never reads is dropped: a write waits websocket.write_timeout (1 s) once
// the socket is full; a sanitizer build on a busy machine takes seconds more to get there.
const DROP_WITHIN_MS = SANITIZED ? 10000 : 4000;

/** Baseline RSS once a first connection has made the shards allocate their read buffers. */
async function warmBaseline(t, port, pid) {
  const warm = await rawWebSocket(t, port);
  warm.sock.write(frame(0x9, 'warm'));
  await waitFor(() => warm.frames.some((f) => f.op === 0xA), { what: 'warm-up pong' });
  warm.sock.destroy();
  await new Promise((r) => setTimeout(r, 200));
  return rss(pid);
}

describe('a peer that never reads', () => {
  test('a ping flood keeps RSS within a few MB and the connection is dropped', async (t) => {
    const { port, server } = await startServer(t, { gyre: { shards: 2 } });
    const pid = server.proc.pid;
    const baseline = await warmBaseline(t, port, pid);
    const peer = await rawWebSocket(t, port);
    // 512 pings of 125 bytes per write (~66 KB): each one asks for a 127-byte pong.
    const chunk = Buffer.concat(Array.from({ length: 512 }, () => frame(0x9, crypto.randomBytes(125))));
    const r = await flood(peer, chunk, pid, { ms: 6000, maxBytes: 200 * MB });
    const grew = (r.peak - baseline) / MB;
    t.diagnostic(`ping flood: ${(r.written / MB).toFixed(1)} MB written in ${r.took} ms, ` +
      `RSS ${(baseline / MB).toFixed(1)} MB -> peak ${(r.peak / MB).toFixed(1)} MB, end: ${peer.ended?.how}`);
    // ASan's quarantine keeps what was freed: the bound is measured on the release build.
    if (!SANITIZED) assert.ok(grew < 8, `RSS grew by ${grew.toFixed(1)} MB`);
    assert.ok(peer.ended, 'the server kept the connection of a peer that never reads');
    // Dropped once a write has waited websocket.write_timeout (1 s).
    assert.ok(peer.ended.at - r.started < DROP_WITHIN_MS, `dropped only after ${peer.ended.at - r.started} ms`);
    // Still serving others.
    const other = await rawWebSocket(t, port);
    other.sock.write(frame(0x9, 'still there'));
    await waitFor(() => other.frames.some((f) => f.op === 0xA && f.payload.toString() === 'still there'),
      { what: 'a pong on a fresh connection' });
    assert.equal(server.exited, null);
  });

  test('a flood of commands keeps RSS within a few MB and the connection is dropped soon', async (t) => {
    const { port, server } = await startServer(t, { gyre: { shards: 2 }, prometheus: { enabled: true } });
    const pid = server.proc.pid;
    const baseline = await warmBaseline(t, port, pid);
    const peer = await rawWebSocket(t, port);
    peer.sock.write(frame(0x1, '{"id":1,"connect":{}}'));
    await waitFor(() => peer.frames.some((f) => f.op === 0x1 && f.payload.toString().includes('"client"')),
      { what: 'connect reply' });
    // Frames of 500 '\n'-joined commands, each answered with a reply (an error, no RPC handler).
    let id = 2;
    const frames = [];
    for (let f = 0; f < 64; ++f) {
      const cmds = [];
      for (let i = 0; i < 500; ++i) cmds.push(`{"id":${id++},"rpc":{"method":"m"}}`);
      frames.push(frame(0x1, cmds.join('\n')));
    }
    const chunk = Buffer.concat(frames);
    const r = await flood(peer, chunk, pid, { ms: 6000, maxBytes: 200 * MB });
    const grew = (r.peak - baseline) / MB;
    t.diagnostic(`command flood: ${(r.written / MB).toFixed(1)} MB written in ${r.took} ms, ` +
      `RSS ${(baseline / MB).toFixed(1)} MB -> peak ${(r.peak / MB).toFixed(1)} MB, ` +
      `end: ${peer.ended?.how} after ${peer.ended ? peer.ended.at - r.started : '-'} ms`);
    // The outbox is bounded by client.queue_max_size (1 MB) and the write in flight by as much.
    // ASan's quarantine keeps what was freed: the bound is measured on the release build.
    if (!SANITIZED) assert.ok(grew < 8, `RSS grew by ${grew.toFixed(1)} MB`);
    assert.ok(peer.ended, 'the server kept the connection of a peer that never reads');
    // Dropped once a write has waited websocket.write_timeout (1 s), not after the 5 s that a
    // close frame gets to leave.
    assert.ok(peer.ended.at - r.started < DROP_WITHIN_MS, `dropped only after ${peer.ended.at - r.started} ms`);
    // Counted as Centrifugo counts a write that timed out: disconnect 3009 "write error".
    await waitFor(async () => sum(await scrape(port), 'centrifugo_client_num_server_disconnects', { code: '3009' }) === 1,
      { what: 'one 3009 disconnect in the metrics' });
    assert.equal(server.exited, null);
  });

  test('websocket.write_timeout sets how long a write may wait', async (t) => {
    const { port, server } = await startServer(t, { websocket: { write_timeout: '3s' } });
    const peer = await rawWebSocket(t, port);
    const chunk = Buffer.concat(Array.from({ length: 512 }, () => frame(0x9, crypto.randomBytes(125))));
    const r = await flood(peer, chunk, server.proc.pid, { ms: 8000, maxBytes: 200 * MB });
    assert.ok(peer.ended, 'not dropped');
    const after = peer.ended.at - r.started;
    assert.ok(after >= 2500 && after < 7000, `dropped after ${after} ms with a 3 s write timeout`);
  });
});

describe('close frames', () => {
  /** Sends `bytes` (a close frame); resolves with the server's close code (0: none) and the end. */
  async function answer(t, port, bytes) {
    const peer = await rawWebSocket(t, port);
    peer.sock.write(bytes);
    await waitFor(() => peer.frames.some((f) => f.op === 0x8), { timeoutMs: 3000, what: 'a close frame' });
    const close = peer.frames.find((f) => f.op === 0x8);
    const code = close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 0;
    const started = Date.now();
    await Promise.race([peer.endedPromise, new Promise((r) => setTimeout(r, 3000))]);
    return { code, endedIn: peer.ended ? Date.now() - started : null };
  }

  test('codes RFC 6455 forbids on the wire and a reason that is not UTF-8 get 1002', async (t) => {
    const { port } = await startServer(t);
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      const r = await answer(t, port, closeFrame(code));
      assert.equal(r.code, 1002, `close code ${code} answered with ${r.code}`);
      assert.ok(r.endedIn !== null && r.endedIn < 2000, `code ${code}: connection not closed after the 1002`);
    }
    for (const [what, reason] of [
      ['a lone continuation byte', Buffer.from([0x80])],
      ['an overlong slash', Buffer.from([0xc0, 0xaf])],
      ['a surrogate', Buffer.from([0xed, 0xa0, 0x80])],
      ['beyond U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
      ['a truncated sequence', Buffer.from('ok\xe2\x82', 'latin1')],
    ]) {
      const r = await answer(t, port, closeFrame(1000, reason));
      assert.equal(r.code, 1002, `reason with ${what} answered with ${r.code}`);
    }
  });

  test('valid codes and UTF-8 reasons are echoed', async (t) => {
    const { port } = await startServer(t);
    for (const code of [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999]) {
      assert.equal((await answer(t, port, closeFrame(code, 'bye'))).code, code);
    }
    assert.equal((await answer(t, port, closeFrame(1000, 'héllo wörld €𝄞'))).code, 1000);
    const empty = await answer(t, port, frame(0x8)); // no code at all: a close without one
    assert.equal(empty.code, 0);
  });
});

describe('HTTP', () => {
  test('an HTTP/1.1 request without a Host header gets 400', async (t) => {
    const { port } = await startServer(t);
    const noHost = await rawRequest(port, 'GET /connection/init HTTP/1.1\r\n\r\n');
    assert.match(noHost, /^HTTP\/1\.1 400 /);
    const twoHosts = await rawRequest(port, 'GET /nowhere HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    assert.match(twoHosts, /^HTTP\/1\.1 400 /);
    const upgrade = await rawRequest(port,
      'GET /connection/websocket HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n\r\n`);
    assert.match(upgrade, /^HTTP\/1\.1 400 /);
    const withHost = await rawRequest(port, 'GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(withHost, /^HTTP\/1\.1 404 /);
    const http10 = await rawRequest(port, 'GET /nowhere HTTP/1.0\r\n\r\n'); // Host is optional in 1.0
    assert.match(http10, /^HTTP\/1\.[01] 404 /);
  });

  // UBSan's vptr check opens a pipe to probe memory: without descriptors it reports a false
  // "invalid vptr" and stops the process, so this runs on the release build only.
  test('accept failures for want of descriptors are logged once a second per shard, with a count',
    { skip: SANITIZED && 'sanitizer runtimes need descriptors of their own' }, async (t) => {
    const shards = 2;
    const { port, server } = await startServer(t, { gyre: { shards } });
    // Leave the running server few descriptors, then queue more connections than it can take.
    const lowered = spawnSync('prlimit', [`--pid=${server.proc.pid}`, '--nofile=48:48']);
    assert.equal(lowered.status, 0, lowered.stderr?.toString());
    const socks = [];
    t.after(() => { for (const s of socks) s.destroy(); });
    for (let i = 0; i < 80; ++i) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      socks.push(s);
    }
    const from = server.output.length;
    const lines = () => server.output.slice(from).split('\n').filter((l) => /accept failed/.test(l));
    await waitFor(() => lines().length > 0, { what: 'an accept failure in the log' });
    await new Promise((r) => setTimeout(r, 3000));
    const logged = lines();
    t.diagnostic(`${logged.length} lines in ~3 s: ${logged.slice(0, 2).join(' | ')}`);
    // One per second per shard, plus the first of each shard and a partial second at the edges.
    assert.ok(logged.length <= shards * 5, `${logged.length} accept-failure lines in about 3 s`);
    assert.ok(logged.every((l) => /failures=\d+/.test(l)), 'each line counts the failures it stands for');
    // Once descriptors are back, the server accepts again.
    for (const s of socks) s.destroy();
    spawnSync('prlimit', [`--pid=${server.proc.pid}`, '--nofile=4096:4096']);
    const served = async () => {
      try {
        const res = await rawRequest(port, 'GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
          { timeoutMs: 1000 });
        return /^HTTP\/1\.1 404 /.test(res);
      } catch { return false; }
    };
    await waitFor(served, { what: 'a request served after the descriptors came back' });
    assert.equal(server.exited, null);
  });
});
