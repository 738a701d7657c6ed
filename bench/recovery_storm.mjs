// recovery_storm.mjs: history publish throughput and a reconnect-with-recovery storm against a
// running Gyre (or Centrifugo) server. Driven by bench/recovery_storm.sh, which starts the server
// with a history config (history_size 1000, force_recovery) and pins server and load to separate
// cores; it can also be run by hand against any server:
//
//   node bench/recovery_storm.mjs --url http://127.0.0.1:8000 --key bench --server-pid PID \
//        [--phases publish,storm] [--clients 10000] [--missed 100] [--publish-seconds 5] \
//        [--publish-conc 16] [--connect-conc 500] [--timeout 60]
//
// Phase "publish": a closed loop of --publish-conc concurrent POST /api/publish requests over
// keep-alive connections (http.Agent) into one history channel for --publish-seconds after a 1 s
// warm-up; prints publishes/s, p50/p99/max ms and server CPU µs per publish.
//
// Phase "storm": --clients raw WebSocket clients (the `ws` package, JSON protocol v2, no SDK)
// connect and subscribe to channel "storm" with recoverable:true and record epoch and offset.
// POST /api/disconnect (user "", code 3000) drops all of them; while they are down --missed
// publications go through POST /api/publish; then every client reconnects at once (connect, then
// subscribe with recover:true, offset, epoch). Measured: time from the first reconnect until the
// last client holds a subscribe reply with recovered:true and exactly the missed publications
// (offsets contiguous from offset+1, payloads in publish order, epoch unchanged), per-client
// latency percentiles, failures by reason, server CPU seconds during the storm and server RSS.
//
// Output: one JSON object per line on stdout (phase results); progress goes to stderr.

import http from 'node:http';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let WebSocket;
try {
    WebSocket = require('ws');
} catch {
    WebSocket = require('../tests/e2e/node_modules/ws');
}

// ---------------------------------------------------------------- options

