// Admin web interface end-to-end test: the real gyre binary with `admin.enabled` serves the page
// (web/admin, embedded) and its admin/init, admin/auth and admin/api endpoints; Debian's headless
// Chromium (driven by playwright-core) signs in, watches the live node overview while
// centrifuge-js clients come and go, browses channels (presence, history), publishes through the
// actions form to a centrifuge-js subscriber, and renders hostile channel names, user ids and
// payloads as plain text. Screenshots are kept in $GYRE_ARTIFACTS (set by ctest) or the temp
// directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { api, eventually, startApiServer, userToken } from './lib/api.mjs';
import { client, once } from './lib/clients.mjs';

const CHROMIUM = process.env.GYRE_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.GYRE_ARTIFACTS || process.env.GYRE_ARTIFACTS_DIR || path.join(os.tmpdir(), 'gyre-artifacts');

// Without Chromium the test is skipped on a developer machine; in CI (CI set) it must run.
const skip = !fs.existsSync(CHROMIUM) && !process.env.CI
    ? `Chromium not found at ${CHROMIUM} (scripts/install-deps.sh installs Debian's chromium; GYRE_CHROMIUM overrides the path)`
    : false;

const ADMIN_PASSWORD = 'e2e-admin-password';
const ADMIN_SECRET = 'e2e-admin-secret-0123456789abcdef';
const TOKEN_KEY = 'gyre.admin.token'; // where web/admin/app.js keeps the session token
const WAIT = { timeout: 10000 };

const open = { allow_subscribe_for_client: true, presence: true, allow_presence_for_subscriber: true };

/** gyre with the admin interface on the main port (default prefix: the site root). */
async function startAdminServer(t, admin = {}) {
    const { port, server } = await startApiServer(t, {
        admin: { enabled: true, password: ADMIN_PASSWORD, secret: ADMIN_SECRET, ...admin },
        channel: {
            without_namespace: { ...open, history_size: 10, history_ttl: '60s' },
            // No presence and no history: the page must say so instead of failing.
            namespaces: [{ name: 'quiet', allow_subscribe_for_client: true }],
        },
    });
    return { port, server, base: `http://127.0.0.1:${port}` };
}

// One Chromium for the whole file (it takes seconds to start); each test has its own context.
let browserPromise = null;

function launch() {
    browserPromise ??= import('playwright-core').then(({ chromium }) => chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--headless=new'], // root in containers needs --no-sandbox
        timeout: 30000,
    }));
    return browserPromise;
}

/**
 * A page (own browser context, closed when the test ends) with its console, page errors and
 * admin/api calls recorded. `run(fn)` runs the steps; on a failure it keeps a screenshot and adds
 * the browser log and page text to the error; after them it checks that the page had no script
 * error and nothing refused by the Content-Security-Policy. `shot(name)` keeps a screenshot.
 */
