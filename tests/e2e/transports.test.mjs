// End-to-end tests of the HTTP-based transports: the bidirectional emulation (http_stream and sse
// plus /emulation) driven by the real centrifuge-js SDK (JSON and Protobuf builds, with fallback
// from a disabled WebSocket), the unidirectional transports (uni_sse, uni_http_stream,
// uni_websocket) driven by plain HTTP/WebSocket clients, /connection/init, bad input, CORS,
// session clean-up and slow readers. Configured with Centrifugo v6 keys only.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, test } from 'node:test';
import { api, collect, eventually, userToken } from './lib/api.mjs';
import { decode, encode, once } from './lib/clients.mjs';
import { waitFor } from './lib/gyre.mjs';
import {
  ALLOWED_ORIGIN, EventSource, WebSocket, base, emulationClient, httpRequest, isPing, messageStream,
  numClients, openStream, startTransportServer,
} from './lib/transports.mjs';

/** An API call that must succeed; returns its result. */
async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, `${method}: HTTP ${r.status} ${r.text}`);
  assert.equal(r.json?.error, undefined, `${method} ${JSON.stringify(body)}: ${r.text}`);
  return r.json.result;
}

const uniqueChannel = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
const connectCommand = (token) => JSON.stringify({ id: 1, connect: { token, name: 'e2e' } });

// ---------------------------------------------------------------------------------------------
// 1–2. centrifuge-js over http_stream (JSON and Protobuf)
// ---------------------------------------------------------------------------------------------
for (const protobuf of [false, true]) {
  const kind = protobuf ? 'protobuf' : 'json';
  const payload = (obj) => (protobuf ? encode(obj) : obj);

  test(`http_stream ${kind}: connect, subscribe, publish, API publish, presence, history, rpc error, API disconnect`, async (t) => {
    const { port } = await startTransportServer(t);
    const ch = uniqueChannel(`hs-${kind}`);
    const c = emulationClient(t, port, { protobuf, transports: ['http_stream'], token: userToken('alice') });
    const connected = once(c, 'connected');
    c.connect();
    const ctx = await connected;
    assert.equal(ctx.transport, 'http_stream');
    assert.match(ctx.client, /^[0-9a-f-]{36}$/);

    const s = c.newSubscription(ch);
    const pubs = collect(s, 'publication');
    s.subscribe();
    await s.ready(5000);

    assert.deepEqual(await s.publish(payload({ from: 'client', n: 1 })), {});
    await eventually(() => pubs.length === 1, { what: 'own publication back over http_stream' });
    assert.deepEqual(decode(pubs[0].data), { from: 'client', n: 1 });
    assert.equal(pubs[0].info?.user, 'alice', 'publisher info of a client publication');

    await ok(port, 'publish', { channel: ch, data: { from: 'api', n: 2 } });
    await eventually(() => pubs.length === 2, { what: 'API publication over http_stream' });
    assert.deepEqual(decode(pubs[1].data), { from: 'api', n: 2 });

    const presence = await s.presence();
    const entries = Object.values(presence.clients);
    assert.equal(entries.length, 1);
    assert.equal(entries[0].user, 'alice');
    assert.equal(entries[0].client, ctx.client);
    assert.deepEqual(await s.presenceStats(), { numClients: 1, numUsers: 1 });

    const hist = await s.history({ limit: 10 });
    assert.deepEqual(hist.publications.map((p) => decode(p.data)), [{ from: 'client', n: 1 }, { from: 'api', n: 2 }]);
    assert.ok(hist.epoch, 'history epoch');

    // An error reply travels back over the stream too (no RPC proxy and no rpc.ping: 108).
    await assert.rejects(c.rpc('nothing', payload({})), (e) => e.code === 108); // no RPC handler, as Centrifugo
    assert.equal(c.state, 'connected');

    const disconnected = once(c, 'disconnected');
    assert.deepEqual(await ok(port, 'disconnect', { user: 'alice', disconnect: { code: 4501, reason: 'bye over stream' } }), {});
    const d = await disconnected;
    assert.equal(d.code, 4501);
    assert.equal(d.reason, 'bye over stream');
    await eventually(async () => (await numClients(port)) === 0, { what: 'server forgets the disconnected session' });
  });
}

