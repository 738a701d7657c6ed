// End-to-end tests of behaviours where Gyre used to differ from Centrifugo v6.9 (issue 17):
// RPC codes with and without an RPC handler, binary publications reaching JSON subscribers
// (3506), and the channels a connect request asks for in `subs`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, eventually, startApiServer, userToken } from './lib/api.mjs';
import { client, once, rawPeer } from './lib/clients.mjs';
import { base, openStream } from './lib/transports.mjs';

const connected = (c) => { const p = once(c, 'connected'); c.connect(); return p; };

describe('rpc without a handler, with rpc.ping only, with a proxy', () => {
  test('no RPC proxy and rpc.ping off: every call is 108 "not available" (JSON and Protobuf)', async (t) => {
    const { port } = await startApiServer(t);
    for (const protobuf of [false, true]) {
      const c = client(t, port, { protobuf, token: userToken('u1') });
      await connected(c);
      for (const method of ['anything', 'ping', 'ns:x']) {
        await assert.rejects(c.rpc(method, {}), (e) => e.code === 108 && e.message === 'not available',
          `${method} (protobuf ${protobuf})`);
      }
    }
  });

  test('rpc.ping alone: the ping method answers, any other method (namespaced or not) is 104', async (t) => {
    const { port } = await startApiServer(t, { rpc: { ping: { enabled: true, method: 'hello' } } });
    const c = client(t, port, { token: userToken('u1') });
    await connected(c);
    assert.deepEqual((await c.rpc('hello', {})).data, undefined);
    await assert.rejects(c.rpc('other', {}), (e) => e.code === 104 && e.message === 'method not found');
    await assert.rejects(c.rpc('ns:x', {}), (e) => e.code === 104);
  });
});

describe('a publication that is not JSON', () => {
  test('disconnects JSON subscribers with 3506; Protobuf subscribers get the bytes', async (t) => {
    const { port } = await startApiServer(t);
    const jsonEvents = [];
    const jsonClients = [];
    for (let i = 0; i < 3; i += 1) {
      const c = client(t, port, { token: userToken(`json${i}`) });
      const s = c.newSubscription('bin');
      const pubs = [];
      s.on('publication', (ctx) => pubs.push(ctx.data));
      c.on('disconnected', (ctx) => jsonEvents.push({ i, code: ctx.code, reason: ctx.reason }));
      const subscribed = once(s, 'subscribed');
      c.connect();
      s.subscribe();
      await subscribed;
      jsonClients.push({ c, pubs });
    }
    const pb = client(t, port, { protobuf: true, token: userToken('pb') });
    const pbSub = pb.newSubscription('bin');
    const pbPubs = [];
    pbSub.on('publication', (ctx) => pbPubs.push(ctx.data));
    const pbSubscribed = once(pbSub, 'subscribed');
    pb.connect();
    pbSub.subscribe();
    await pbSubscribed;

    // JSON data first (everyone gets it), then bytes that are not JSON.
    const enc = new TextEncoder();
    await pbSub.publish(enc.encode('{"n":1}'));
    // A close drops what is still queued behind a write in progress (as every close does), so
    // the first publication must have arrived before the second closes the JSON subscribers.
    await eventually(() => jsonClients.every(({ pubs }) => pubs.length === 1), { what: 'the JSON publication everywhere' });
    const binary = new Uint8Array([0xff, 0x00, 0xfe, 0x7b]);
    await pbSub.publish(binary);
    await eventually(() => pbPubs.length === 2, { what: 'both publications at the Protobuf subscriber' });
    assert.deepEqual([...pbPubs[1]], [...binary]);
    await eventually(() => jsonEvents.length === 3, { what: 'the JSON subscribers disconnected' });
    for (const e of jsonEvents) assert.deepEqual({ code: e.code, reason: e.reason }, { code: 3506, reason: 'inappropriate protocol' });
    for (const { c, pubs } of jsonClients) {
      assert.deepEqual(pubs, [{ n: 1 }]);
      assert.equal(c.state, 'disconnected', '3506 is terminal: no reconnect');
    }
    // The Protobuf subscriber stays and keeps receiving.
    const r = await api(port, 'publish', { channel: 'bin', data: { n: 3 } });
    assert.equal(r.json?.error, undefined, r.text);
    await eventually(() => pbPubs.length === 3, { what: 'a later publication at the Protobuf subscriber' });
    assert.equal(pb.state, 'connected');
  });

  test('a raw JSON peer is closed with 3506 and receives no empty message', async (t) => {
    const { port } = await startApiServer(t);
    const peer = await rawPeer(t, port);
    peer.send({ id: 1, connect: { token: userToken('raw') } });
    peer.send({ id: 2, subscribe: { channel: 'bin' } });
    await eventually(() => peer.messages.some((m) => m.id === 2), { what: 'subscribed' });
    const pb = client(t, port, { protobuf: true, token: userToken('pb') });
    await connected(pb);
    await pb.publish('bin', new Uint8Array([0x80, 0x81]));
    const closed = await peer.waitClose();
    assert.deepEqual(closed, { code: 3506, reason: 'inappropriate protocol' });
    assert.ok(!peer.messages.some((m) => m.push), `no push: ${JSON.stringify(peer.messages)}`);
  });

  test('a history reply holding such data closes a JSON client with 3506 instead of sending nothing', async (t) => {
    const { port } = await startApiServer(t, { channel: { namespaces: [
      { name: 'hist', allow_subscribe_for_client: true, allow_publish_for_client: true, allow_history_for_client: true, history_size: 5, history_ttl: '60s' },
    ] } });
    const pb = client(t, port, { protobuf: true, token: userToken('pb') });
    await connected(pb);
    await pb.publish('hist:b', new Uint8Array([0xc3, 0x28]));
    assert.equal((await pb.history('hist:b', { limit: 5 })).publications.length, 1, 'Protobuf reads it');
    const peer = await rawPeer(t, port);
    peer.send({ id: 1, connect: { token: userToken('raw') } });
    await eventually(() => peer.messages.some((m) => m.id === 1), { what: 'connected' });
    peer.send({ id: 2, history: { channel: 'hist:b', limit: 5 } });
    assert.deepEqual(await peer.waitClose(), { code: 3506, reason: 'inappropriate protocol' });
    assert.ok(!peer.messages.some((m) => m.id === 2), JSON.stringify(peer.messages));
  });
});

