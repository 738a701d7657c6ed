// A small application backend for the proxy tests: a real Node HTTP server on a free loopback
// port answering gyre's proxy calls (POST /connect, /refresh, /subscribe, /publish,
// /sub_refresh, /rpc) with handlers a test sets, and recording every request it got (path,
// headers, JSON body). Closed when the test ends.
import http from 'node:http';

export async function startBackend(t, handlers = {}) {
  const calls = [];
  const state = { handlers: { ...handlers } };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => { body += d; });
    req.on('end', async () => {
      const event = req.url.replace(/^\//, '');
      let json;
      try { json = JSON.parse(body); } catch { json = undefined; }
      const call = { event, headers: req.headers, body: json, raw: body };
      calls.push(call);
      const handler = state.handlers[event];
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      try {
        const answer = await handler(json, req);
        if (answer && answer.status) {
          res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.text || '');
          return;
        }
        if (answer && typeof answer.raw === 'string') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(answer.raw);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer ?? {}));
      } catch (e) {
        res.writeHead(500).end(String(e));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  t.after(() => new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  }));
  return {
    port,
    url: (event) => `http://127.0.0.1:${port}/${event}`,
    calls,
    of: (event) => calls.filter((c) => c.event === event),
    set: (event, handler) => { state.handlers[event] = handler; },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