const opts = {
    url: 'http://127.0.0.1:8000',
    key: 'bench',
    serverPid: 0,
    phases: 'publish,storm',
    clients: 10000,
    missed: 100,
    publishSeconds: 5,
    publishWarmup: 1,
    publishConc: 16,
    pad: 64,
    connectConc: 500,
    timeout: 60,
    clkTck: 100,
    channel: 'storm',
};
{
    const a = process.argv.slice(2);
    const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    for (let i = 0; i < a.length; i++) {
        if (!a[i].startsWith('--')) usage(`unexpected argument ${a[i]}`);
        const k = camel(a[i].slice(2));
        if (!(k in opts)) usage(`unknown option ${a[i]}`);
        const v = a[++i];
        if (v === undefined) usage(`${a[i - 1]} needs a value`);
        opts[k] = typeof opts[k] === 'number' ? Number(v) : v;
    }
}
function usage(msg) {
    process.stderr.write(`recovery_storm: ${msg}\n`);
    process.exit(2);
}
const base = new URL(opts.url);
const wsUrl = `ws://${base.host}/connection/websocket`;
const log = (...m) => process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${m.join(' ')}\n`);
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// ---------------------------------------------------------------- server metrics (/proc)

function serverCpuSeconds() {
    if (!opts.serverPid) return NaN;
    try {
        const s = fs.readFileSync(`/proc/${opts.serverPid}/stat`, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        // fields after "(comm)": state is f[0], utime is stat field 14 => f[11], stime f[12]
        return (Number(f[11]) + Number(f[12])) / opts.clkTck;
    } catch {
        return NaN;
    }
}
function serverMem() {
    if (!opts.serverPid) return { rss_kb: NaN, hwm_kb: NaN };
    try {
        const s = fs.readFileSync(`/proc/${opts.serverPid}/status`, 'utf8');
        const get = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1]);
        return { rss_kb: get('VmRSS'), hwm_kb: get('VmHWM') };
    } catch {
        return { rss_kb: NaN, hwm_kb: NaN };
    }
}
const clientCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
};

// ---------------------------------------------------------------- HTTP API

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(opts.publishConc, 4) });

function api(method, body) {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                host: base.hostname,
                port: base.port,
                path: `/api/${method}`,
                method: 'POST',
                agent,
                headers: {
                    'Content-Type': 'application/json',
                    'Content-Length': payload.length,
                    'X-API-Key': opts.key,
                },
            },
            (res) => {
                const chunks = [];
                res.on('data', (c) => chunks.push(c));
                res.on('end', () => {
                    const text = Buffer.concat(chunks).toString();
                    if (res.statusCode !== 200) return reject(new Error(`${method}: HTTP ${res.statusCode} ${text}`));
                    let j;
                    try {
                        j = JSON.parse(text);
                    } catch {
                        return reject(new Error(`${method}: bad JSON ${text}`));
                    }
                    if (j.error) return reject(new Error(`${method}: ${JSON.stringify(j.error)}`));
                    resolve(j.result ?? {});
                });
            },
        );
        req.on('error', reject);
        req.end(payload);
    });
}

function pct(sorted, p) {
    if (!sorted.length) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const r3 = (x) => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- phase 1: publish with history

async function phasePublish() {
    const pad = 'x'.repeat(opts.pad);
    const channel = 'hist_publish';
    let seq = 0;
    let measuring = false;
    let stop = false;
    let ok = 0;
    let errors = 0;
    let lastOffset = 0;
    let offsetGaps = 0;
    const lat = [];
    const worker = async () => {
        while (!stop) {
            const t = performance.now();
            try {
                const r = await api('publish', { channel, data: { s: seq++, pad } });
                if (measuring) {
                    lat.push(performance.now() - t);
                    ok++;
                }
                if (typeof r.offset !== 'number' || !r.epoch) offsetGaps++;
                else lastOffset = Math.max(lastOffset, r.offset);
            } catch (e) {
                if (measuring) errors++;
                if (errors < 5) log('publish error:', e.message);
            }
        }
    };
    log(`publish: ${opts.publishConc} keep-alive connections, ${opts.publishWarmup}+${opts.publishSeconds} s, channel ${channel}`);
    const workers = Array.from({ length: opts.publishConc }, worker);
    await new Promise((r) => setTimeout(r, opts.publishWarmup * 1000));
    measuring = true;
    const cpu0 = serverCpuSeconds();
    const ccpu0 = clientCpu();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, opts.publishSeconds * 1000));
    measuring = false;
    const secs = (performance.now() - t0) / 1000;
    const cpu = serverCpuSeconds() - cpu0;
    const ccpu = clientCpu() - ccpu0;
    stop = true;
    await Promise.all(workers);
    lat.sort((a, b) => a - b);
    const res = {
        phase: 'publish',
        client: 'node http.Agent keep-alive',
        channel,
        conns: opts.publishConc,
        seconds: r3(secs),
        publishes_ok: ok,
        errors,
        replies_without_offset: offsetGaps,
        last_offset: lastOffset,
        publishes_per_s: Math.round(ok / secs),
        p50_ms: r3(pct(lat, 50)),
        p99_ms: r3(pct(lat, 99)),
        max_ms: r3(lat[lat.length - 1]),
        server_cpu_us_per_publish: r3((cpu * 1e6) / ok),
        client_cpu_share: r3(ccpu / secs),
        server_rss_kb: serverMem().rss_kb,
    };
    emit(res);
    return res;
}

// ---------------------------------------------------------------- phase 2: recovery storm

// One raw protocol-v2 JSON client. `onReply(id, reply)` gets command replies; server pings ({})
// are answered; pushes are counted.
class Client {
    constructor(i) {
        this.i = i;
        this.ws = null;
        this.epoch = null;
        this.offset = -1;
        this.pushes = 0;
        this.closeCode = 0;
        this.state = 'idle';
    }

    open(onReply, onClose) {
        const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: opts.timeout * 1000 });
        this.ws = ws;
        ws.on('open', () => ws.send('{"id":1,"connect":{}}'));
        ws.on('message', (data) => {
            const text = data.toString();
            for (const line of text.split('\n')) {
                if (line === '') continue;
                if (line === '{}') {
                    ws.send('{}');
                    continue;
                }
                let m;
                try {
                    m = JSON.parse(line);
                } catch {
                    onReply(this, -1, { error: { message: 'bad JSON' } });
                    continue;
                }
                if (m.id) onReply(this, m.id, m);
                else if (m.push) this.pushes++;
            }
        });
        ws.on('error', (e) => {
            this.lastError = e.code || e.message;
        });
        ws.on('close', (code) => {
            this.closeCode = code;
            onClose(this, code);
        });
    }
}

async function phaseStorm() {
    const C = opts.clients;
    const M = opts.missed;
    const channel = opts.channel;
    const mem0 = serverMem();

    // A few publications first, so the recorded offsets are not zero.
    const PRE = 5;
    for (let k = 0; k < PRE; k++) await api('publish', { channel, data: { pre: k } });

    // ---- 1. connect + subscribe (recoverable), a bounded number of handshakes in flight.
    const clients = Array.from({ length: C }, (_, i) => new Client(i));
    let subscribed = 0;
    let subFailed = 0;
    const tSub0 = performance.now();
    await new Promise((resolve) => {
        let next = 0;
        let inFlight = 0;
        const done = () => {
            inFlight--;
            if (subscribed + subFailed === C) resolve();
            else launch();
        };
        const launch = () => {
            while (inFlight < opts.connectConc && next < C) {
                const c = clients[next++];
                inFlight++;
                c.state = 'connecting';
                c.open(
                    (cl, id, m) => {
                        if (id === 1) {
                            if (!m.connect) {
                                cl.state = 'failed';
                                subFailed++;
                                log('connect failed:', JSON.stringify(m).slice(0, 200));
                                return done();
                            }
                            cl.ws.send(JSON.stringify({ id: 2, subscribe: { channel, recoverable: true } }));
                        } else if (id === 2) {
                            const s = m.subscribe;
                            if (!s || !s.epoch || !s.recoverable) {
                                cl.state = 'failed';
                                subFailed++;
                                log('subscribe failed:', JSON.stringify(m).slice(0, 200));
                                return done();
                            }
                            cl.epoch = s.epoch;
                            cl.offset = s.offset ?? 0;
                            cl.state = 'subscribed';
                            subscribed++;
                            done();
                        }
                    },
                    (cl) => {
                        if (cl.state === 'connecting') {
                            cl.state = 'failed';
                            subFailed++;
                            done();
                        }
                    },
                );
            }
        };
        launch();
    });
    const subSecs = (performance.now() - tSub0) / 1000;
    const epochs = new Set(clients.filter((c) => c.state === 'subscribed').map((c) => c.epoch));
    const offsets = new Set(clients.filter((c) => c.state === 'subscribed').map((c) => c.offset));
    const memSub = serverMem();
    log(`storm: ${subscribed}/${C} subscribed in ${subSecs.toFixed(2)} s (${subFailed} failed); epochs ${[...epochs]}, offsets ${[...offsets]}; server RSS ${memSub.rss_kb} kB`);

    // ---- 2. disconnect everyone through the API and wait for all the closes.
    const closeCodes = {};
    let closed = 0;
    const live = clients.filter((c) => c.state === 'subscribed');
    const allClosed = new Promise((resolve) => {
        if (!live.length) resolve();
        for (const c of live) {
            c.ws.removeAllListeners('close');
            c.ws.on('close', (code) => {
                closeCodes[code] = (closeCodes[code] || 0) + 1;
                c.state = 'down';
                if (++closed === live.length) resolve();
            });
        }
    });
    const tDisc0 = performance.now();
    await api('disconnect', { user: '', disconnect: { code: 3000, reason: 'bench' } });
    const discTimeout = new Promise((r) => setTimeout(() => r('timeout'), opts.timeout * 1000));
    const discResult = await Promise.race([allClosed, discTimeout]);
    const discSecs = (performance.now() - tDisc0) / 1000;
    log(`storm: ${closed}/${live.length} closed in ${discSecs.toFixed(3)} s, codes ${JSON.stringify(closeCodes)}${discResult === 'timeout' ? ' (TIMEOUT)' : ''}`);

    // ---- 3. publish the M publications the clients miss.
    const missedOffsets = [];
    let pubEpoch = null;
    for (let k = 0; k < M; k++) {
        const r = await api('publish', { channel, data: { m: k } });
        missedOffsets.push(r.offset);
        pubEpoch = r.epoch;
    }
    const firstMissed = missedOffsets[0];
    const contiguousPublish = missedOffsets.every((o, k) => o === firstMissed + k);
    log(`storm: published ${M} missed publications, offsets ${firstMissed}..${missedOffsets[M - 1]}, epoch ${pubEpoch}`);
    const memDown = serverMem();

    // ---- 4. the storm: every client reconnects at once with recover:true.
    const failures = {};
    const fail = (c, why) => {
        if (c.state === 'recovered' || c.state === 'failed') return;
        c.state = 'failed';
        failures[why] = (failures[why] || 0) + 1;
        if (Object.values(failures).reduce((a, b) => a + b, 0) <= 5) log(`client ${c.i} failed: ${why}`);
    };
    const lat = [];
    let recovered = 0;
    let opened = 0;
    let connected = 0;
    let tAllOpen = 0;
    let tAllConnected = 0;
    let finished = 0;
    const targets = live;
    const cpu0 = serverCpuSeconds();
    const ccpu0 = clientCpu();
    const t0 = performance.now();
    const stormDone = new Promise((resolve) => {
        const finish = () => {
            if (++finished === targets.length) resolve();
        };
        if (!targets.length) resolve();
        for (const c of targets) {
            c.state = 'reconnecting';
            c.open(
                (cl, id, m) => {
                    if (cl.state !== 'reconnecting' && cl.state !== 'resubscribing') return;
                    if (id === 1) {
                        if (!m.connect) {
                            fail(cl, `connect error ${JSON.stringify(m.error ?? m).slice(0, 80)}`);
                            return finish();
                        }
                        if (++connected === targets.length) tAllConnected = performance.now();
                        cl.state = 'resubscribing';
                        cl.ws.send(
                            JSON.stringify({
                                id: 2,
                                subscribe: { channel, recoverable: true, recover: true, offset: cl.offset, epoch: cl.epoch },
                            }),
                        );
                        return;
                    }
                    const s = m.subscribe;
                    if (!s) {
                        fail(cl, `subscribe error ${JSON.stringify(m.error ?? m).slice(0, 80)}`);
                        return finish();
                    }
                    const pubs = s.publications ?? [];
                    let why = null;
                    if (!s.was_recovering) why = 'was_recovering missing';
                    else if (!s.recovered) why = 'recovered false';
                    else if (s.epoch !== cl.epoch) why = 'epoch changed';
                    else if (pubs.length !== M) why = `publications ${pubs.length} != ${M}`;
                    else if ((s.offset ?? 0) !== cl.offset + M) why = 'top offset mismatch';
                    else {
                        for (let k = 0; k < M; k++) {
                            const p = pubs[k];
                            if (p.offset !== cl.offset + 1 + k) {
                                why = 'offsets not contiguous';
                                break;
                            }
                            if (!p.data || p.data.m !== k) {
                                why = 'payload out of order';
                                break;
                            }
                        }
                    }
                    if (why) fail(cl, why);
                    else {
                        cl.state = 'recovered';
                        recovered++;
                        lat.push(performance.now() - t0);
                    }
                    finish();
                },
                (cl, code) => {
                    if (cl.state === 'reconnecting' || cl.state === 'resubscribing') {
                        fail(cl, `closed ${code}${cl.lastError ? ' ' + cl.lastError : ''} before reply`);
                        finish();
                    }
                },
            );
            c.ws.on('open', () => {
                if (++opened === targets.length) tAllOpen = performance.now();
            });
        }
    });
    const launchMs = performance.now() - t0;
    const stormTimeout = new Promise((r) => setTimeout(() => r('timeout'), opts.timeout * 1000));
    const stormResult = await Promise.race([stormDone, stormTimeout]);
    const tEnd = performance.now();
    const cpu = serverCpuSeconds() - cpu0;
    const ccpu = clientCpu() - ccpu0;
    if (stormResult === 'timeout') {
        for (const c of targets) if (c.state !== 'recovered' && c.state !== 'failed') fail(c, `timeout in ${c.state}`);
    }
    const memAfter = serverMem();
    const stormSecs = ((lat.length ? Math.max(...lat) : tEnd - t0) / 1000);
    lat.sort((a, b) => a - b);
    const failed = Object.values(failures).reduce((a, b) => a + b, 0) + subFailed;
    const res = {
        phase: 'storm',
        clients: C,
        missed: M,
        subscribed,
        initial_subscribe_s: r3(subSecs),
        initial_epochs: epochs.size,
        disconnected: closed,
        disconnect_s: r3(discSecs),
        close_codes: closeCodes,
        missed_offsets_contiguous: contiguousPublish,
        recovered,
        failed,
        failures,
        storm_s: r3(stormSecs),
        launch_ms: r3(launchMs),
        all_open_s: tAllOpen ? r3((tAllOpen - t0) / 1000) : null,
        all_connected_s: tAllConnected ? r3((tAllConnected - t0) / 1000) : null,
        p50_ms: r3(pct(lat, 50)),
        p90_ms: r3(pct(lat, 90)),
        p99_ms: r3(pct(lat, 99)),
        recoveries_per_s: Math.round(recovered / stormSecs),
        delivered_recovered_pubs: recovered * M,
        server_cpu_s: r3(cpu),
        server_cpu_us_per_client: r3((cpu * 1e6) / Math.max(1, targets.length)),
        client_cpu_s: r3(ccpu),
        server_rss_kb: {
            before: mem0.rss_kb,
            with_clients: memSub.rss_kb,
            down: memDown.rss_kb,
            after_storm: memAfter.rss_kb,
            // VmHWM, or the largest VmRSS seen if higher (the kernel's RSS counters are
            // approximate per thread, so VmHWM can lag a sample taken earlier).
            peak: Math.max(memAfter.hwm_kb, mem0.rss_kb, memSub.rss_kb, memDown.rss_kb, memAfter.rss_kb),
        },
    };
    log(`storm: ${recovered}/${targets.length} recovered in ${stormSecs.toFixed(3)} s, server CPU ${cpu.toFixed(2)} s`);
    emit(res);
    for (const c of clients) c.ws?.terminate();
    return res;
}

// ---------------------------------------------------------------- main

const results = [];
let exitCode = 0;
try {
    for (const p of opts.phases.split(',')) {
        if (p === 'publish') {
            const r = await phasePublish();
            if (r.errors || !r.publishes_ok) exitCode = 1;
            results.push(r);
        } else if (p === 'storm') {
            const r = await phaseStorm();
            if (r.failed || r.recovered !== opts.clients) exitCode = 1;
            results.push(r);
        } else usage(`unknown phase ${p}`);
    }
} catch (e) {
    log('error:', e.stack || e.message);
    exitCode = 1;
}
agent.destroy();
process.exit(exitCode);
