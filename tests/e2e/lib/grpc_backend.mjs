// A small application backend for the gRPC proxy tests: a real @grpc/grpc-js server on a free
// loopback port implementing centrifugal.centrifugo.proxy.CentrifugoProxy from gyre's own
// src/proxy/proxy.proto (Connect, Refresh, Subscribe, Publish, RPC, SubRefresh). Tests set a
// handler per method; every call is recorded (method, request, metadata). Force-shut down when
// the test ends.
//
// Requests are decoded by proto-loader with keepCase (field names as in the .proto), longs as
// Numbers and no defaults (a field gyre did not send is absent). `bytes` fields (data, info,
// meta) arrive as Node Buffers — protobufjs decodes bytes into Buffer under Node and proto-loader
// leaves them so unless its `bytes: String` option asks for base64 — and a handler answers them
// with a Buffer too (see `json()`), as a JSON client's payload is raw JSON bytes.
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PROTO_PATH = path.resolve(here, '../../../src/proxy/proxy.proto');

const definition = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, defaults: false });
const proto = grpc.loadPackageDefinition(definition);
export const ProxyService = proto.centrifugal.centrifugo.proxy.CentrifugoProxy;

export const METHODS = ['Connect', 'Refresh', 'Subscribe', 'Publish', 'RPC', 'SubRefresh'];

/** Raw JSON bytes for a `bytes` field of an answer. */
export const json = (value) => Buffer.from(JSON.stringify(value));

/** The JSON value held in a `bytes` field of a request (undefined when absent or empty). */
export const parseBytes = (buf) => (buf && buf.length ? JSON.parse(Buffer.from(buf).toString('utf8')) : undefined);

/**
 * Starts the backend. `handlers` maps a method name (Connect, Subscribe, …) to
 * `(request, metadata, call) => response | Promise<response>`; a handler may also throw (or
 * return) `{ grpcStatus, details }` to fail the call with that gRPC status. A method without a
 * handler fails with UNIMPLEMENTED.
 */
export async function startGrpcBackend(t, handlers = {}) {
  const calls = [];
  const state = { handlers: { ...handlers } };
  const server = new grpc.Server();
  const impl = {};
  for (const method of METHODS) {
    impl[method] = async (call, callback) => {
      const metadata = call.metadata.getMap();
      const record = { method, request: call.request, metadata, rawMetadata: call.metadata };
      calls.push(record);
      const handler = state.handlers[method];
      if (!handler) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: `no handler for ${method}` });
        return;
      }
      let answer;
      try {
        answer = await handler(call.request, metadata, call);
      } catch (e) {
        if (e && typeof e.grpcStatus === 'number') {
          callback({ code: e.grpcStatus, details: e.details || '' });
        } else {
          callback({ code: grpc.status.INTERNAL, details: String(e) });
        }
        return;
      }
      if (answer && typeof answer.grpcStatus === 'number') {
        callback({ code: answer.grpcStatus, details: answer.details || '' });
        return;
      }
      try {
        callback(null, answer ?? {});
      } catch { /* the call was cancelled (gyre's deadline passed) */ }
    };
  }
  server.addService(ProxyService.service, impl);
  const port = await new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  let stopped = false;
  const stop = () => {
    if (!stopped) {
      stopped = true;
      server.forceShutdown();
    }
  };
  t.after(stop);
  return {
    port,
    endpoint: `grpc://127.0.0.1:${port}`,
    calls,
    of: (method) => calls.filter((c) => c.method === method),
    set: (method, handler) => { state.handlers[method] = handler; },
    /** Force-shuts the server down (open connections are dropped): the backend is down. */
    stop,
  };
}

export { grpc };