describe('channels asked for in the connect request (`subs`)', () => {
  const channel = {
    without_namespace: { allow_subscribe_for_client: true },
    namespaces: [
      { name: 'closed' },
      { name: 'anon', allow_subscribe_for_client: true, allow_subscribe_for_anonymous: true },
      { name: 'dialog', allow_user_limited_channels: true },
      { name: 'hist', allow_subscribe_for_client: true, history_size: 10, history_ttl: '60s', force_recovery: true },
    ],
  };
  const transports = { uni_http_stream: { enabled: true }, uni_sse: { enabled: true } };

  test('uni_http_stream: the client is subscribed to each channel it may subscribe to, others are left out', async (t) => {
    const { port } = await startApiServer(t, { ...transports, channel });
    const subs = { news: {}, 'closed:x': {}, 'dialog:d#u1,u2': {}, 'dialog:d#u2': {}, 'hist:h': {}, $private: {} };
    const { res, stream } = await openStream(t, `${base(port)}/connection/uni_http_stream`,
      { body: JSON.stringify({ token: userToken('u1'), subs }) });
    assert.equal(res.status, 200);
    const c = await stream.next((m) => m.connect, 'connect push');
    assert.deepEqual(Object.keys(c.connect.subs).sort(), ['dialog:d#u1,u2', 'hist:h', 'news']);
    // The namespace's options apply: hist forces recovery, so the subscription is positioned.
    assert.equal(c.connect.subs['hist:h'].recoverable, true);
    assert.equal(typeof c.connect.subs['hist:h'].epoch, 'string');
    for (const ch of ['closed:x', 'news', 'hist:h']) {
      const r = await api(port, 'publish', { channel: ch, data: { ch } });
      assert.equal(r.json?.error, undefined, r.text);
    }
    await stream.next((m) => m.channel === 'hist:h' && m.pub, 'the hist publication');
    const pubs = stream.messages.filter((m) => m.pub).map((m) => [m.channel, m.pub.data]);
    assert.deepEqual(pubs, [['news', { ch: 'news' }], ['hist:h', { ch: 'hist:h' }]]);
  });

  test('anonymous uni_sse: only channels open to anonymous subscribers', async (t) => {
    const { port } = await startApiServer(t, {
      ...transports, channel, client: { allow_anonymous_connect_without_token: true },
    });
    const cf = encodeURIComponent(JSON.stringify({ subs: { news: {}, 'anon:a': {} } }));
    const { res, stream } = await openStream(t, `${base(port)}/connection/uni_sse?cf_connect=${cf}`,
      { method: 'GET', format: 'sse' });
    assert.equal(res.status, 200);
    const c = await stream.next((m) => m.connect, 'connect push');
    assert.deepEqual(Object.keys(c.connect.subs), ['anon:a']);
  });

  test('bidirectional JSON: the connect reply lists the granted channels and publications follow', async (t) => {
    const { port } = await startApiServer(t, { channel });
    const peer = await rawPeer(t, port);
    peer.send({ id: 1, connect: { token: userToken('u9'), subs: { news: {}, 'closed:y': {} } } });
    await eventually(() => peer.messages.some((m) => m.id === 1), { what: 'connect reply' });
    const reply = peer.messages.find((m) => m.id === 1);
    assert.deepEqual(Object.keys(reply.connect.subs ?? {}), ['news'], JSON.stringify(reply));
    await api(port, 'publish', { channel: 'news', data: { hi: 1 } });
    await eventually(() => peer.messages.some((m) => m.push?.channel === 'news'), { what: 'publication on news' });
  });

  test('centrifuge-js keeps and recovers a server-side subscription its new token no longer lists (JSON and Protobuf)', async (t) => {
    // The SDK sends its recoverable server-side channels in `subs` when it reconnects; one the
    // client may subscribe to itself stays, recovered from the position it sent.
    const { port } = await startApiServer(t, { channel });
    for (const protobuf of [false, true]) {
      const ch = `hist:${protobuf ? 'pb' : 'json'}`;
      const c = client(t, port, { protobuf, token: userToken('u5', { channels: [ch] }) });
      const events = [];
      c.on('subscribed', (ctx) => events.push(['subscribed', ctx.channel, ctx.recovered ?? false]));
      c.on('unsubscribed', (ctx) => events.push(['unsubscribed', ctx.channel]));
      c.on('publication', (ctx) => events.push(['publication', ctx.channel, ctx.offset]));
      await connected(c);
      assert.deepEqual(events, [['subscribed', ch, false]]);
      await api(port, 'publish', { channel: ch, data: { n: 1 } });
      await eventually(() => events.length === 2, { what: 'the first publication' });
      // Dropped by the server (a code that reconnects), with a token that lists no channel.
      c.setToken(userToken('u5'));
      const back = once(c, 'connected');
      const r = await api(port, 'disconnect', { user: 'u5', disconnect: { code: 4000, reason: 'move' } });
      assert.equal(r.json?.error, undefined, r.text);
      await eventually(() => c.state !== 'connected', { what: 'the disconnect' });
      await api(port, 'publish', { channel: ch, data: { n: 2 } }); // missed while away
      await back;
      await eventually(() => events.length === 4, { what: 'resubscribed and recovered' });
      assert.deepEqual(events.slice(2), [['subscribed', ch, true], ['publication', ch, 2]], JSON.stringify(events));
      c.disconnect();
    }
  });

  test('a channel of an unknown namespace is a bad request (3501)', async (t) => {
    const { port } = await startApiServer(t, { ...transports, channel });
    const { stream } = await openStream(t, `${base(port)}/connection/uni_http_stream`,
      { body: JSON.stringify({ token: userToken('u1'), subs: { news: {}, 'nosuch:x': {} } }) });
    const d = await stream.next((m) => m.disconnect, 'disconnect push');
    assert.deepEqual(d.disconnect, { code: 3501, reason: 'bad request' });
    assert.ok(!stream.messages.some((m) => m.connect), 'no connect push');
    const peer = await rawPeer(t, port);
    peer.send({ id: 1, connect: { token: userToken('u1'), subs: { 'nosuch:x': {} } } });
    assert.deepEqual(await peer.waitClose(), { code: 3501, reason: 'bad request' });
  });
});
