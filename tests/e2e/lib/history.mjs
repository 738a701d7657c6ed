// Helpers for history/recovery tests: a gyre with history-enabled namespaces, centrifuge-js
// clients whose reconnects can be held back (a network outage seen from the client), and
// collectors for publications and subscribe contexts.
import assert from 'node:assert/strict';
import { api, eventually, startApiServer, userToken } from './api.mjs';
import { client, decode, WebSocket } from './clients.mjs';

const open = { allow_subscribe_for_client: true, allow_publish_for_client: true, allow_history_for_client: true };
const stream = (size, ttl) => ({ history_size: size, history_ttl: ttl });

/** Namespaces: '' recovers (10, 300s); cache; pos; short (2s ttl); live (1000); big (400);
 * optin (allow_recovery, allow_positioning); nohist. */
export function startHistoryServer(t, overrides = {}) {
  return startApiServer(t, {
    ...overrides,
    channel: {
      without_namespace: { ...open, ...stream(10, '300s'), force_recovery: true },
      namespaces: [
        { name: 'cache', ...open, ...stream(10, '300s'), force_recovery: true, force_recovery_mode: 'cache' },
        { name: 'pos', ...open, ...stream(10, '300s'), force_positioning: true },
        { name: 'short', ...open, ...stream(10, '2s'), force_recovery: true },
        { name: 'live', ...open, ...stream(1000, '300s'), force_recovery: true },
        { name: 'big', ...open, ...stream(400, '300s') },
        { name: 'optin', ...open, ...stream(10, '300s'), allow_recovery: true, allow_positioning: true },
        { name: 'nohist', ...open },
      ],
    },
  });
}

/** An API call that must succeed; returns its result. */
export async function ok(port, method, body) {
  const r = await api(port, method, body);
  assert.equal(r.status, 200, `${method}: HTTP ${r.status} ${r.text}`);
  assert.equal(r.json?.error, undefined, `${method} ${JSON.stringify(body)}: ${r.text}`);
  return r.json.result;
}

/**
 * A WebSocket class for centrifuge-js whose new connections are refused while the gate is
 * closed (they go to a port nothing listens on), like a network outage: the client keeps
 * retrying with its usual backoff and gets through once the gate opens.
 */
export function gatedWebSocket() {
  const gate = { closed: false, attempts: 0 };
  gate.WebSocket = class extends WebSocket {
    constructor(url, protocols, opts) {
      gate.attempts += 1;
      super(gate.closed ? url.replace(/:\d+\//, ':1/') : url, protocols, opts);
    }
  };
  return gate;
}

/**
 * A connected centrifuge-js client for `user` (its reconnects held back while gate.closed),
 * with a subscription to `channel`. Collects publication events (data decoded) and subscribed
 * contexts; resolves once subscribed.
 */
export async function recoveringSubscriber(t, port, { user, channel, protobuf = false, subOpts = {}, clientOpts = {} }) {
  const gate = gatedWebSocket();
  const c = client(t, port, { protobuf, token: userToken(user), websocket: gate.WebSocket, ...clientOpts });
  const s = c.newSubscription(channel, subOpts);
  const pubs = [];
  const subscribed = [];
  const subscribing = [];
  s.on('publication', (ctx) => pubs.push({ offset: ctx.offset, data: decode(ctx.data) }));
  s.on('subscribed', (ctx) => subscribed.push(ctx));
  s.on('subscribing', (ctx) => subscribing.push(ctx));
  c.connect();
  s.subscribe();
  await eventually(() => subscribed.length === 1, { what: `${user} subscribed to ${channel}` });
  return { c, s, gate, pubs, subscribed, subscribing };
}

/**
 * Drops the client's connection from the server side with a reconnectable code (API disconnect
 * 3000) while its gate is closed; resolves once the subscription is back to subscribing.
 */
export async function dropConnection(port, sub, user) {
  sub.gate.closed = true;
  const before = sub.subscribing.length;
  assert.deepEqual(await ok(port, 'disconnect', { user, disconnect: { code: 3000, reason: 'test drop' } }), {});
  await eventually(() => sub.subscribing.length > before && sub.c.state === 'connecting',
    { what: `${user} to lose its connection` });
}

/** Opens the gate; resolves with the subscribed context of the resubscribe. */
export async function restore(sub, timeoutMs = 8000) {
  const before = sub.subscribed.length;
  sub.gate.closed = false;
  await eventually(() => sub.subscribed.length > before, { timeoutMs, what: 'resubscribe after reconnect' });
  return sub.subscribed[sub.subscribed.length - 1];
}

/** Publishes `data` to `channel` through the API; resolves with {offset, epoch}. */
export const publish = (port, channel, data, extra = {}) => ok(port, 'publish', { channel, data, ...extra });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