async function openPage(t, browser, { width = 1360, height = 900, colorScheme = 'light' } = {}) {
    const context = await browser.newContext({ viewport: { width, height }, colorScheme });
    const page = await context.newPage();
    const log = [];
    const apiCalls = []; // {method, params} of every admin/api request the page sent
    page.on('console', (m) => log.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
    page.on('request', (r) => {
        if (r.method() === 'POST' && new URL(r.url()).pathname.endsWith('/admin/api')) {
            try { apiCalls.push(JSON.parse(r.postData() || '{}')); } catch { apiCalls.push({ raw: r.postData() }); }
        }
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const shot = async (name) => {
        const file = path.join(ARTIFACTS, `admin-ui-${name}.png`);
        await page.screenshot({ path: file, fullPage: true, timeout: 10000 });
        assert.ok(fs.statSync(file).size > 1000, `screenshot kept at ${file}`);
        return file;
    };
    const run = async (fn) => {
        try {
            await fn();
        } catch (e) {
            await page.screenshot({ path: path.join(ARTIFACTS, 'admin-ui-failure.png'), fullPage: true, timeout: 10000 }).catch(() => {});
            const body = await page.textContent('body').catch(() => '?');
            throw new Error(`${e.message}\nbrowser log:\n${log.slice(-40).join('\n')}\npage text: ${(body || '').replace(/\s+/g, ' ').slice(0, 2000)}`, { cause: e });
        }
        // Nothing the page did may have been refused by the Content-Security-Policy, and no
        // script error may have happened.
        assert.deepEqual(log.filter((l) => /Content Security Policy|pageerror/i.test(l)), []);
    };
    t.after(() => context.close());
    return { page, log, apiCalls, shot, run };
}

/** Fills the password and submits the login form. */
async function signIn(page, password = ADMIN_PASSWORD) {
    await page.fill('#login-password', password);
    await page.click('#login-submit');
}

const text = (page, sel) => page.textContent(sel, WAIT);

/** Runs the actions form of `method` with `fields` filled in; returns the status and shown JSON. */
async function runForm(page, method, fields = {}) {
    await page.click(`[data-testid=action-${method}]`);
    for (const [name, value] of Object.entries(fields)) await page.fill(`#f-${method}-${name}`, value);
    await page.$eval(`[data-testid=status-${method}]`, (e) => { e.textContent = ''; }); // forget the last run
    await page.click(`[data-testid=submit-${method}]`);
    await page.waitForFunction((m) => /^(OK|Error|Failed)/.test(document.querySelector(`[data-testid=status-${m}]`).textContent), method, WAIT);
    return {
        status: await text(page, `[data-testid=status-${method}]`),
        shown: JSON.parse(await text(page, `[data-testid=result-${method}]`)),
    };
}

/** A connected centrifuge-js client of `user`, subscribed to `channels`. */
async function subscriber(t, port, user, channels = [], claims = {}) {
    const c = client(t, port, { token: userToken(user, claims) });
    const connected = once(c, 'connected');
    c.connect();
    await connected;
    const subs = [];
    for (const ch of channels) {
        const s = c.newSubscription(ch);
        const subscribed = once(s, 'subscribed');
        s.subscribe();
        await subscribed;
        subs.push(s);
    }
    return { c, subs };
}

const post = (url, body, headers = {}) => fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) })
    .then(async (r) => {
        const raw = await r.text();
        let json;
        try { json = JSON.parse(raw); } catch { json = undefined; }
        return { status: r.status, raw, json };
    });

