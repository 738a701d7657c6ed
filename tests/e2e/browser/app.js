// Page script of the browser test: centrifuge-js's browser bundle (global Centrifuge) connects to
// gyre with the transports given in the query string, in fallback order, subscribes to a channel
// and shows every publication as a <div class="pub">.
(function () {
  const q = new URLSearchParams(location.search);
  const gyre = q.get('gyre');
  const names = (q.get('transports') || 'websocket,sse').split(',');
  const endpoints = names.map((name) => ({
    transport: name,
    endpoint: name === 'websocket' ? `ws://${gyre}/connection/websocket` : `http://${gyre}/connection/${name}`,
  }));
  const $ = (id) => document.getElementById(id);
  const c = new Centrifuge(endpoints, {
    token: q.get('token'),
    emulationEndpoint: `http://${gyre}/emulation`,
    minReconnectDelay: 100,
    maxReconnectDelay: 500,
  });
  c.on('state', (ctx) => { $('state').textContent = ctx.newState; });
  c.on('connected', (ctx) => { $('transport').textContent = ctx.transport; });
  c.on('error', (ctx) => {
    const d = document.createElement('div');
    d.className = 'error';
    d.textContent = `${ctx.type}: ${ctx.error && ctx.error.message}`;
    $('errors').appendChild(d);
    while ($('errors').childElementCount > 5) $('errors').firstChild.remove(); // the latest few
  });
  const sub = c.newSubscription(q.get('channel'));
  sub.on('subscribed', () => { $('sub').textContent = 'subscribed'; });
  sub.on('publication', (ctx) => {
    const d = document.createElement('div');
    d.className = 'pub';
    d.textContent = JSON.stringify(ctx.data);
    $('pubs').appendChild(d);
  });
  sub.subscribe();
  c.connect();
  window.gyreClient = c;
  window.gyreSub = sub;
}());
