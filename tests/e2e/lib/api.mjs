// Helpers for server HTTP API tests: a gyre started with an API key and a small namespace set,
// and plain HTTP calls (fetch) that return status, content type, raw body and parsed JSON.
import path from 'node:path';
import { freePort, startGyre, tempDir, writeJson } from './gyre.mjs';
import { now, sign } from './tokens.mjs';

export const API_KEY = 'e2e-api-key';
export const HMAC_SECRET = 'e2e-api-hmac-secret';

/** A connection JWT for `user`, valid for an hour unless `extra` overrides claims. */
export const userToken = (user, extra = {}) =>
  sign({ sub: user, exp: now() + 3600, ...extra }, { alg: 'HS256', key: HMAC_SECRET });

const openChannel = { allow_subscribe_for_client: true, allow_publish_for_client: true };

/**
 * Starts gyre with the API enabled (key API_KEY). `overrides` replaces top-level sections, except
 * http_server, http_api, client and channel which are merged one level deep.
 */
export async function startApiServer(t, overrides = {}) {
  const dir = tempDir(t);
  const port = await freePort();
  const base = {
    http_server: { port },
    http_api: { key: API_KEY },
    client: { token: { hmac_secret_key: HMAC_SECRET } },
    channel: {
      without_namespace: { ...openChannel, presence: true, join_leave: true },
      namespaces: [
        { name: 'ns1', ...openChannel, presence: false },
        { name: 'pres', ...openChannel, presence: true },
      ],
    },
  };
  const cfg = { ...base, ...overrides };
  for (const k of ['http_server', 'http_api', 'client', 'channel']) {
    cfg[k] = { ...base[k], ...(overrides[k] || {}) };
  }
  const file = writeJson(path.join(dir, 'config.json'), cfg);
  const server = await startGyre(t, { args: ['-c', file] });
  return { port, server, cfg };
}

/**
 * POSTs `body` (object → JSON, string sent as is) to http://127.0.0.1:port`path`. The API key goes
 * in X-API-Key unless `key` is null or `headers` carry their own auth. Never throws on HTTP errors.
 */
export async function post(port, urlPath, body, { key = API_KEY, headers = {}, method = 'POST', timeoutMs = 5000 } = {}) {
  const h = { 'content-type': 'application/json', ...headers };
  if (key !== null && key !== undefined) h['x-api-key'] = key;
  const init = { method, headers: h, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined && method !== 'GET' && method !== 'HEAD') {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, init);
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, contentType: res.headers.get('content-type') || '', text, json };
}

/** Style A: POST /api/<method>. */
export const api = (port, method, body = {}, opts = {}) => post(port, `/api/${method}`, body, opts);

/** Style B (legacy): POST /api with {"id","method","params"} lines; returns parsed reply lines too. */
export async function legacy(port, body, opts = {}) {
  const r = await post(port, '/api', body, opts);
  r.lines = r.status === 200 && r.text ? r.text.split('\n').map((l) => JSON.parse(l)) : [];
  return r;
}

/** Resolves when `check()` stops throwing / returns truthy, or rejects after ms with `what`. */
export function eventually(check, { timeoutMs = 5000, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      let err;
      try {
        const v = await check();
        if (v) { resolve(v); return; }
      } catch (e) { err = e; }
      if (Date.now() > deadline) {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${err ? `: ${err.message}` : ''}`));
        return;
      }
      setTimeout(tick, 25);
    };
    tick();
  });
}

/** Collects events `name` from a centrifuge-js emitter into an array. */
export function collect(emitter, name) {
  const out = [];
  emitter.on(name, (ctx) => out.push(ctx));
  return out;
}
