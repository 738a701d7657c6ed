// End-to-end tests of the server HTTP API surface (issue: server API): both URL styles, auth,
// error codes and the transport error mode, batch, legacy multi-command bodies, limits. Effects on
// connected clients are in server_api_effects.test.mjs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { API_KEY, api, legacy, post, startApiServer } from './lib/api.mjs';
import net from 'node:net';
import { rawRequest, waitFor } from './lib/gyre.mjs';

const err = (code, message) => ({ error: { code, message } });
const E100 = err(100, 'internal server error');
const E102 = err(102, 'unknown channel');
const E104 = err(104, 'not found');
const E107 = err(107, 'bad request');
const E108 = err(108, 'not available');

describe('server API on one server', () => {
  let port;
  const cleanups = [];
  const scope = { after: (fn) => cleanups.push(fn) }; // one server for this block, stopped at the end
  before(async () => { ({ port } = await startApiServer(scope)); });
  after(async () => { for (const fn of cleanups.reverse()) await fn(); });

  test('seed example: legacy publish with Authorization: apikey answers {"result":{}}', async () => {
    const r = await post(port, '/api', '{"method": "publish", "params": {"channel": "chat", "data": {"text": "hi"}}}', {
      key: null, headers: { Authorization: `apikey ${API_KEY}` },
    });
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^application\/json/);
    assert.deepEqual(r.json, { result: {} });
    assert.equal(r.text.trim(), '{"result":{}}');
  });

  test('style A: every method answers 200 with its result shape', async () => {
    const cases = [
      ['publish', { channel: 'chat', data: { text: 'hi' } }, { result: {} }],
      ['broadcast', { channels: ['chat', 'nope:x', 'ns1:y'], data: { text: 'hi' } },
        { result: { responses: [{ result: {} }, E102, { result: {} }] } }],
      ['subscribe', { user: 'ghost', channel: 'chat' }, { result: {} }],
      ['unsubscribe', { user: 'ghost', channel: 'chat' }, { result: {} }],
      ['disconnect', { user: 'ghost' }, { result: {} }],
      ['refresh', { user: 'ghost' }, { result: {} }],
      ['presence', { channel: 'empty-room' }, { result: { presence: {} } }],
      ['presence_stats', { channel: 'empty-room' }, { result: { num_clients: 0, num_users: 0 } }],
      ['history', { channel: 'chat' }, E108],
      ['history_remove', { channel: 'chat' }, E108],
      ['channels', { pattern: 'nothing-here-*' }, { result: { channels: {} } }],
      ['rpc', { method: 'no-such-rpc', params: {} }, E104],
      ['rpc', { method: '' }, E107],
      ['batch', { commands: [] }, {}],
    ];
    for (const [method, body, expected] of cases) {
      const r = await api(port, method, body);
      assert.equal(r.status, 200, `${method} ${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.contentType, /^application\/json/, method);
      if (method === 'batch') assert.deepEqual(r.json.replies ?? [], [], 'empty batch');
      else assert.deepEqual(r.json, expected, `${method} ${JSON.stringify(body)}`);
    }
    const info = await api(port, 'info', {});
    assert.equal(info.status, 200);
    assert.equal(info.json.result.nodes.length, 1);
    const node = info.json.result.nodes[0];
    assert.equal(typeof node.uid, 'string');
    assert.ok(node.uid.length > 0, 'node uid');
    assert.equal(typeof node.name, 'string');
    assert.ok(node.name.length > 0, 'node name');
    assert.equal(typeof node.version, 'string');
    for (const k of ['num_clients', 'num_users', 'num_channels', 'num_subs', 'uptime']) {
      assert.equal(Number.isInteger(node[k] ?? 0), true, `${k} is an integer`);
    }
  });

  test('style A: validation errors 102, 107, 108 in a 200 reply', async () => {
    const cases = [
      ['publish', { data: { a: 1 } }, E107, 'no channel'],
      ['publish', { channel: 'chat' }, E107, 'no data'],
      ['publish', { channel: 'nope:x', data: { a: 1 } }, E102, 'unknown namespace'],
      ['publish', { channel: 'chat', b64data: '!!not base64!!' }, E107, 'bad b64data'],
      ['broadcast', { channels: [], data: { a: 1 } }, E107, 'no channels'],
      ['broadcast', { channels: ['chat'], b64data: '%%%' }, E107, 'bad b64data'],
      ['subscribe', { user: 'u' }, E107, 'no channel'],
      ['subscribe', { user: 'u', channel: 'nope:x' }, E102, 'unknown namespace'],
      ['unsubscribe', { user: 'u', channel: 'nope:x' }, E102, 'unknown namespace'],
      ['presence', {}, E107, 'no channel'],
      ['presence', { channel: 'nope:x' }, E102, 'unknown namespace'],
      ['presence', { channel: 'ns1:x' }, E108, 'presence off'],
      ['presence_stats', { channel: 'ns1:x' }, E108, 'presence off'],
      ['presence_stats', { channel: 'nope:x' }, E102, 'unknown namespace'],
      ['history', {}, E107, 'no channel'],
      ['history', { channel: 'nope:x' }, E102, 'unknown namespace'],
      ['history_remove', { channel: 'ns1:x' }, E108, 'history off'],
      ['rpc', {}, E107, 'no method'],
      ['channels', { pattern: '[' }, E100, 'bad glob pattern'],
    ];
    for (const [method, body, expected, why] of cases) {
      const r = await api(port, method, body);
      assert.equal(r.status, 200, `${method} (${why}): status`);
      assert.deepEqual(r.json, expected, `${method} (${why}): ${r.text}`);
    }
  });

  test('HTTP-level errors: 405 for other methods, 404 unknown path, 400 plain text for bad JSON', async () => {
    for (const [method, p] of [['GET', '/api/publish'], ['GET', '/api'], ['PUT', '/api/info'], ['DELETE', '/api/presence'], ['PATCH', '/api']]) {
      const r = await post(port, p, '{}', { method });
      assert.equal(r.status, 405, `${method} ${p}`);
    }
    const unknown = await post(port, '/api/foo', {});
    assert.equal(unknown.status, 404, '/api/foo');
    for (const [p, body, why] of [
      ['/api/publish', '{"channel":', 'truncated JSON'],
      ['/api/publish', 'not json at all', 'garbage'],
      ['/api/info', '', 'empty body'],
      ['/api/publish', '{"channel":5,"data":{}}', 'wrong field type'],
      ['/api/batch', '{"commands":{}}', 'commands not an array'],
    ]) {
      const r = await post(port, p, body);
      assert.equal(r.status, 400, `${p} ${why}: ${r.text}`);
      assert.match(r.contentType, /^text\/plain/, `${p} ${why}: plain text`);
      assert.equal(r.json, undefined, `${p} ${why}: body is not JSON`);
    }
  });

  test('auth: X-API-Key, Authorization: apikey (any case), ?api_key=; failures are 401 with empty body', async () => {
    const ok = [
      [{ key: API_KEY }, '', 'X-API-Key'],
      [{ key: null, headers: { Authorization: `apikey ${API_KEY}` } }, '', 'Authorization apikey'],
      [{ key: null, headers: { Authorization: `APIKey ${API_KEY}` } }, '', 'Authorization APIKey'],
      [{ key: null }, `?api_key=${API_KEY}`, 'query'],
      [{ key: 'wrong' }, `?api_key=${API_KEY}`, 'wrong header, right query'],
      [{ key: null }, `?foo=1&api_key=${encodeURIComponent(API_KEY).replace(/-/g, '%2D')}&bar=`, 'percent-encoded query among others'],
      [{ key: null, headers: { Authorization: `apikey   ${API_KEY}` } }, '', 'several spaces'],
    ];
    for (const [opts, q, why] of ok) {
      const r = await post(port, `/api/info${q}`, {}, opts);
      assert.equal(r.status, 200, why);
      const l = await post(port, `/api${q}`, { method: 'info', params: {} }, opts);
      assert.equal(l.status, 200, `legacy ${why}`);
    }
    const denied = [
      [{ key: null }, '', 'no key'],
      [{ key: 'wrong' }, '', 'wrong X-API-Key'],
      [{ key: `${API_KEY}x` }, '', 'longer X-API-Key'],
      [{ key: 'wrong', headers: { Authorization: `apikey ${API_KEY}` } }, '', 'X-API-Key wins over Authorization'],
      [{ key: null, headers: { Authorization: `Bearer ${API_KEY}` } }, '', 'Bearer scheme'],
      [{ key: null, headers: { Authorization: `apikey ${API_KEY} extra` } }, '', 'three fields'],
      [{ key: null }, '?api_key=wrong', 'wrong query'],
      [{ key: null }, `?api_key=wrong&api_key=${API_KEY}`, 'first api_key counts'],
      [{ key: null }, `?API_KEY=${API_KEY}`, 'query name is case-sensitive'],
    ];
    for (const [opts, q, why] of denied) {
      for (const p of ['/api/publish', '/api']) {
        const body = p === '/api' ? { method: 'publish', params: { channel: 'chat', data: {} } } : { channel: 'chat', data: {} };
        const r = await post(port, `${p}${q}`, body, opts);
        assert.equal(r.status, 401, `${p} ${why}`);
        assert.equal(r.text, '', `${p} ${why}: empty body`);
      }
    }
  });

  test('transport error mode header maps error codes to HTTP statuses; batch and legacy stay 200', async () => {
    const transport = { headers: { 'X-Centrifugo-Error-Mode': 'transport' } };
    const cases = [
      ['publish', { channel: 'nope:x', data: {} }, 404, E102.error],
      ['rpc', { method: 'no-such-rpc' }, 404, E104.error],
      ['publish', { data: {} }, 400, E107.error],
      ['presence', { channel: 'ns1:x' }, 400, E108.error],
      ['history', { channel: 'chat' }, 400, E108.error],
      ['channels', { pattern: '[' }, 500, E100.error],
    ];
    for (const [method, body, status, expected] of cases) {
      const r = await api(port, method, body, transport);
      assert.equal(r.status, status, `${method} ${JSON.stringify(body)}`);
      assert.match(r.contentType, /^application\/json/, method);
      assert.deepEqual(r.json, expected, `${method}: body is the bare error`);
    }
    const fine = await api(port, 'publish', { channel: 'chat', data: { ok: true } }, transport);
    assert.equal(fine.status, 200);
    assert.deepEqual(fine.json, { result: {} });
    const batch = await api(port, 'batch', { commands: [{ publish: { channel: 'nope:x', data: {} } }] }, transport);
    assert.equal(batch.status, 200, 'batch ignores transport mode');
    assert.deepEqual(batch.json, { replies: [E102] });
    const l = await legacy(port, { id: 3, method: 'publish', params: { channel: 'nope:x', data: {} } }, transport);
    assert.equal(l.status, 200, 'legacy ignores transport mode');
    assert.deepEqual(l.lines, [{ id: 3, ...E102 }]);
    const other = await api(port, 'publish', { channel: 'nope:x', data: {} }, { headers: { 'X-Centrifugo-Error-Mode': 'result' } });
    assert.equal(other.status, 200, 'only "transport" switches the mode');
    assert.deepEqual(other.json, E102);
  });

  test('legacy /api: string (any case), numeric and missing methods, ids, one reply per line', async () => {
    const lines = [
      { id: 1, method: 'publish', params: { channel: 'chat', data: { x: 1 } } },
      { id: 2, method: 'PRESENCE_STATS', params: { channel: 'empty-room' } },
      { id: 3, method: 8, params: { pattern: 'nothing-here-*' } },
      { id: 4, method: 99, params: {} },
      { id: 5, params: { channel: 'chat', data: { y: 2 } } },
      { method: 'presence', params: { channel: 'ns1:x' } },
      { id: 7, method: 'publish', params: { channel: 5 } },
      { id: 8, method: 'Presence', params: { channel: 'empty-room' } },
      { id: 0, method: 'publish', params: { channel: 'nope:x', data: {} } },
    ];
    const r = await legacy(port, lines.map((l) => JSON.stringify(l)).join('\n'));
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^application\/json/);
    assert.deepEqual(r.lines, [
      { id: 1, result: {} },
      { id: 2, result: { num_clients: 0, num_users: 0 } },
      { id: 3, result: { channels: {} } },
      { id: 4, ...E104 },
      { id: 5, result: {} },
      E108,
      { id: 7, ...E107 },
      { id: 8, result: { presence: {} } },
      E102,
    ]);
    assert.equal(r.text.split('\n').length, lines.length, 'replies joined by single newlines');
  });

  test('legacy /api: every numeric method 0..12 dispatches to its command', async () => {
    const byNumber = [
      [0, { channel: 'chat', data: { n: 0 } }, { result: {} }],
      [1, { channels: ['chat', 'nope:x'], data: { n: 1 } }, { result: { responses: [{ result: {} }, E102] } }],
      [2, { user: 'ghost', channel: 'chat' }, { result: {} }],
      [3, { user: 'ghost' }, { result: {} }],
      [4, { channel: 'empty-room' }, { result: { presence: {} } }],
      [5, { channel: 'empty-room' }, { result: { num_clients: 0, num_users: 0 } }],
      [6, { channel: 'chat' }, E108],
      [7, { channel: 'chat' }, E108],
      [8, { pattern: 'nothing-here-*' }, { result: { channels: {} } }],
      [10, { method: 'no-such-rpc' }, E104],
      [11, { user: 'ghost', channel: 'chat' }, { result: {} }],
      [12, { user: 'ghost' }, { result: {} }],
    ];
    const body = byNumber.map(([m, params], i) => JSON.stringify({ id: i + 1, method: m, params })).join('\n');
    const r = await legacy(port, body);
    assert.equal(r.status, 200);
    assert.deepEqual(r.lines, byNumber.map(([, , expected], i) => ({ id: i + 1, ...expected })));
    const info = await legacy(port, { id: 9, method: 9, params: {} });
    assert.equal(info.lines.length, 1);
    assert.equal(info.lines[0].id, 9);
    assert.equal(info.lines[0].result.nodes.length, 1);
  });

  test('legacy /api: unknown method string, invalid JSON line or empty body are HTTP 400', async () => {
    const good = JSON.stringify({ id: 1, method: 'publish', params: { channel: 'chat', data: {} } });
    for (const [body, why] of [
      [JSON.stringify({ id: 1, method: 'foo', params: {} }), 'unknown method string'],
      [`${good}\n{"id":2,"method":`, 'second line truncated'],
      ['{nope}', 'invalid JSON'],
      ['', 'empty body'],
    ]) {
      const r = await post(port, '/api', body);
      assert.equal(r.status, 400, `${why}: ${r.text}`);
      assert.equal(r.json, undefined, `${why}: not JSON`);
    }
  });

  test('batch: replies in order, unknown command → 104, sequential and parallel', async () => {
    const commands = [
      { publish: { channel: 'chat', data: { n: 1 } } },
      { publish: { channel: 'nope:x', data: { n: 2 } } },
      { presence_stats: { channel: 'empty-room' } },
      { presence: { channel: 'ns1:x' } },
      { foo: { channel: 'chat' } },
      {},
      { broadcast: { channels: ['chat'], data: { n: 3 } } },
      { rpc: { method: 'no-such-rpc' } },
      { subscribe: { user: 'ghost', channel: 'chat' } },
    ];
    const expected = [
      { publish: {} },
      E102,
      { presence_stats: { num_clients: 0, num_users: 0 } },
      E108,
      E104,
      E104,
      { broadcast: { responses: [{ result: {} }] } },
      E104,
      { subscribe: {} },
    ];
    for (const parallel of [false, true]) {
      const r = await api(port, 'batch', parallel ? { commands, parallel } : { commands });
      assert.equal(r.status, 200, `parallel=${parallel}`);
      assert.match(r.contentType, /^application\/json/);
      assert.deepEqual(r.json, { replies: expected }, `parallel=${parallel}`);
    }
    const many = [...Array(40).keys()].map((i) => ({ presence_stats: { channel: i % 2 ? `room-${i}` : `ns1:room-${i}` } }));
    const r = await api(port, 'batch', { commands: many, parallel: true });
    assert.equal(r.json.replies.length, 40);
    r.json.replies.forEach((rep, i) => {
      assert.deepEqual(rep, i % 2 ? { presence_stats: { num_clients: 0, num_users: 0 } } : E108, `reply ${i}`);
    });
  });
});

describe('HTTP details', () => {
  test('Expect: 100-continue gets an interim 100 Continue, then the reply (curl sends it for big bodies)', async (t) => {
    const { port } = await startApiServer(t);
    const body = JSON.stringify({ channel: 'chat', data: { blob: 'x'.repeat(2000) } });
    const sock = net.connect(port, '127.0.0.1');
    t.after(() => sock.destroy());
    let out = '';
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('error', () => {});
    await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
    sock.write(`POST /api/publish HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    await waitFor(() => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(out), { timeoutMs: 2000, what: '100 Continue before the body is sent' });
    sock.write(body);
    await waitFor(() => out.endsWith('{"result":{}}'), { timeoutMs: 5000, what: 'final 200 reply' });
    assert.match(out, /\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });

  test('pipelined requests on one keep-alive connection are answered in order', async (t) => {
    const { port } = await startApiServer(t);
    const reqs = [
      ['/api/publish', { channel: 'chat', data: { n: 1 } }],
      ['/api/publish', { channel: 'nope:x', data: {} }],
      ['/api', { id: 7, method: 'presence_stats', params: { channel: 'chat' } }],
    ].map(([p, b]) => {
      const body = JSON.stringify(b);
      return `POST ${p} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    });
    reqs.push('GET /api/info HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const out = await rawRequest(port, reqs.join(''));
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 200, 200, 405]);
    const bodies = out.split(/HTTP\/1\.1 \d+ [^\r]*\r\n(?:[^\r]+\r\n)*\r\n/).slice(1);
    assert.deepEqual(bodies.slice(0, 3).map((b) => JSON.parse(b)), [
      { result: {} }, E102, { id: 7, result: { num_clients: 0, num_users: 0 } },
    ]);
  });
});

describe('server API configuration', () => {
  test('http_api.handler_prefix moves both URL styles; insecure skips the key check', async (t) => {
    const { port } = await startApiServer(t, { http_api: { handler_prefix: '/custom/api', insecure: true, key: '' } });
    const a = await post(port, '/custom/api/publish', { channel: 'chat', data: { a: 1 } }, { key: null });
    assert.equal(a.status, 200);
    assert.deepEqual(a.json, { result: {} });
    const b = await post(port, '/custom/api', { id: 1, method: 'presence_stats', params: { channel: 'x' } }, { key: null });
    assert.equal(b.status, 200);
    assert.deepEqual(JSON.parse(b.text), { id: 1, result: { num_clients: 0, num_users: 0 } });
    assert.equal((await post(port, '/api/publish', { channel: 'chat', data: {} })).status, 404, 'default prefix gone');
    assert.equal((await post(port, '/api', { method: 'info', params: {} })).status, 404, 'default legacy path gone');
  });

  test('no http_api.key and not insecure: every request is 401', async (t) => {
    const { port } = await startApiServer(t, { http_api: { key: '' } });
    for (const [p, opts] of [
      ['/api/info', { key: null }],
      ['/api/info', { key: '' }],
      ['/api/info', { key: 'anything' }],
      ['/api/publish?api_key=', { key: null }],
      ['/api', { key: null, headers: { Authorization: 'apikey ' } }],
    ]) {
      const r = await post(port, p, p === '/api' ? { method: 'info', params: {} } : {}, opts);
      assert.equal(r.status, 401, `${p} ${JSON.stringify(opts)}`);
      assert.equal(r.text, '');
    }
  });

  test('http_api.error_mode "transport" in config applies to style A only', async (t) => {
    const { port } = await startApiServer(t, { http_api: { error_mode: 'transport' } });
    const r = await api(port, 'publish', { channel: 'nope:x', data: {} });
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, E102.error);
    const p = await api(port, 'presence_stats', { channel: 'ns1:x' });
    assert.equal(p.status, 400);
    assert.deepEqual(p.json, E108.error);
    const ok = await api(port, 'publish', { channel: 'chat', data: {} });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, { result: {} });
    const l = await legacy(port, { id: 1, method: 'publish', params: { channel: 'nope:x', data: {} } });
    assert.equal(l.status, 200);
    assert.deepEqual(l.lines, [{ id: 1, ...E102 }]);
  });

  test('a body over http_server.max_request_body_size is 413; the API keeps serving', async (t) => {
    const { port } = await startApiServer(t, { http_server: { max_request_body_size: 1000 } });
    const big = JSON.stringify({ channel: 'chat', data: { blob: 'x'.repeat(5000) } });
    for (const p of ['/api/publish', '/api']) {
      const reply = await rawRequest(port,
        `POST ${p} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
      assert.match(reply, /^HTTP\/1\.1 413 /, p);
    }
    const small = await api(port, 'publish', { channel: 'chat', data: { blob: 'x'.repeat(500) } });
    assert.equal(small.status, 200);
    assert.deepEqual(small.json, { result: {} });
  });
});