// ---------------------------------------------------------------------------------------------
// 3. centrifuge-js over SSE (JSON; eventsource v2)
// ---------------------------------------------------------------------------------------------
test('sse json: connect, subscribe, publish, API publish, history, API disconnect', async (t) => {
  const { port } = await startTransportServer(t);
  const ch = uniqueChannel('sse');
  const c = emulationClient(t, port, { transports: ['sse'], token: userToken('bob') });
  const connected = once(c, 'connected');
  c.connect();
  const ctx = await connected;
  assert.equal(ctx.transport, 'sse');

  const s = c.newSubscription(ch);
  const pubs = collect(s, 'publication');
  s.subscribe();
  await s.ready(5000);
  assert.deepEqual(await s.publish({ via: 'emulation', text: 'line\nbreak' }), {});
  await ok(port, 'publish', { channel: ch, data: { via: 'api' } });
  await eventually(() => pubs.length === 2, { what: 'two publications over sse' });
  assert.deepEqual(pubs.map((p) => p.data), [{ via: 'emulation', text: 'line\nbreak' }, { via: 'api' }]);
  const hist = await s.history({ limit: 10 });
  assert.equal(hist.publications.length, 2);
  assert.deepEqual((await s.presenceStats()), { numClients: 1, numUsers: 1 });

  const disconnected = once(c, 'disconnected');
  await ok(port, 'disconnect', { user: 'bob', disconnect: { code: 4502, reason: 'bye over sse' } });
  const d = await disconnected;
  assert.deepEqual([d.code, d.reason], [4502, 'bye over sse']);
});

