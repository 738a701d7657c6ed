// centrifuge-js clients (JSON and Protobuf builds) and raw WebSocket peers for tests. Every
// client is disconnected when the test ends.
import { Centrifuge as JsonCentrifuge } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';

export { WebSocket };

export function client(t, port, { protobuf = false, ...opts } = {}) {
  const Impl = protobuf ? ProtobufCentrifuge : JsonCentrifuge;
  const c = new Impl(`ws://127.0.0.1:${port}/connection/websocket`, {
    websocket: WebSocket, minReconnectDelay: 100, maxReconnectDelay: 500, timeout: 5000, ...opts,
  });
  t.after(() => c.disconnect());
  return c;
}

/** Resolves with the first event `name` from `emitter`, or rejects after `ms`. */
export function once(emitter, name, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${name}' event within ${ms} ms`)), ms);
    emitter.once(name, (ctx) => { clearTimeout(timer); resolve(ctx); });
  });
}

export const encode = (obj) => new TextEncoder().encode(JSON.stringify(obj));
export const decode = (data) => (data instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(data)) : data);

/** A raw protocol peer: JSON text frames, replies collected, close code/reason recorded. */
export async function rawPeer(t, port, { protocols } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`, protocols);
  const peer = { ws, messages: [], frames: [], closed: null };
  ws.on('message', (data, isBinary) => {
    if (isBinary) { peer.messages.push(data); peer.frames.push(1); return; }
    const lines = data.toString().split('\n').filter((l) => l);
    peer.frames.push(lines.length); // messages coalesced into this frame
    for (const line of lines) peer.messages.push(JSON.parse(line));
  });
  peer.closedPromise = new Promise((resolve) => ws.on('close', (code, reason) => {
    peer.closed = { code, reason: reason.toString() };
    resolve(peer.closed);
  }));
  ws.on('error', () => {});
  t.after(() => ws.terminate());
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  peer.send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  peer.waitClose = (ms = 5000) => Promise.race([
    peer.closedPromise,
    new Promise((_, rej) => setTimeout(() => rej(new Error('peer not closed in time')), ms)),
  ]);
  return peer;
}
