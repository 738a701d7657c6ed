// A real redis-server on a free loopback port for a test: no persistence, stopped by pid when
// the test ends, waited for with a timeout.
import net from 'node:net';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, trackProcess, waitFor } from './gyre.mjs';

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

/**
 * `dir` (a folder the test owns) turns on the append-only file there, so data survives a
 * restart on the same port and dir; without it nothing is kept.
 */
export async function startRedis(t, { port, dir, args = [], configFile } = {}) {
  const p = port ?? await freePort();
  const persistence = dir ? ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const argv = configFile
    ? [configFile, '--port', String(p), '--bind', '127.0.0.1', ...args] // a sentinel: its own file
    : ['--port', String(p), '--bind', '127.0.0.1', '--save', '', ...persistence, ...args];
  const proc = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackProcess(proc);
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
  /** The same server again (port, files, arguments), e.g. a cluster node keeping its identity. */
  redis.restart = () => startRedis(t, { port: p, dir, args, configFile });
  let up = false;
  await waitFor(async () => { up = await ping(p); return up || redis.exited; }, { timeoutMs: 10000, what: 'redis-server to answer PING' });
  if (!up) throw new Error(`redis-server did not start: ${redis.output}`);
  return redis;
}

function parseReply(buf, pos = 0) {
  const end = buf.indexOf('\r\n', pos);
  if (end < 0) return null;
  const type = buf[pos];
  const line = buf.slice(pos + 1, end);
  if (type === '+' || type === '-') return { value: type === '-' ? new Error(line) : line, next: end + 2 };
  if (type === ':') return { value: Number(line), next: end + 2 };
  if (type === '$') {
    const n = Number(line);
    if (n < 0) return { value: null, next: end + 2 };
    if (Buffer.byteLength(buf.slice(end + 2)) < n + 2) return null;
    return { value: buf.slice(end + 2, end + 2 + n), next: end + 2 + n + 2 };
  }
  if (type === '*') {
    const n = Number(line);
    const items = [];
    let at = end + 2;
    for (let i = 0; i < n; i += 1) {
      const item = parseReply(buf, at);
      if (!item) return null;
      items.push(item.value);
      at = item.next;
    }
    return { value: items, next: at };
  }
  throw new Error(`unexpected RESP type ${type}`);
}

/** One command on a fresh connection to redis on `port`; resolves with the decoded reply. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.setTimeout(3000, () => { sock.destroy(); reject(new Error(`redis ${args[0]} timed out`)); });
    sock.on('connect', () => {
      sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
    });
    sock.on('data', (d) => {
      out += d.toString('latin1');
      const r = parseReply(out);
      if (r) { sock.destroy(); resolve(r.value); }
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error(`redis closed the connection on ${args[0]}`))); // no-op once settled
  });
}

/**
 * A three-master Redis Cluster (no replicas) on free loopback ports, created with
 * `redis-cli --cluster create`; resolves once every node reports cluster_state:ok.
 */
export async function startRedisCluster(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gyre-cluster-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const nodes = [];
  for (let i = 0; i < 3; i += 1) {
    const busPort = await freePort(); // the default (port + 10000) may not exist
    nodes.push(await startRedis(t, {
      args: ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${i}.conf`),
        '--cluster-port', String(busPort), '--cluster-node-timeout', '2000', '--dir', dir],
    }));
  }
  await new Promise((resolve, reject) => {
    execFile('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20000 },
    (err, stdout, stderr) => (err ? reject(new Error(`cluster create: ${err.message}\n${stdout}${stderr}`)) : resolve()));
  });
  for (const n of nodes) {
    await waitFor(async () => String(await redisCommand(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
      { timeoutMs: 15000, what: `cluster_state:ok on ${n.port}` });
  }
  return nodes;
}

/**
 * A master, one replica and one Sentinel watching them as "mymaster" (quick failure detection),
 * resolved once the Sentinel knows the replica.
 */
export async function startRedisSentinel(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gyre-sentinel-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const master = await startRedis(t);
  const replica = await startRedis(t, { args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => String(await redisCommand(replica.port, 'INFO', 'replication')).includes('master_link_status:up'),
    { timeoutMs: 10000, what: 'the replica to sync' });
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, [
    `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
    'sentinel down-after-milliseconds mymaster 1000',
    'sentinel failover-timeout mymaster 5000',
    `dir ${dir}`, ''].join('\n'));
  const sentinel = await startRedis(t, { configFile: conf, args: ['--sentinel'] });
  await waitFor(async () => JSON.stringify(await redisCommand(sentinel.port, 'SENTINEL', 'replicas', 'mymaster'))
    .includes(String(replica.port)), { timeoutMs: 10000, what: 'the sentinel to find the replica' });
  const masterPort = async () => Number((await redisCommand(sentinel.port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster'))[1]);
  return { master, replica, sentinel, masterPort };
}
