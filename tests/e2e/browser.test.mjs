// Browser end-to-end test: Debian's headless Chromium (driven by playwright-core) loads a static
// page from another origin; the page's centrifuge-js browser bundle first tries a WebSocket that
// gyre has disabled, falls back to an emulation transport (sse or http_stream, cross-origin, so
// CORS and the /emulation preflight are exercised for real) and shows the publications it gets.
// A screenshot of each run is kept in $GYRE_ARTIFACTS (set by ctest) or the temp directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { api, userToken } from './lib/api.mjs';
import { freePort } from './lib/gyre.mjs';
import { startTransportServer } from './lib/transports.mjs';

const CHROMIUM = process.env.GYRE_CHROMIUM || '/usr/bin/chromium';
const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = process.env.GYRE_ARTIFACTS || process.env.GYRE_ARTIFACTS_DIR || path.join(os.tmpdir(), 'gyre-artifacts');

// Without Chromium the test is skipped on a developer machine; in CI (CI set) it must run, so a
// missing browser is a failure there.
const skip = !fs.existsSync(CHROMIUM) && !process.env.CI
  ? `Chromium not found at ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium; GYRE_CHROMIUM overrides the path)`
  : false;

const files = {
  '/': [path.join(here, 'browser/index.html'), 'text/html; charset=utf-8'],
  '/app.js': [path.join(here, 'browser/app.js'), 'text/javascript; charset=utf-8'],
  '/centrifuge.js': [path.join(here, 'node_modules/centrifuge/dist/centrifuge.js'), 'text/javascript; charset=utf-8'],
};

/** Serves the static page on a free port of 127.0.0.1; closed when the test ends. */
async function servePage(t) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' });
    fs.createReadStream(file[0]).pipe(res);
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  t.after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));
  return `http://127.0.0.1:${port}`;
}

async function launch(t) {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless=new'], // root in containers needs --no-sandbox
    timeout: 30000,
  });
  t.after(() => browser.close());
  return browser;
}

describe('browser (headless Chromium)', { skip }, () => {
  for (const fallback of ['sse', 'http_stream']) {
    test(`page falls back from a disabled websocket to ${fallback} and shows an API publication`, async (t) => {
      for (const f of Object.values(files)) assert.ok(fs.existsSync(f[0]), `missing ${f[0]}`);
      const origin = await servePage(t);
      const { port } = await startTransportServer(t, {
        websocket: { disabled: true },
        client: { allowed_origins: [origin] },
      });
      const browser = await launch(t);
      const page = await browser.newPage();
      const log = [];
      page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));

      const channel = `browser-${fallback}`;
      const q = new URLSearchParams({
        gyre: `127.0.0.1:${port}`, token: userToken(`browser-${fallback}`), channel, transports: `websocket,${fallback}`,
      });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const shot = path.join(ARTIFACTS, `browser-${fallback}.png`);
      try {
        await page.goto(`${origin}/?${q}`, { timeout: 15000 });
        await page.waitForFunction(() => document.getElementById('sub').textContent === 'subscribed', null, { timeout: 20000 });
        assert.equal(await page.textContent('#transport'), fallback);
        assert.equal(await page.textContent('#state'), 'connected');

        const r = await api(port, 'publish', { channel, data: { text: `hello ${fallback} from the API` } });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json?.error, undefined, r.text);
        await page.waitForSelector('.pub', { timeout: 10000 });
        assert.deepEqual(JSON.parse(await page.textContent('.pub')), { text: `hello ${fallback} from the API` });

        // The page can also publish: a client command through /emulation (CORS preflighted).
        await page.evaluate(() => window.gyreSub.publish({ text: 'from the page' }));
        await page.waitForFunction(() => document.querySelectorAll('.pub').length === 2, null, { timeout: 10000 });
        assert.deepEqual(JSON.parse((await page.$$eval('.pub', (els) => els.map((e) => e.textContent)))[1]), { text: 'from the page' });
      } catch (e) {
        const body = await page.textContent('body').catch(() => '?');
        throw new Error(`${e.message}\nbrowser log:\n${log.slice(-40).join('\n')}\npage text: ${body.replace(/\s+/g, ' ').slice(0, 2000)}`, { cause: e });
      } finally {
        await page.screenshot({ path: shot, fullPage: true, timeout: 10000 }).catch(() => {});
        await page.evaluate(() => window.gyreClient && window.gyreClient.disconnect()).catch(() => {});
      }
      assert.ok(fs.existsSync(shot), `screenshot kept at ${shot}`);
    });
  }
});
