// Helpers for the HTTP-based transports: a gyre with every transport enabled (Centrifugo v6 keys),
// centrifuge-js clients over the bidirectional emulation (http_stream, sse, with fallbacks), and
// readers for newline-delimited and text/event-stream response bodies. Everything opened here is
// closed when the test ends.
import http from 'node:http';
import { ReadableStream } from 'node:stream/web';
import EventSource from 'eventsource';
import { Centrifuge as JsonCentrifuge } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import { api, startApiServer } from './api.mjs';

export { EventSource, WebSocket };

/** Every HTTP-based and unidirectional transport on, plus /connection/init. */
export const ALL_TRANSPORTS = {
  http_stream: { enabled: true },
  sse: { enabled: true },
  uni_websocket: { enabled: true },
  uni_sse: { enabled: true },
  uni_http_stream: { enabled: true },
  init: { enabled: true },
};

/** The browser origin the servers of these tests allow (client.allowed_origins). */
export const ALLOWED_ORIGIN = 'http://example.com';

const openChannel = {
  allow_subscribe_for_client: true, allow_publish_for_subscriber: true,
  presence: true, allow_presence_for_subscriber: true,
  history_size: 10, history_ttl: '300s', allow_history_for_subscriber: true,
};

/**
 * Starts gyre (API key API_KEY, HS256 secret of lib/api.mjs) with every transport of
 * ALL_TRANSPORTS enabled, an open, history- and presence-enabled default namespace and a `rec`
 * namespace that also forces recovery (for server-side subscriptions).
 * `overrides` replaces top-level sections (`{ websocket: { disabled: true } }`, …); `client` and
 * `channel` are merged one level deep.
 */
export function startTransportServer(t, overrides = {}) {
  return startApiServer(t, {
    ...ALL_TRANSPORTS,
    ...overrides,
    client: { allowed_origins: [ALLOWED_ORIGIN], ...(overrides.client || {}) },
    channel: {
      without_namespace: openChannel,
      namespaces: [{ name: 'rec', ...openChannel, force_recovery: true }],
      ...(overrides.channel || {}),
    },
  });
}

export const base = (port) => `http://127.0.0.1:${port}`;

/** The SDK's transport endpoint configuration entry for `name` on gyre's default paths. */
export function endpoint(port, name) {
  if (name === 'websocket') return { transport: name, endpoint: `ws://127.0.0.1:${port}/connection/websocket` };
  return { transport: name, endpoint: `${base(port)}/connection/${name}` };
}

/**
 * A centrifuge-js client over the given transports (in fallback order), with Node's fetch,
 * ReadableStream, eventsource v2 and ws, and an absolute emulation endpoint. Disconnected when
 * the test ends.
 */
export function emulationClient(t, port, { protobuf = false, transports = ['http_stream'], ...opts } = {}) {
  const Impl = protobuf ? ProtobufCentrifuge : JsonCentrifuge;
  const c = new Impl(transports.map((name) => endpoint(port, name)), {
    fetch: globalThis.fetch,
    readableStream: ReadableStream,
    eventsource: EventSource,
    websocket: WebSocket,
    emulationEndpoint: `${base(port)}/emulation`,
    minReconnectDelay: 100,
    maxReconnectDelay: 500,
    timeout: 5000,
    ...opts,
  });
  t.after(() => c.disconnect());
  return c;
}

/** Number of clients gyre reports in /api/info (single node). */
export async function numClients(port) {
  const r = await api(port, 'info', {});
  if (r.status !== 200 || !r.json?.result) throw new Error(`info: HTTP ${r.status} ${r.text}`);
  return r.json.result.nodes.reduce((n, node) => n + (node.num_clients || 0), 0);
}

/**
 * Reads a streaming body (a web ReadableStream from fetch, or a Node readable) and splits it into
 * messages: `format: 'lines'` — one JSON value per '\n'-terminated line; `format: 'sse'` — the
 * `data:` of each text/event-stream event, parsed as JSON. `keepRaw: false` does not keep the
 * text in `raw` (long streams). Returns
 * { messages, raw, ended, error, next(pred, what, ms), waitEnd(ms) }. A line that is not JSON is
 * recorded in `badLines` and makes next() throw.
 */