describe('admin web interface (headless Chromium)', { skip }, () => {
    after(async () => {
        if (browserPromise) await (await browserPromise.catch(() => null))?.close();
    });

    test('sign-in: a wrong password is refused (page and HTTP), the right one opens the dashboard; logout and a rejected token go back to login', async (t) => {
        const { base } = await startAdminServer(t);

        // The contract, straight over HTTP.
        let r = await fetch(`${base}/admin/init`, { signal: AbortSignal.timeout(5000) });
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), { insecure: false, edition: 'oss', authenticated: false });
        const form = { 'content-type': 'application/x-www-form-urlencoded' };
        r = await post(`${base}/admin/auth`, 'password=wrong-password', form);
        assert.equal(r.status, 400, r.raw); // as Centrifugo
        assert.equal(r.json?.token, undefined, `no token for a wrong password: ${r.raw}`);
        assert.ok(!/token/i.test(r.raw.replace(/"error"\s*:\s*"[^"]*"/, '')), r.raw);
        const call = JSON.stringify({ method: 'info', params: {} });
        r = await post(`${base}/admin/api`, call, { 'content-type': 'application/json' });
        assert.equal(r.status, 401, `admin/api without a token: ${r.raw}`);
        r = await post(`${base}/admin/api`, call, { 'content-type': 'application/json', authorization: 'token not-a-real-token' });
        assert.equal(r.status, 401, `admin/api with a forged token: ${r.raw}`);

        const browser = await launch();
        const { page, shot, run, apiCalls } = await openPage(t, browser);
        await run(async () => {
            const res = await page.goto(`${base}/`, WAIT);
            assert.equal(res.status(), 200);
            const csp = res.headers()['content-security-policy'] || '';
            assert.match(csp, /script-src 'self'/, `index served with a CSP: ${csp}`);
            await page.waitForSelector('#login-password', { state: 'visible', ...WAIT });
            assert.equal(await page.isHidden('#app'), true);

            await signIn(page, 'wrong-password');
            await page.waitForSelector('#login-error', { state: 'visible', ...WAIT });
            assert.match(await text(page, '#login-error'), /wrong password/i);
            assert.equal(await page.isHidden('#app'), true, 'no dashboard after a wrong password');
            assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null);
            assert.equal(apiCalls.length, 0, 'nothing called before signing in');
            await shot('login-error');

            await signIn(page);
            await page.waitForSelector('#view-overview', { state: 'visible', ...WAIT });
            assert.equal(await page.isHidden('#login'), true);
            const token = await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY);
            assert.ok(token, 'the session token is kept in localStorage');

            // The token the page got is a real one.
            r = await post(`${base}/admin/api`, call, { 'content-type': 'application/json', authorization: `token ${token}` });
            assert.equal(r.status, 200, r.raw);
            assert.ok(Array.isArray(r.json?.result?.nodes), r.raw);
            const init = await fetch(`${base}/admin/init`, { headers: { authorization: `token ${token}` }, signal: AbortSignal.timeout(5000) });
            assert.equal((await init.json()).authenticated, true);

            // A reload keeps the session.
            await page.reload(WAIT);
            await page.waitForSelector('#view-overview', { state: 'visible', ...WAIT });
            await page.waitForFunction(() => document.getElementById('total-nodes').textContent === '1', null, WAIT);

            // Logout drops the token.
            await page.click('#logout');
            await page.waitForSelector('#login-password', { state: 'visible', ...WAIT });
            assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null);

            // A token the server rejects (401 from admin/api) sends the page back to the login.
            await signIn(page);
            await page.waitForSelector('#view-overview', { state: 'visible', ...WAIT });
            const before = apiCalls.length;
            await page.evaluate((k) => localStorage.setItem(k, 'forged-token'), TOKEN_KEY);
            await page.waitForSelector('#login-password', { state: 'visible', ...WAIT });
            assert.ok(apiCalls.length > before, 'the page called admin/api with the forged token');
            assert.equal(await page.evaluate((k) => localStorage.getItem(k), TOKEN_KEY), null, 'the rejected token is dropped');
            assert.match(await text(page, '#login-error'), /sign in again/i);
        });
    });

    test('overview shows live counts, channels show presence and history, the publish form reaches a subscriber', async (t) => {
        const { port, base } = await startAdminServer(t);
        const browser = await launch();
        const { page, shot, run, apiCalls } = await openPage(t, browser);

        const clients = [];
        for (const u of ['alice', 'bob', 'carol']) clients.push(await subscriber(t, port, u, ['room']));

        await run(async () => {
            await page.goto(`${base}/`, WAIT);
            await signIn(page);
            await page.waitForSelector('[data-testid=node]', WAIT);
            const node = '[data-testid=node]';
            const field = (k) => `${node} [data-field="${k}"]`;
            const q = (v) => JSON.stringify(v);
            const shows = (sel, want) => page.waitForFunction(([s, v]) => document.querySelector(s)?.textContent === v, [sel, want], WAIT)
                .catch(async (e) => { throw new Error(`${sel} should show ${q(want)}, shows ${q(await page.textContent(sel))}: ${e.message}`); });

            await shows('#total-clients', '3');
            await shows(field('num_clients'), '3');
            await shows(field('num_users'), '3');
            await shows(field('num_channels'), '1');
            await shows(field('num_subs'), '3');

            // The card matches what the server API says about the node.
            const info = (await api(port, 'info')).json.result.nodes;
            assert.equal(info.length, 1);
            assert.equal(await text(page, '#total-nodes'), '1');
            assert.equal(await page.locator(node).count(), 1);
            assert.equal(await text(page, field('name')), info[0].name);
            assert.equal(await text(page, field('uid')), info[0].uid);
            assert.equal(await text(page, field('version')), `v${String(info[0].version).replace(/^v/, '')}`);
            // Uptime 0 is left out of `info` (as Centrifugo omits zero fields) and shows as '–':
            // within the node's first second, wait for the next refresh.
            await page.waitForFunction((sel) => /^\d+[smhd]/.test(document.querySelector(sel)?.textContent ?? ''),
                field('uptime'), WAIT).catch(() => {});
            assert.match(await text(page, field('uptime')), /^\d+[smhd]/);
            if (info[0].process) {
                assert.match(await text(page, field('memory')), /^\d+(\.\d)? MiB$/);
                assert.match(await text(page, field('cpu-text')), /^\d+\.\d %$/);
            } else {
                assert.equal(await text(page, field('memory')), 'n/a');
            }

            // Two more connections (one of an existing user, subscribed to a second channel).
            clients.push(await subscriber(t, port, 'alice', ['lobby']));
            clients.push(await subscriber(t, port, 'dave', []));
            await shows('#total-clients', '5');
            await shows(field('num_users'), '4');
            await shows(field('num_channels'), '2');
            await shows(field('num_subs'), '4');
            await shot('overview');
            // And one leaves.
            clients[1].c.disconnect(); // bob
            await shows('#total-clients', '4');
            await shows(field('num_users'), '3');
            await shows(field('num_subs'), '3');

            // Channels: the list, then presence and history of `room`.
            await api(port, 'publish', { channel: 'room', data: { seq: 1, text: 'first' } });
            await api(port, 'publish', { channel: 'room', data: { seq: 2, text: 'second' } });
            await page.click('#nav-channels');
            await page.waitForSelector('#view-channels', { state: 'visible', ...WAIT });
            const row = (name) => page.locator(`[data-testid=channel][data-channel="${name}"]`);
            await row('room').waitFor(WAIT);
            assert.equal(await row('room').locator('.count').textContent(), '2');
            assert.equal(await row('lobby').locator('.count').textContent(), '1');
            await row('room').click();
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=pub]').length === 2, null, WAIT);
            assert.equal(await text(page, '#detail-name'), 'room');
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=presence-row]').length === 2, null, WAIT);
            const users = await page.$$eval('[data-testid=presence-row] td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
            assert.deepEqual(users, ['alice', 'carol']);
            assert.equal(await text(page, '#detail-clients'), '2');
            assert.equal(await text(page, '#detail-users'), '2');
            assert.equal(await text(page, '#detail-offset'), '2');
            const pubs = await page.$$eval('[data-testid=pub] pre', (els) => els.map((e) => e.textContent));
            assert.deepEqual(pubs.map((p) => JSON.parse(p)), [{ seq: 2, text: 'second' }, { seq: 1, text: 'first' }], 'newest first');
            assert.deepEqual(await page.$$eval('[data-testid=pub-offset]', (els) => els.map((e) => e.textContent)), ['#2', '#1']);

            // The filter box narrows the list through the `channels` pattern.
            await page.fill('#channel-filter', 'lob');
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=channel]').length === 1, null, WAIT);
            assert.equal(await page.getAttribute('[data-testid=channel]', 'data-channel'), 'lobby');
            assert.ok(apiCalls.some((c) => c.method === 'channels' && c.params?.pattern === '*lob*'), 'filter sent as a pattern');
            await page.fill('#channel-filter', '');
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=channel]').length === 2, null, WAIT);

            // A channel without presence and history says so.
            clients.push(await subscriber(t, port, 'erin', ['quiet:room']));
            await page.click('#channels-refresh');
            await row('quiet:room').click();
            await page.waitForSelector('#presence-note', { state: 'visible', ...WAIT });
            await page.waitForFunction(() => document.getElementById('detail-name').textContent === 'quiet:room', null, WAIT);
            assert.match(await text(page, '#presence-note'), /not enabled/);
            assert.match(await text(page, '#history-note'), /not enabled/);
            assert.equal(await page.isHidden('#presence-table'), true);
            await row('room').click();
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=pub]').length === 2, null, WAIT);
            await shot('channels');

            // Actions: publish from the form to a centrifuge-js subscriber of `room`.
            const received = [];
            clients[0].subs[0].on('publication', (ctx) => received.push(ctx.data));
            await page.click('#detail-publish'); // pre-fills the channel
            await page.waitForSelector('[data-testid=form-publish]', { state: 'visible', ...WAIT });
            assert.equal(await page.inputValue('#f-publish-channel'), 'room');

            // Bad JSON: an inline error and nothing sent.
            const callsBefore = apiCalls.filter((c) => c.method === 'publish').length;
            await page.fill('#f-publish-data', '{"text": "unterminated');
            await page.click('[data-testid=submit-publish]');
            await page.waitForSelector('[data-testid=f-publish-data-error]', { state: 'visible', ...WAIT });
            assert.match(await text(page, '[data-testid=f-publish-data-error]'), /invalid json/i);
            await new Promise((r) => setTimeout(r, 300));
            assert.equal(apiCalls.filter((c) => c.method === 'publish').length, callsBefore, 'no publish request for bad JSON');
            assert.deepEqual(received, []);

            const payload = { text: 'hello from the admin UI', n: 42, nested: { ok: true, list: [1, 'two', null] } };
            await page.fill('#f-publish-data', JSON.stringify(payload, null, 2));
            await page.click('[data-testid=submit-publish]');
            await page.waitForSelector('[data-testid=result-publish]', { state: 'visible', ...WAIT });
            await page.waitForFunction(() => /OK/.test(document.querySelector('[data-testid=status-publish]').textContent), null, WAIT);
            assert.equal(await page.isHidden('[data-testid=f-publish-data-error]'), true);
            const result = JSON.parse(await text(page, '[data-testid=result-publish]'));
            assert.equal(result.error, undefined, JSON.stringify(result));
            assert.equal(result.result.offset, 3, `offset after two API publications: ${JSON.stringify(result)}`);
            const deadline = Date.now() + 5000;
            while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
            await new Promise((r) => setTimeout(r, 200)); // a duplicate would arrive by now
            assert.deepEqual(received, [payload], 'the subscriber got exactly the published payload, once');
            await shot('actions-publish');

            // An API error is shown as the error object, not as success.
            let r = await runForm(page, 'history', { channel: 'quiet:room' });
            assert.match(r.status, /^Error 108/);
            assert.equal(r.shown.error.code, 108, JSON.stringify(r.shown));

            // The other commands, each with its effect checked through the server API.
            const presentUsers = async (channel) => Object.values((await api(port, 'presence', { channel })).json.result.presence)
                .map((p) => p.user).sort();
            r = await runForm(page, 'broadcast', { channels: 'room\nlobby', data: '{"b": 1}' });
            assert.match(r.status, /^OK/);
            assert.equal(r.shown.result.responses.length, 2, JSON.stringify(r.shown));
            const h = await api(port, 'history', { channel: 'lobby', limit: 1, reverse: true });
            assert.deepEqual(h.json.result.publications.map((p) => p.data), [{ b: 1 }]);

            assert.deepEqual(await presentUsers('room'), ['alice', 'carol']);
            r = await runForm(page, 'unsubscribe', { user: 'carol', channel: 'room' });
            assert.deepEqual(r.shown, { result: {} });
            assert.match(r.status, /^OK/);
            await eventually(async () => (await presentUsers('room')).join() === 'alice', { what: 'carol to leave room' });

            r = await runForm(page, 'subscribe', { user: 'carol', channel: 'lobby' });
            assert.match(r.status, /^OK/);
            await eventually(async () => (await presentUsers('lobby')).join() === 'alice,carol', { what: 'carol to join lobby' });

            r = await runForm(page, 'history_remove', { channel: 'room' });
            assert.match(r.status, /^OK/);
            assert.deepEqual((await api(port, 'history', { channel: 'room', limit: 10 })).json.result.publications ?? [], []);

            r = await runForm(page, 'disconnect', { user: 'dave' });
            assert.match(r.status, /^OK/);
            await page.click('#nav-overview');
            await shows('#total-clients', '4'); // alice ×2, carol, erin
        });
    });

    test('under a handler_prefix, insecure mode opens the dashboard without a login', async (t) => {
        const { port, base } = await startAdminServer(t, { insecure: true, password: '', secret: '', handler_prefix: '/gyre-admin' });
        const r = await fetch(`${base}/gyre-admin/admin/init`, { signal: AbortSignal.timeout(5000) });
        assert.equal(r.status, 200);
        assert.equal((await r.json()).insecure, true);
        await subscriber(t, port, 'alice', ['room']);

        const browser = await launch();
        const { page, shot, run, apiCalls } = await openPage(t, browser, { width: 420, height: 860, colorScheme: 'dark' }); // a phone
        await run(async () => {
            const res = await page.goto(`${base}/gyre-admin/`, WAIT);
            assert.equal(res.status(), 200);
            await page.waitForFunction(() => document.getElementById('total-clients').textContent === '1', null, WAIT);
            assert.equal(await page.isHidden('#login'), true);
            assert.equal(await page.isHidden('#logout'), true, 'nothing to log out of');
            assert.equal(await page.isVisible('#insecure-badge'), true);
            assert.ok(apiCalls.length > 0);
            await page.click('#nav-channels');
            await page.locator('[data-testid=channel][data-channel="room"]').click(WAIT);
            await page.waitForSelector('[data-testid=presence-row]', WAIT);
            assert.equal(await text(page, '[data-testid=presence-row] td:nth-child(2)'), 'alice');
            await shot('narrow');
        });
    });

    test('hostile channel names, user ids and payloads are shown as text, never as markup', async (t) => {
        const { port, base } = await startAdminServer(t);
        const browser = await launch();
        const { page, shot, run } = await openPage(t, browser);

        const channel = 'xss<b>bold</b>';
        const user = '<img src=x onerror="window.__pwned=1">';
        const script = '<script>window.__pwned=1</script>';
        const img = '<img src=x onerror="window.__pwned=1">';
        await subscriber(t, port, user, [channel], { info: { html: `<b>bold</b>${img}` } });
        await subscriber(t, port, 'plain-user', ['plain']);
        const payloads = [
            { html: script, img, nested: { b: '<b>bold</b>' } },
            img, // a bare JSON string
        ];
        for (const data of payloads) {
            const r = await api(port, 'publish', { channel, data });
            assert.equal(r.json?.error, undefined, r.text);
        }

        await run(async () => {
            await page.goto(`${base}/`, WAIT);
            await signIn(page);
            await page.waitForSelector('[data-testid=node]', WAIT);
            await page.click('#nav-channels');
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=channel]').length === 2, null, WAIT);
            const names = await page.$$eval('[data-testid=channel] .channel-name', (els) => els.map((e) => e.textContent));
            assert.deepEqual(names.sort(), ['plain', channel]);
            await page.fill('#channel-filter', 'xss<b>');
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=channel]').length === 1, null, WAIT);
            await page.click('[data-testid=channel]');
            await page.waitForFunction(() => document.querySelectorAll('[data-testid=pub]').length === 2, null, WAIT);
            await page.waitForSelector('[data-testid=presence-row]', WAIT);

            assert.equal(await text(page, '#detail-name'), channel);
            assert.equal(await text(page, '[data-testid=presence-row] td:nth-child(2)'), user);
            assert.deepEqual(JSON.parse(await text(page, '[data-testid=presence-row] td:nth-child(3)')), { html: `<b>bold</b>${img}` });
            // Exactly the pretty JSON, newest first: the markup is there as literal text.
            const shown = await page.$$eval('[data-testid=pub] pre', (els) => els.map((e) => e.textContent));
            assert.deepEqual(shown, payloads.slice().reverse().map((d) => JSON.stringify(d, null, 2)));
            const bodyText = await page.textContent('body');
            for (const s of [channel, script, 'onerror=\\"window.__pwned=1\\"']) assert.ok(bodyText.includes(s), `page shows ${s} as text`);

            // Nothing was parsed as markup: no element from the data exists, nothing ran.
            // (The CSP would stop the inline handlers anyway; the elements are what innerHTML
            // would leave behind.)
            const dom = await page.evaluate(() => ({
                pwned: typeof window.__pwned,
                img: document.querySelectorAll('img').length,
                b: document.querySelectorAll('b').length,
                scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
                onerror: document.querySelectorAll('[onerror]').length,
            }));
            assert.deepEqual(dom, { pwned: 'undefined', img: 0, b: 0, scripts: ['app.js'], onerror: 0 });
            await shot('xss');

            // The actions view shows the same data as text too.
            await page.click('#nav-actions');
            await page.click('[data-testid=action-history]');
            await page.fill('#f-history-channel', channel);
            await page.click('[data-testid=submit-history]');
            await page.waitForFunction(() => /OK/.test(document.querySelector('[data-testid=status-history]').textContent), null, WAIT);
            const res = JSON.parse(await text(page, '[data-testid=result-history]'));
            assert.deepEqual(res.result.publications.map((p) => p.data), payloads.slice().reverse());
            const after = await page.evaluate(() => [typeof window.__pwned, document.querySelectorAll('img, b, [onerror]').length]);
            assert.deepEqual(after, ['undefined', 0]);
        });
    });
});

describe('admin configuration', () => {
    test('admin.enabled without a password or secret stops start-up naming the key', async (t) => {
        const { runGyre, tempDir, writeJson } = await import('./lib/gyre.mjs');
        const dir = tempDir(t);
        const noPassword = runGyre(['-c', writeJson(path.join(dir, 'a.json'), { admin: { enabled: true, secret: 's' } })]);
        assert.notEqual(noPassword.code, 0);
        assert.match(noPassword.stderr + noPassword.stdout, /admin\.password must be set/);
        const noSecret = runGyre(['-c', writeJson(path.join(dir, 'b.json'), { admin: { enabled: true, password: 'p' } })]);
        assert.notEqual(noSecret.code, 0);
        assert.match(noSecret.stderr + noSecret.stdout, /admin\.secret must be set/);
    });
});