// ---------------------------------------------------------------------------------------------
// 4. Fallback from a disabled WebSocket
// ---------------------------------------------------------------------------------------------
describe('fallback', () => {
  test('websocket disabled: the client ends connected over http_stream', async (t) => {
    const { port } = await startTransportServer(t, { websocket: { disabled: true } });
    const ws = await httpRequest(port, { path: '/connection/websocket' });
    assert.equal(ws.status, 404, 'websocket.disabled removes /connection/websocket');
    const c = emulationClient(t, port, { transports: ['websocket', 'http_stream', 'sse'], token: userToken('fb1') });
    const transportErrors = [];
    c.on('error', (e) => transportErrors.push(e));
    const connected = once(c, 'connected', 10000);
    c.connect();
    assert.equal((await connected).transport, 'http_stream');
    assert.ok(transportErrors.some((e) => e.type === 'transport'), 'the websocket attempt failed first');
    const s = c.newSubscription('fallback');
    const pubs = collect(s, 'publication');
    s.subscribe();
    await s.ready(5000);
    await ok(port, 'publish', { channel: 'fallback', data: { ok: 1 } });
    await eventually(() => pubs.length === 1, { what: 'publication after fallback' });
  });

  test('websocket and http_stream disabled: the client ends connected over sse', async (t) => {
    const { port } = await startTransportServer(t, { websocket: { disabled: true }, http_stream: { enabled: false } });
    const hs = await httpRequest(port, { method: 'POST', path: '/connection/http_stream', body: connectCommand(userToken('x')) });
    assert.equal(hs.status, 404, 'http_stream not enabled');
    const c = emulationClient(t, port, { transports: ['websocket', 'http_stream', 'sse'], token: userToken('fb2') });
    const connected = once(c, 'connected', 10000);
    c.connect();
    assert.equal((await connected).transport, 'sse');
    const s = c.newSubscription('fallback2');
    const pubs = collect(s, 'publication');
    s.subscribe();
    await s.ready(5000);
    await ok(port, 'publish', { channel: 'fallback2', data: { ok: 2 } });
    await eventually(() => pubs.length === 1, { what: 'publication after fallback to sse' });
    assert.deepEqual(pubs[0].data, { ok: 2 });
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Server-side subscriptions (token `channels`) on the emulation transports
// ---------------------------------------------------------------------------------------------
for (const [transport, protobuf] of [['http_stream', false], ['http_stream', true], ['sse', false]]) {
  const kind = `${transport} ${protobuf ? 'protobuf' : 'json'}`;
  test(`${kind}: server-side subscription from the token's channels claim`, async (t) => {
    const { port } = await startTransportServer(t);
    const ch = uniqueChannel('news');
    const c = emulationClient(t, port, { protobuf, transports: [transport], token: userToken('carol', { channels: [ch] }) });
    const subscribed = once(c, 'subscribed');
    const publications = collect(c, 'publication');
    c.connect();
    assert.equal((await subscribed).channel, ch);
    await ok(port, 'publish', { channel: ch, data: { headline: 'server-side' } });
    await eventually(() => publications.length === 1, { what: 'server-side publication on the Centrifuge object' });
    assert.equal(publications[0].channel, ch);
    assert.deepEqual(decode(publications[0].data), { headline: 'server-side' });
  });
}

// ---------------------------------------------------------------------------------------------
// 6. Uni SSE
// ---------------------------------------------------------------------------------------------
describe('uni_sse', () => {
  test('GET with cf_connect (eventsource v2): connect push with subs, then publications', async (t) => {
    const { port } = await startTransportServer(t);
    const ch = uniqueChannel('news');
    const url = `${base(port)}/connection/uni_sse?cf_connect=${encodeURIComponent(JSON.stringify({ token: userToken('uni1', { channels: [ch] }) }))}`;
    const es = new EventSource(url);
    t.after(() => es.close());
    const messages = [];
    const errors = [];
    es.onmessage = (e) => messages.push(JSON.parse(e.data));
    es.onerror = (e) => errors.push(e);
    await eventually(() => messages.length >= 1, { what: 'connect push over uni_sse' });
    const first = messages[0];
    assert.ok(first.connect, `first message is a connect push: ${JSON.stringify(first)}`);
    assert.match(first.connect.client, /^[0-9a-f-]{36}$/);
    assert.ok(first.connect.subs && first.connect.subs[ch], `connect.subs has ${ch}: ${JSON.stringify(first.connect)}`);
    assert.equal(first.id, undefined, 'bare push: no Reply envelope');
    assert.equal(first.push, undefined, 'bare push: no Reply envelope');

    await ok(port, 'publish', { channel: ch, data: { n: 1 } });
    await ok(port, 'publish', { channel: ch, data: { n: 2, text: 'a\nb' } });
    await eventually(() => messages.filter((m) => m.pub).length === 2, { what: 'two publication pushes' });
    const pubs = messages.filter((m) => m.pub);
    for (const p of pubs) assert.equal(p.channel, ch);
    assert.deepEqual(pubs.map((p) => p.pub.data), [{ n: 1 }, { n: 2, text: 'a\nb' }]);
    assert.equal(errors.length, 0, 'no EventSource error (no reconnect)');
    assert.equal(await numClients(port), 1);
  });

  test('POST with a JSON body: text/event-stream body with the connect push, then publications', async (t) => {
    const { port } = await startTransportServer(t);
    const ch = uniqueChannel('news');
    const { res, stream } = await openStream(t, `${base(port)}/connection/uni_sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: userToken('uni2', { channels: [ch] }) }),
      format: 'sse',
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^text\/event-stream/);
    assert.match(res.headers.get('cache-control') || '', /no-cache/);
    const connect = await stream.next(() => true, 'first event');
    assert.ok(connect.connect?.client, `connect push first: ${JSON.stringify(connect)}`);
    assert.ok(connect.connect.subs?.[ch]);
    await ok(port, 'publish', { channel: ch, data: { posted: true } });
    const pub = await stream.next((m) => m.pub, 'publication push');
    assert.equal(pub.channel, ch);
    assert.deepEqual(pub.pub.data, { posted: true });
    assert.ok(stream.raw.startsWith('\r\n') || stream.raw.startsWith('data:'), 'stream starts with the initial CRLF or an event');
  });

  test('a bad token gets a disconnect push and the stream ends', async (t) => {
    const { port } = await startTransportServer(t);
    const { res, stream } = await openStream(t, `${base(port)}/connection/uni_sse?cf_connect=${encodeURIComponent('{"token":"not-a-jwt"}')}`, {
      method: 'GET', format: 'sse',
    });
    assert.equal(res.status, 200);
    const d = await stream.next((m) => m.disconnect, 'disconnect push');
    assert.equal(d.disconnect.code, 3500);
    assert.equal(d.disconnect.reason, 'invalid token');
    await stream.waitEnd(5000);
    assert.ok(!stream.messages.some((m) => m.connect), 'no connect push');
  });
});

// ---------------------------------------------------------------------------------------------
// 7. Uni HTTP stream
// ---------------------------------------------------------------------------------------------
describe('uni_http_stream', () => {
  test('connect push, API subscribe of the client makes a subscribe push, then publications', async (t) => {
    const { port } = await startTransportServer(t);
    const ch = uniqueChannel('srv');
    const { res, stream } = await openStream(t, `${base(port)}/connection/uni_http_stream`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: userToken('dan') }),
    });
    assert.equal(res.status, 200);
    const first = await stream.next(() => true, 'connect push');
    assert.ok(first.connect, `first line is the connect push: ${JSON.stringify(first)}`);
    const clientId = first.connect.client;
    assert.match(clientId, /^[0-9a-f-]{36}$/);
    assert.equal(first.connect.node, undefined, 'uni connect push has no node');

    assert.deepEqual(await ok(port, 'subscribe', { user: 'dan', client: clientId, channel: ch, data: { welcome: 1 } }), {});
    const sub = await stream.next((m) => m.subscribe, 'subscribe push');
    assert.equal(sub.channel, ch);
    assert.deepEqual(sub.subscribe.data, { welcome: 1 });

    for (let n = 1; n <= 3; n++) await ok(port, 'publish', { channel: ch, data: { n } });
    await eventually(() => stream.messages.filter((m) => m.pub).length === 3, { what: 'three publication lines' });
    const pubs = stream.messages.filter((m) => m.pub);
    assert.deepEqual(pubs.map((p) => [p.channel, p.pub.data.n]), [[ch, 1], [ch, 2], [ch, 3]]);
    assert.equal(stream.emptyLines, 0, 'no empty lines between pushes');
    assert.ok(stream.raw.endsWith('\n'), 'each push is followed by a newline');

    assert.deepEqual(await ok(port, 'unsubscribe', { user: 'dan', client: clientId, channel: ch }), {});
    const unsub = await stream.next((m) => m.unsubscribe, 'unsubscribe push');
    assert.equal(unsub.channel, ch);

    await ok(port, 'disconnect', { user: 'dan', disconnect: { code: 4503, reason: 'uni bye' } });
    const d = await stream.next((m) => m.disconnect, 'disconnect push');
    assert.deepEqual(d.disconnect, { code: 4503, reason: 'uni bye' });
    await stream.waitEnd(5000);
  });

  test('connect request with subs recovers missed publications from history', async (t) => {
    const { port } = await startTransportServer(t);
    const ch = `rec:${uniqueChannel('r')}`; // force_recovery: server-side subscriptions recover
    const token = userToken('erin', { channels: [ch] });
    const { stream: s1, abort } = await openStream(t, `${base(port)}/connection/uni_http_stream`, { body: JSON.stringify({ token }) });
    const c1 = await s1.next((m) => m.connect, 'first connect push');
    const pos = c1.connect.subs[ch];
    assert.ok(pos && pos.epoch, `stream position in subs: ${JSON.stringify(c1.connect.subs)}`);
    await ok(port, 'publish', { channel: ch, data: { n: 1 } });
    const p1 = await s1.next((m) => m.pub, 'publication');
    abort();
    await ok(port, 'publish', { channel: ch, data: { n: 2 } });
    await ok(port, 'publish', { channel: ch, data: { n: 3 } });
    const { stream: s2 } = await openStream(t, `${base(port)}/connection/uni_http_stream`, {
      body: JSON.stringify({ token, subs: { [ch]: { recover: true, offset: p1.pub.offset, epoch: pos.epoch } } }),
    });
    const c2 = await s2.next((m) => m.connect, 'second connect push');
    const sub = c2.connect.subs[ch];
    assert.equal(sub.recovered, true, JSON.stringify(sub));
    assert.deepEqual(sub.publications.map((p) => p.data.n), [2, 3]);
  });
});

// ---------------------------------------------------------------------------------------------
// 8. Uni WebSocket
// ---------------------------------------------------------------------------------------------
function uniWs(t, url) {
  const ws = new WebSocket(url);
  const peer = { ws, messages: [], frames: [], closed: null };
  ws.on('message', (data, isBinary) => {
    peer.frames.push({ isBinary, text: data.toString() });
    if (!isBinary) peer.messages.push(JSON.parse(data.toString()));
  });
  peer.closedPromise = new Promise((resolve) => ws.on('close', (code, reason) => {
    peer.closed = { code, reason: reason.toString() };
    resolve(peer.closed);
  }));
  ws.on('error', () => {});
  t.after(() => ws.terminate());
  peer.opened = new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  peer.waitClose = (ms = 5000) => {
    let timer;
    return Promise.race([
      peer.closedPromise.finally(() => clearTimeout(timer)),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('uni_websocket not closed in time')), ms); }),
    ]);
  };
  return peer;
}

describe('uni_websocket', () => {
  for (const mode of ['first message', 'cf_connect']) {
    test(`connect request as ${mode}: connect push, publications, API disconnect push and close frame`, async (t) => {
      const { port } = await startTransportServer(t);
      const ch = uniqueChannel('news');
      const req = JSON.stringify({ token: userToken('frank', { channels: [ch] }) });
      const url = `ws://127.0.0.1:${port}/connection/uni_websocket${mode === 'cf_connect' ? `?cf_connect=${encodeURIComponent(req)}` : ''}`;
      const peer = uniWs(t, url);
      await peer.opened;
      if (mode === 'first message') peer.ws.send(req);
      await eventually(() => peer.messages.length >= 1, { what: 'connect push' });
      assert.equal(peer.frames[0].isBinary, false, 'JSON in a text frame');
      const first = peer.messages[0];
      assert.ok(first.connect?.client, `connect push first: ${JSON.stringify(first)}`);
      assert.ok(first.connect.subs?.[ch], 'server-side subscription in connect.subs');

      await ok(port, 'publish', { channel: ch, data: { n: 1 } });
      await ok(port, 'publish', { channel: ch, data: { n: 2 } });
      await eventually(() => peer.messages.filter((m) => m.pub).length === 2, { what: 'two publication frames' });
      assert.deepEqual(peer.messages.filter((m) => m.pub).map((m) => [m.channel, m.pub.data.n]), [[ch, 1], [ch, 2]]);
      // Anything the client sends later is read and ignored.
      peer.ws.send('{"id":2,"subscribe":{"channel":"ignored"}}');

      await ok(port, 'disconnect', { user: 'frank', disconnect: { code: 4504, reason: 'uni ws bye' } });
      const closed = await peer.waitClose();
      assert.deepEqual(closed, { code: 4504, reason: 'uni ws bye' });
      const d = peer.messages.find((m) => m.disconnect);
      assert.deepEqual(d?.disconnect, { code: 4504, reason: 'uni ws bye' }, 'disconnect push before the close frame');
      assert.ok(!peer.messages.some((m) => m.id !== undefined), 'bare pushes only');
    });
  }

  test('bad JSON as first message closes with 3501', async (t) => {
    const { port } = await startTransportServer(t);
    const peer = uniWs(t, `ws://127.0.0.1:${port}/connection/uni_websocket`);
    await peer.opened;
    peer.ws.send('{"token":');
    const closed = await peer.waitClose();
    assert.equal(closed.code, 3501);
    assert.ok(!peer.messages.some((m) => m.connect));
  });

  test('bad JSON in cf_connect is refused before the upgrade (400)', async (t) => {
    const { port } = await startTransportServer(t);
    const r = await httpRequest(port, {
      path: `/connection/uni_websocket?cf_connect=${encodeURIComponent('{"token":')}`,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    assert.equal(r.status, 400);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. Bad input, CORS, /connection/init, disabled endpoints
// ---------------------------------------------------------------------------------------------
describe('bad input and HTTP details', () => {
  let port;
  const cleanups = [];
  const scope = { after: (fn) => cleanups.push(fn) }; // one server for the suite, stopped at its end
  const start = async () => { if (!port) ({ port } = await startTransportServer(scope)); return port; };
  after(async () => { for (const fn of cleanups.reverse()) await fn(); });

  test('GET /connection/sse without cf_connect is 400', async () => {
    const r = await httpRequest(await start(), { path: '/connection/sse' });
    assert.equal(r.status, 400);
  });

  test('cf_connect that is not JSON: 400, or a stream that only carries disconnect 3501 and ends', async () => {
    const p = await start();
    const r = await httpRequest(p, { path: `/connection/sse?cf_connect=${encodeURIComponent('{"id":1,"connect":')}`, timeoutMs: 5000 });
    assert.ok(!r.timedOut, `the response must end, got ${r.status} ${JSON.stringify(r.body)}`);
    if (r.status === 400) return;
    assert.equal(r.status, 200);
    const events = r.body.split(/\r?\n\r?\n/).map((e) => e.trim()).filter((e) => e.startsWith('data:'))
      .map((e) => JSON.parse(e.slice(5)));
    assert.ok(events.length <= 1, JSON.stringify(events));
    for (const e of events) assert.equal(e.push?.disconnect?.code, 3501, JSON.stringify(e));
  });

  test('/connection/sse and /connection/http_stream refuse other methods (405)', async () => {
    const p = await start();
    assert.equal((await httpRequest(p, { method: 'PUT', path: '/connection/sse' })).status, 405);
    assert.equal((await httpRequest(p, { method: 'GET', path: '/connection/http_stream' })).status, 405);
    assert.equal((await httpRequest(p, { method: 'GET', path: '/connection/uni_http_stream' })).status, 405);
  });

  test('POST /emulation: unknown node 404, garbage 400, known node + unknown session 204', async (t) => {
    const p = await start();
    const post = (body, type = 'application/json') => httpRequest(p, {
      method: 'POST', path: '/emulation', headers: { 'content-type': type }, body,
    });
    assert.equal((await post(JSON.stringify({ session: 'nope', node: 'no-such-node-4f1c', data: '{}' }))).status, 404);
    assert.equal((await post('this is not json')).status, 400);
    assert.equal((await post('{"session":')).status, 400);
    assert.equal((await post(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), 'application/octet-stream')).status, 400);

    // The node id of this server, from a real http_stream connect reply.
    const { stream } = await openStream(t, `${base(p)}/connection/http_stream`, {
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: connectCommand(userToken('emu')),
    });
    const reply = await stream.next((m) => m.connect, 'connect reply');
    assert.equal(reply.id, 1);
    assert.ok(reply.connect.session, 'emulation connect reply has session');
    assert.ok(reply.connect.node, 'emulation connect reply has node');
    const unknownSession = await post(JSON.stringify({ session: 'no-such-session', node: reply.connect.node, data: '{"id":2,"presence":{"channel":"x"}}' }));
    assert.equal(unknownSession.status, 204, 'unknown session on this node is ignored');
    // The real session: 204 and the reply arrives on the stream, not in the POST response.
    const good = await post(JSON.stringify({
      session: reply.connect.session, node: reply.connect.node, data: JSON.stringify({ id: 2, subscribe: { channel: 'emu-ch' } }),
    }));
    assert.equal(good.status, 204);
    assert.equal(good.body, '');
    const sub = await stream.next((m) => m.id === 2, 'subscribe reply on the stream');
    assert.ok(sub.subscribe, JSON.stringify(sub));
  });

  test('GET /emulation is 405; body over 64 KiB is 413', async () => {
    const p = await start();
    assert.equal((await httpRequest(p, { path: '/emulation' })).status, 405);
    const big = JSON.stringify({ session: 's', node: 'n', data: 'x'.repeat(70 * 1024) });
    assert.equal((await httpRequest(p, { method: 'POST', path: '/emulation', headers: { 'content-type': 'application/json' }, body: big })).status, 413);
  });

  for (const path of ['/emulation', '/connection/http_stream', '/connection/uni_http_stream']) {
    test(`OPTIONS ${path}: 204 with CORS headers for an allowed Origin, none for another`, async () => {
      const p = await start();
      const preflight = (origin) => httpRequest(p, {
        method: 'OPTIONS', path,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      const okRes = await preflight(ALLOWED_ORIGIN);
      assert.equal(okRes.status, 204);
      assert.equal(okRes.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
      assert.equal(okRes.headers['access-control-allow-credentials'], 'true');
      assert.match(okRes.headers['access-control-allow-headers'] || '', /content-type/i);
      if (path !== '/connection/uni_http_stream') {
        assert.match(okRes.headers['access-control-allow-methods'] || '', /POST/);
        assert.equal(okRes.headers['access-control-max-age'], '300');
      }
      const denied = await preflight('http://evil.example');
      assert.equal(denied.headers['access-control-allow-origin'], undefined, 'no CORS grant for a foreign origin');
      assert.equal(denied.headers['access-control-allow-credentials'], undefined);
    });
  }

  test('POST over 64 KiB to /connection/http_stream is 413', async () => {
    const p = await start();
    const body = JSON.stringify({ id: 1, connect: { token: userToken('big'), data: { pad: 'y'.repeat(65 * 1024) } } });
    const r = await httpRequest(p, { method: 'POST', path: '/connection/http_stream', headers: { 'content-type': 'application/json' }, body });
    assert.equal(r.status, 413);
  });

  test('uni_http_stream: bad JSON 400, over 64 KiB 413', async () => {
    const p = await start();
    const post = (body) => httpRequest(p, { method: 'POST', path: '/connection/uni_http_stream', headers: { 'content-type': 'application/json' }, body });
    assert.equal((await post('{"token":')).status, 400);
    assert.equal((await post(JSON.stringify({ token: 'x', data: { pad: 'z'.repeat(65 * 1024) } }))).status, 413);
  });

  test('GET /connection/init is 200 {}', async () => {
    const r = await httpRequest(await start(), { path: '/connection/init' });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), {});
  });

  test('http_stream response headers and newline framing of the first reply', async (t) => {
    const p = await start();
    const { res, stream } = await openStream(t, `${base(p)}/connection/http_stream`, {
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: connectCommand(userToken('hdr')),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('cache-control') || '', /no-cache/);
    assert.equal(res.headers.get('x-accel-buffering'), 'no');
    await stream.next((m) => m.connect, 'connect reply');
    assert.ok(stream.raw.endsWith('\n'), 'the connect reply ends with a newline');
    assert.equal(stream.emptyLines, 0);
  });
});

test('endpoints that are not enabled are 404', async (t) => {
  const { port } = await startTransportServer(t, {
    http_stream: { enabled: false }, sse: { enabled: false }, uni_websocket: { enabled: false },
    uni_sse: { enabled: false }, uni_http_stream: { enabled: false }, init: { enabled: false },
  });
  for (const [method, path] of [
    ['POST', '/connection/http_stream'], ['GET', '/connection/sse?cf_connect=%7B%7D'], ['POST', '/emulation'],
    ['GET', '/connection/uni_websocket'], ['GET', '/connection/uni_sse'], ['POST', '/connection/uni_http_stream'],
    ['GET', '/connection/init'],
  ]) {
    const r = await httpRequest(port, { method, path, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    assert.equal(r.status, 404, `${method} ${path}`);
  }
  // The WebSocket endpoint is still there (enabled by default).
  const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`);
  t.after(() => ws.terminate());
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
});

// ---------------------------------------------------------------------------------------------
// 10. Aborted streams leave no session behind
// ---------------------------------------------------------------------------------------------
test('20 http_stream and 20 uni_sse connections, aborted, leave no clients', async (t) => {
  const { port } = await startTransportServer(t);
  const aborts = [];
  const opened = [];
  for (let i = 0; i < 20; i++) {
    opened.push((async () => {
      const { stream, abort } = await openStream(t, `${base(port)}/connection/http_stream`, {
        headers: { 'content-type': 'application/json' }, body: connectCommand(userToken(`leak-hs-${i}`)),
      });
      aborts.push(abort);
      await stream.next((m) => m.connect, `http_stream ${i} connect reply`);
    })());
    opened.push(new Promise((resolve, reject) => {
      const cf = encodeURIComponent(JSON.stringify({ token: userToken(`leak-sse-${i}`) }));
      const req = http.get({ host: '127.0.0.1', port, path: `/connection/uni_sse?cf_connect=${cf}`, agent: false }, (res) => {
        const s = messageStream(res, { format: 'sse' });
        s.next((m) => m.connect, `uni_sse ${i} connect push`).then(resolve, reject);
      });
      req.on('error', () => {});
      aborts.push(() => req.destroy());
      t.after(() => req.destroy());
    }));
  }
  await Promise.all(opened);
  await eventually(async () => (await numClients(port)) === 40, { what: '40 clients counted' });
  for (const abort of aborts) abort();
  await eventually(async () => (await numClients(port)) === 0, { what: 'every aborted session removed', timeoutMs: 10000 });
  // And the server still serves new streams.
  const { stream } = await openStream(t, `${base(port)}/connection/http_stream`, {
    headers: { 'content-type': 'application/json' }, body: connectCommand(userToken('after')),
  });
  await stream.next((m) => m.connect, 'connect after the aborts');
});

// ---------------------------------------------------------------------------------------------
// 11. A uni_http_stream reader that stops reading is disconnected; others get everything
// ---------------------------------------------------------------------------------------------
test('slow uni_http_stream reader is dropped; a healthy one receives every publication', async (t) => {
  const { port } = await startTransportServer(t, { client: { queue_max_size: 262144 } });
  const ch = uniqueChannel('firehose');
  const body = (user) => JSON.stringify({ token: userToken(user, { channels: [ch] }) });

  // The slow reader: node:http, paused after the connect push (its socket stops being read).
  let slowRes;
  const slowReq = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/connection/uni_http_stream', agent: false,
    headers: { 'content-type': 'application/json' } });
  t.after(() => slowReq.destroy());
  slowReq.on('error', () => {});
  const slowConnected = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('slow reader: no connect push')), 5000);
    slowReq.on('response', (res) => {
      slowRes = res;
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        reject(new Error(`slow reader: HTTP ${res.statusCode}`));
        return;
      }
      let text = '';
      const onData = (d) => {
        text += d.toString();
        if (text.includes('\n')) {
          res.off('data', onData);
          res.pause();
          clearTimeout(timer);
          resolve(JSON.parse(text.slice(0, text.indexOf('\n'))));
        }
      };
      res.on('data', onData);
    });
  });
  slowReq.end(body('slow'));
  const slowConnect = await slowConnected;
  assert.ok(slowConnect.connect?.client);

  const { stream: healthy } = await openStream(t, `${base(port)}/connection/uni_http_stream`, { body: body('healthy'), keepRaw: false });
  await healthy.next((m) => m.connect, 'healthy connect push');
  assert.equal(await numClients(port), 2);

  // Publish big messages in rounds of ROUND until the server drops the slow reader (how much the
  // socket buffers absorb first depends on the machine), at most MAX of them. Each round waits
  // until the healthy reader has everything so far, so a healthy reader is never more than one
  // round (300 KB) behind: less than its queue plus socket buffers, however loaded the machine.
  const MAX = 2000;
  const ROUND = 10;
  const blob = 'x'.repeat(30000);
  const healthyCount = () => healthy.messages.filter((m) => m.pub).length;
  let published = 0;
  while (published < MAX) {
    for (let i = 0; i < ROUND; i++) await ok(port, 'publish', { channel: ch, data: { n: published++, blob } });
    await waitFor(() => healthyCount() === published || healthy.ended, {
      what: `healthy reader at ${published} publications`, timeoutMs: 10000, intervalMs: 5,
    });
    assert.ok(!healthy.ended, `the healthy stream ended: ${JSON.stringify(healthy.messages.filter((m) => !m.pub))}`);
    if ((await numClients(port)) === 1) break;
  }
  await eventually(async () => (await numClients(port)) === 1,
    { what: `the slow reader to be disconnected (published ${published})`, timeoutMs: 15000 });
  t.diagnostic(`slow reader dropped after ${published} publications of 30 KB`);
  assert.deepEqual(healthy.messages.filter((m) => m.pub).map((m) => m.pub.data.n), [...Array(published).keys()]);
  assert.ok(!healthy.ended, 'the healthy stream is still open');
  slowRes.resume(); // drain what was buffered; the response must then end
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('slow response did not end')), 15000);
    const done = () => { clearTimeout(timer); resolve(); };
    slowRes.on('end', done);
    slowRes.on('close', done);
    slowRes.on('error', done);
  });
});