export function messageStream(body, { format = 'lines', keepRaw = true } = {}) {
  const s = { messages: [], raw: '', badLines: [], ended: false, error: null, emptyLines: 0 };
  let buf = '';
  let data = null; // SSE: data of the event being read
  const onLine = (line) => {
    if (format === 'sse') {
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (data !== null) push(data);
        data = null;
      } else if (line.startsWith('data:')) {
        const v = line.slice(5).replace(/^ /, '');
        data = data === null ? v : `${data}\n${v}`;
      } // event:, id:, retry: and ':' comments are not used by Centrifugo; ignored
      return;
    }
    if (line === '') { s.emptyLines += 1; return; }
    push(line);
  };
  const push = (text) => {
    try { s.messages.push(JSON.parse(text)); } catch { s.badLines.push(text); }
  };
  const onText = (text) => {
    if (keepRaw) s.raw += text;
    buf += text;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      onLine(line);
    }
  };
  const decoder = new TextDecoder();
  s.done = (async () => {
    try {
      if (typeof body.getReader === 'function') {
        const reader = body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          onText(decoder.decode(value, { stream: true }));
        }
      } else {
        for await (const chunk of body) onText(decoder.decode(chunk, { stream: true }));
      }
    } catch (e) {
      s.error = e;
    }
    s.ended = true;
  })();

  /** Resolves with the first message (from index `from`) matching pred, or rejects after ms. */
  s.next = async (pred, what = 'message', ms = 5000, from = 0) => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (s.badLines.length) throw new Error(`not JSON in stream: ${JSON.stringify(s.badLines[0]).slice(0, 300)}`);
      const found = s.messages.slice(from).find(pred);
      if (found) return found;
      if (s.ended) throw new Error(`stream ended before ${what}; got ${JSON.stringify(s.messages).slice(0, 800)}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(s.messages).slice(0, 800)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  /** Resolves once the body ended; rejects after ms. */
  s.waitEnd = (ms = 5000) => {
    let timer;
    return Promise.race([
      s.done.then(() => clearTimeout(timer)),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`stream did not end within ${ms} ms`)), ms); }),
    ]);
  };
  return s;
}

/** Non-ping pushes of a unidirectional stream ('{}' / null are pings). */
export const isPing = (m) => m === null || (typeof m === 'object' && Object.keys(m).length === 0);

/**
 * Opens a streaming request with fetch (aborted when the test ends) and returns
 * { res, stream, abort } once the response headers arrived. Non-2xx responses are returned too.
 */
export async function openStream(t, url, { method = 'POST', headers = {}, body, format = 'lines', keepRaw = true, timeoutMs = 5000 } = {}) {
  const ac = new AbortController();
  t.after(() => ac.abort());
  const timer = setTimeout(() => ac.abort(new Error(`no response headers within ${timeoutMs} ms`)), timeoutMs);
  let res;
  try {
    res = await fetch(url, { method, headers, body, signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
  const stream = messageStream(res.body, { format, keepRaw });
  return { res, stream, abort: () => ac.abort() };
}

/**
 * A plain HTTP request with node:http (lets tests set Origin and other headers fetch would
 * manage). Resolves with { status, headers, body } once the response ended, or with what arrived
 * when `timeoutMs` passes (then `timedOut: true`). A response sent before the whole request body
 * was written (413) is still returned.
 */
export function httpRequest(port, { method = 'GET', path = '/', headers = {}, body, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    let response = null;
    let text = '';
    let settled = false;
    const finish = (extra = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ status: response.statusCode, headers: response.headers, body: text, ...extra });
    };
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false });
    const timer = setTimeout(() => {
      if (response) finish({ timedOut: true });
      else { settled = true; req.destroy(); reject(new Error(`${method} ${path}: no response within ${timeoutMs} ms`)); }
    }, timeoutMs);
    req.on('response', (res) => {
      response = res;
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => finish());
      res.on('error', () => finish());
    });
    req.on('error', (e) => {
      if (response) { finish(); return; }
      if (!settled) { settled = true; clearTimeout(timer); reject(e); }
    });
    if (body !== undefined) req.write(body);
    req.end();
  });
}
