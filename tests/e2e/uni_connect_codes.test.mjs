// End-to-end tests of what a refused unidirectional connect becomes: Centrifugo's default mapping
// of connect errors to disconnect pushes, `client.connect_code_to_unidirectional_disconnect`
// rules, and `uni_sse` / `uni_http_stream` `connect_code_to_http_response`, which answer with an
// HTTP status and body instead of a 200 stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { now } from './lib/tokens.mjs';
import { userToken } from './lib/api.mjs';
import { base, isPing, openStream, startTransportServer } from './lib/transports.mjs';

const expiredToken = () => userToken('late', { exp: now() - 10 });
const badToken = 'not.a.jwt';

async function uniHttpStream(t, port, token) {
  return openStream(t, `${base(port)}/connection/uni_http_stream`, { body: JSON.stringify({ token }) });
}

test('default mapping: an expired token (error 109) becomes disconnect 3005 on uni_http_stream', async (t) => {
  const { port } = await startTransportServer(t);
  const { res, stream } = await uniHttpStream(t, port, expiredToken());
  assert.equal(res.status, 200);
  const d = await stream.next((m) => m.disconnect, 'disconnect push');
  assert.deepEqual(d.disconnect, { code: 3005, reason: 'connection expired' });
  await stream.waitEnd();
  assert.ok(!stream.messages.some((m) => m.connect), 'no connect push');
});

test('client.connect_code_to_unidirectional_disconnect replaces the mapping of an error code', async (t) => {
  const { port } = await startTransportServer(t, {
    client: {
      connect_code_to_unidirectional_disconnect: {
        enabled: true,
        transforms: [{ code: 109, to: { code: 4109, reason: 'renew your token' } }],
      },
    },
  });
  const { stream } = await uniHttpStream(t, port, expiredToken());
  const d = await stream.next((m) => m.disconnect, 'disconnect push');
  assert.deepEqual(d.disconnect, { code: 4109, reason: 'renew your token' });
  // Rules map errors only: an invalid token is a disconnect (3500) and stays one.
  const { stream: other } = await uniHttpStream(t, port, badToken);
  assert.deepEqual((await other.next((m) => m.disconnect, 'disconnect push')).disconnect,
    { code: 3500, reason: 'invalid token' });
});

test('connect_code_to_http_response: refused connects get the rule\'s status, others a stream', async (t) => {
  const rules = {
    enabled: true,
    transforms: [
      { code: 3500, to: { status_code: 401, body: 'bad token' } },
      { code: 109, to: { status_code: 403 } },
    ],
  };
  const { port } = await startTransportServer(t, {
    uni_http_stream: { enabled: true, connect_code_to_http_response: rules },
    uni_sse: { enabled: true, connect_code_to_http_response: rules },
  });
  // uni_http_stream: a disconnect code (3500) and an error code (109, body = the error message).
  const invalid = await uniHttpStream(t, port, badToken);
  assert.equal(invalid.res.status, 401);
  await invalid.stream.waitEnd();
  assert.equal(invalid.stream.raw, 'bad token');
  const expired = await uniHttpStream(t, port, expiredToken());
  assert.equal(expired.res.status, 403);
  await expired.stream.waitEnd();
  assert.equal(expired.stream.raw, 'token expired');
  // uni_sse GET, same rules; a connect that succeeds is still a 200 event stream.
  const sse = (token) => openStream(t,
    `${base(port)}/connection/uni_sse?cf_connect=${encodeURIComponent(JSON.stringify({ token }))}`,
    { method: 'GET', format: 'sse' });
  const refused = await sse(badToken);
  assert.equal(refused.res.status, 401);
  const ok = await sse(userToken('fine'));
  assert.equal(ok.res.status, 200);
  assert.match(ok.res.headers.get('content-type') || '', /^text\/event-stream/);
  const connect = await ok.stream.next((m) => !isPing(m), 'connect push');
  assert.ok(connect.connect?.client, JSON.stringify(connect));
  // No rule for the code: 500.
  const { port: strict } = await startTransportServer(t, {
    uni_http_stream: { enabled: true, connect_code_to_http_response: { enabled: true, transforms: [] } },
  });
  const unmatched = await uniHttpStream(t, strict, badToken);
  assert.equal(unmatched.res.status, 500);
});
