// Gyre admin web interface: plain ES2020, no framework, no build step.
// Every request uses a URL relative to the page, so the interface works under any admin prefix.
// Channel names, user ids and payloads come from clients: the DOM is only ever built with
// createElement + textContent (never innerHTML), and nothing sets inline styles (the server's
// Content-Security-Policy forbids them).
'use strict';

(() => {
    const TOKEN_KEY = 'gyre.admin.token';
    const INFO_INTERVAL_MS = 2000;
    const CHANNELS_INTERVAL_MS = 5000;
    const SPARK_POINTS = 60;

    const $ = (id) => document.getElementById(id);

    const state = {
        insecure: false,
        view: '',
        infoTimer: 0,
        channelsTimer: 0,
        channel: null,       // selected channel name
        channelSeq: 0,       // guards against out-of-order detail loads
        spark: [],
        listSig: '',         // what the channel list shows, to skip identical re-renders
        detailSig: '',       // same for the channel detail
        filterTimer: 0,
    };

    // ---------- DOM helpers ----------

    /** createElement with a class, text and attributes; children appended in order. */
    function el(tag, opts = {}, ...children) {
        const e = document.createElement(tag);
        if (opts.cls) e.className = opts.cls;
        if (opts.text !== undefined) e.textContent = String(opts.text);
        if (opts.attrs) for (const [k, v] of Object.entries(opts.attrs)) e.setAttribute(k, String(v));
        for (const c of children) if (c) e.appendChild(c);
        return e;
    }

    function show(node, on) { node.hidden = !on; }

    function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

    /** A <pre> with JSON pretty-printed and highlighted through spans (textContent only). */
    function jsonBlock(value, extraCls = '') {
        const pre = el('pre', { cls: `json ${extraCls}`.trim() });
        fillJson(pre, value);
        return pre;
    }

    const TOKEN_RE = /("(?:\\u[0-9a-fA-F]{4}|\\[^u]|[^\\"])*")(\s*:)?|\b(true|false)\b|\bnull\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

    function fillJson(pre, value) {
        clear(pre);
        const text = value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
        let last = 0;
        for (const m of text.matchAll(TOKEN_RE)) {
            if (m.index > last) pre.appendChild(document.createTextNode(text.slice(last, m.index)));
            let cls = 'j-num';
            if (m[1] !== undefined) cls = m[2] ? 'j-key' : 'j-str';
            else if (m[3] !== undefined) cls = 'j-bool';
            else if (m[0] === 'null') cls = 'j-null';
            pre.appendChild(el('span', { cls, text: m[0] }));
            last = m.index + m[0].length;
        }
        if (last < text.length) pre.appendChild(document.createTextNode(text.slice(last)));
    }

    function fmtInt(n) {
        return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '–';
    }

    function fmtUptime(sec) {
        if (typeof sec !== 'number' || !Number.isFinite(sec) || sec < 0) return '–';
        sec = Math.floor(sec);
        const d = Math.floor(sec / 86400);
        const h = Math.floor((sec % 86400) / 3600);
        const m = Math.floor((sec % 3600) / 60);
        const s = sec % 60;
        const p2 = (x) => String(x).padStart(2, '0');
        if (d > 0) return `${d}d ${h}h ${p2(m)}m`;
        if (h > 0) return `${h}h ${p2(m)}m`;
        if (m > 0) return `${m}m ${p2(s)}s`;
        return `${s}s`;
    }

    function fmtMiB(bytes) {
        if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '–';
        const mib = bytes / (1024 * 1024);
        return `${mib >= 100 ? mib.toFixed(0) : mib.toFixed(1)} MiB`;
    }

    function fmtCpu(cpu) {
        if (typeof cpu !== 'number' || !Number.isFinite(cpu)) return '–';
        return `${cpu.toFixed(1)} %`;
    }

    // ---------- HTTP ----------

    class ApiError extends Error {
        constructor(code, message) {
            super(message);
            this.code = code;
        }
    }

    class AuthError extends Error {}

    // The token lives in localStorage only (read on every request), so a logout or a token
    // dropped in another tab takes effect here too.
    function getToken() {
        try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
    }

    function authHeaders() {
        const token = getToken();
        return token ? { Authorization: `token ${token}` } : {};
    }

    /** Calls a server API method through admin/api; resolves with the result, throws ApiError. */
    async function call(method, params = {}) {
        let res;
        try {
            res = await fetch('admin/api', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json', ...authHeaders() },
                body: JSON.stringify({ method, params }),
                cache: 'no-store',
            });
        } catch (e) {
            setLive(false, 'offline');
            throw new Error(`server unreachable (${e.message})`);
        }
        if (res.status === 401) {
            loggedOut('Your session has expired: sign in again.');
            throw new AuthError('unauthorized');
        }
        const text = await res.text();
        if (!res.ok) throw new Error(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
        setLive(true);
        let reply;
        try {
            reply = JSON.parse(text.split('\n').find((l) => l.trim()) || '{}');
        } catch {
            throw new Error(`not a JSON reply: ${text.slice(0, 200)}`);
        }
        if (reply.error) throw new ApiError(reply.error.code, reply.error.message || 'error');
        return reply.result || {};
    }

    function describeError(e) {
        if (e instanceof ApiError) return `error ${e.code}: ${e.message}`;
        return e.message || String(e);
    }

    // ---------- session ----------

    async function boot() {
        wireStatic();
        let init = null;
        try {
            const res = await fetch('admin/init', { headers: authHeaders(), cache: 'no-store' });
            if (res.ok) init = await res.json();
        } catch { /* shown below */ }
        show($('boot'), false);
        if (!init) {
            showLogin('Cannot reach the server (admin/init failed).');
            return;
        }
        state.insecure = !!init.insecure;
        $('edition').textContent = init.edition || 'oss';
        if (state.insecure || init.authenticated) {
            enterApp();
        } else {
            dropToken();
            showLogin('');
        }
    }

    function dropToken() {
        try { localStorage.removeItem(TOKEN_KEY); } catch { /* private mode */ }
    }

    function showLogin(message) {
        stopTimers();
        show($('app'), false);
        show($('login'), true);
        const err = $('login-error');
        err.textContent = message;
        show(err, !!message);
        const pw = $('login-password');
        pw.value = '';
        pw.focus();
    }

    function loggedOut(message) {
        dropToken();
        if (state.insecure) return; // nothing to sign in to
        showLogin(message);
    }

    async function submitLogin(ev) {
        ev.preventDefault();
        const btn = $('login-submit');
        const err = $('login-error');
        const password = $('login-password').value;
        btn.disabled = true;
        show(err, false);
        try {
            const res = await fetch('admin/auth', {
                method: 'POST',
                headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
                body: new URLSearchParams({ password }).toString(),
                cache: 'no-store',
            });
            let body = {};
            try { body = await res.json(); } catch { /* empty */ }
            if (res.ok && body.token) {
                try {
                    localStorage.setItem(TOKEN_KEY, body.token);
                } catch {
                    err.textContent = 'Signed in, but this browser does not allow storing the session (localStorage).';
                    show(err, true);
                    return;
                }
                show($('login'), false);
                enterApp();
                return;
            }
            if (res.status === 429) {
                const wait = res.headers.get('Retry-After') || '?';
                err.textContent = `Too many failed attempts: try again in ${wait} s.`;
            } else {
                err.textContent = res.status === 401 || res.status === 400
                    ? 'Wrong password.'
                    : `Sign-in failed (HTTP ${res.status}).`;
            }
        } catch (e) {
            err.textContent = `Cannot reach the server (${e.message}).`;
        } finally {
            btn.disabled = false;
        }
        show(err, true);
        $('login-password').select();
    }

    function enterApp() {
        show($('login'), false);
        show($('app'), true);
        show($('logout'), !state.insecure);
        show($('insecure-badge'), state.insecure);
        route();
    }

    // ---------- routing ----------

    const VIEWS = ['overview', 'channels', 'actions'];

    function route() {
        if ($('app').hidden) return;
        const hash = location.hash.replace(/^#/, '');
        const view = VIEWS.includes(hash) ? hash : 'overview';
        state.view = view;
        for (const v of VIEWS) {
            show($(`view-${v}`), v === view);
            const tab = $(`nav-${v}`);
            tab.classList.toggle('active', v === view);
            if (v === view) tab.setAttribute('aria-current', 'page'); else tab.removeAttribute('aria-current');
        }
        stopTimers();
        if (view === 'overview') pollInfo();
        if (view === 'channels') pollChannels();
    }

    function stopTimers() {
        clearTimeout(state.infoTimer);
        clearTimeout(state.channelsTimer);
        state.infoTimer = 0;
        state.channelsTimer = 0;
    }

    function setLive(ok, text) {
        $('live').classList.toggle('ok', ok);
        $('live').classList.toggle('bad', !ok);
        $('live-text').textContent = text || (ok ? 'live' : 'offline');
    }

    function banner(message) {
        const b = $('banner');
        b.textContent = message || '';
        show(b, !!message);
    }

    // ---------- overview ----------

    async function pollInfo() {
        clearTimeout(state.infoTimer);
        if (state.view !== 'overview' || $('app').hidden) return;
        try {
            const r = await call('info');
            renderInfo(r.nodes || []);
            banner('');
        } catch (e) {
            if (e instanceof AuthError) return;
            banner(`Could not load node information: ${describeError(e)}`);
        }
        if (state.view === 'overview' && !$('app').hidden) {
            state.infoTimer = setTimeout(pollInfo, INFO_INTERVAL_MS);
        }
    }

    function renderInfo(nodes) {
        nodes = nodes.slice().sort((a, b) => String(a.name).localeCompare(String(b.name)));
        const sum = (k) => nodes.reduce((acc, n) => acc + (Number(n[k]) || 0), 0);
        $('total-nodes').textContent = fmtInt(nodes.length);
        $('total-clients').textContent = fmtInt(sum('num_clients'));
        $('total-users').textContent = fmtInt(sum('num_users'));
        $('total-channels').textContent = fmtInt(sum('num_channels'));
        $('total-subs').textContent = fmtInt(sum('num_subs'));
        $('updated').textContent = `Updated ${new Date().toLocaleTimeString()} · every ${INFO_INTERVAL_MS / 1000} s`;

        state.spark.push(sum('num_clients'));
        if (state.spark.length > SPARK_POINTS) state.spark.shift();
        drawSpark();

        const box = $('nodes');
        const existing = new Map();
        for (const card of box.querySelectorAll('.node')) existing.set(card.dataset.uid, card);
        const keep = new Set();
        for (const n of nodes) {
            const uid = String(n.uid ?? n.name ?? '');
            keep.add(uid);
            let card = existing.get(uid);
            if (!card) card = buildNodeCard(uid);
            box.appendChild(card); // keeps sorted order
            fillNodeCard(card, n);
        }
        for (const [uid, card] of existing) if (!keep.has(uid)) card.remove();
        if (nodes.length === 0) {
            if (!box.querySelector('.empty')) box.appendChild(el('p', { cls: 'empty', text: 'No nodes reported.' }));
        } else {
            for (const e of box.querySelectorAll('.empty')) e.remove();
        }
    }

    const NODE_STATS = [
        ['num_clients', 'Connections'],
        ['num_users', 'Users'],
        ['num_channels', 'Channels'],
        ['num_subs', 'Subscriptions'],
        ['memory', 'Memory'],
        ['cpu', 'CPU'],
    ];

    function buildNodeCard(uid) {
        const card = el('article', { cls: 'node card', attrs: { 'data-testid': 'node' } });
        card.dataset.uid = uid;
        const head = el('div', { cls: 'node-head' },
            el('span', { cls: 'dot ok' }),
            el('h3', { cls: 'node-name', attrs: { 'data-field': 'name' } }),
            el('span', { cls: 'badge', attrs: { 'data-field': 'version' } }));
        const sub = el('div', { cls: 'node-sub muted small' },
            el('span', { cls: 'mono', attrs: { 'data-field': 'uid' } }),
            el('span', { text: 'up ' }, el('span', { attrs: { 'data-field': 'uptime' } })));
        const grid = el('dl', { cls: 'node-stats' });
        for (const [key, label] of NODE_STATS) {
            const dd = el('dd', { attrs: { 'data-field': key } });
            if (key === 'cpu') {
                dd.appendChild(el('span', { attrs: { 'data-field': 'cpu-text' } }));
                dd.appendChild(el('meter', { attrs: { min: 0, max: 100, low: 60, high: 85, optimum: 0, value: 0 } }));
            }
            grid.appendChild(el('div', { cls: 'kv' }, el('dt', { text: label }), dd));
        }
        card.append(head, sub, grid);
        return card;
    }

    function fillNodeCard(card, n) {
        const f = (k) => card.querySelector(`[data-field="${k}"]`);
        f('name').textContent = n.name || '(unnamed)';
        f('version').textContent = n.version ? `v${String(n.version).replace(/^v/, '')}` : '?';
        f('uid').textContent = n.uid || '';
        f('uptime').textContent = fmtUptime(n.uptime);
        for (const k of ['num_clients', 'num_users', 'num_channels', 'num_subs']) f(k).textContent = fmtInt(n[k]);
        const proc = n.process && typeof n.process === 'object' ? n.process : null;
        f('memory').textContent = proc ? fmtMiB(proc.rss) : 'n/a';
        f('cpu-text').textContent = proc ? fmtCpu(proc.cpu) : 'n/a';
        const meter = card.querySelector('meter');
        show(meter, !!proc && typeof proc.cpu === 'number');
        if (proc && typeof proc.cpu === 'number') meter.value = Math.max(0, Math.min(100, proc.cpu));
    }

    function drawSpark() {
        const canvas = $('spark');
        if (!canvas.getContext) return;
        const ratio = window.devicePixelRatio || 1;
        const w = canvas.clientWidth || 240;
        const h = canvas.clientHeight || 48;
        if (canvas.width !== Math.round(w * ratio)) canvas.width = Math.round(w * ratio);
        if (canvas.height !== Math.round(h * ratio)) canvas.height = Math.round(h * ratio);
        const ctx = canvas.getContext('2d');
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.clearRect(0, 0, w, h);
        const pts = state.spark;
        if (pts.length < 2) return;
        const max = Math.max(1, ...pts);
        const step = w / (Math.max(pts.length, 10) - 1); // spread until the window fills
        const x0 = w - (pts.length - 1) * step;
        const y = (v) => h - 3 - (v / max) * (h - 6);
        const color = getComputedStyle(canvas).color;
        ctx.beginPath();
        pts.forEach((v, i) => (i ? ctx.lineTo(x0 + i * step, y(v)) : ctx.moveTo(x0, y(v))));
        ctx.strokeStyle = color;
        ctx.lineWidth = 2;
        ctx.lineJoin = 'round';
        ctx.stroke();
        ctx.lineTo(w, h);
        ctx.lineTo(x0, h);
        ctx.closePath();
        ctx.globalAlpha = 0.15;
        ctx.fillStyle = color;
        ctx.fill();
        ctx.globalAlpha = 1;
    }

    // ---------- channels ----------

    /** A filter box text → the `channels` glob: plain text matches anywhere in the name. */
    function filterPattern(text) {
        text = text.trim();
        if (!text) return '';
        if (/[*?[\]{}\\]/.test(text)) return text;
        return `*${text}*`;
    }

    async function pollChannels() {
        clearTimeout(state.channelsTimer);
        if (state.view !== 'channels' || $('app').hidden) return;
        await loadChannels();
        if (state.channel !== null && state.view === 'channels') await loadDetail();
        if (state.view === 'channels' && !$('app').hidden) {
            state.channelsTimer = setTimeout(pollChannels, CHANNELS_INTERVAL_MS);
        }
    }

    async function loadChannels() {
        const note = $('channels-note');
        try {
            const r = await call('channels', { pattern: filterPattern($('channel-filter').value) });
            renderChannels(r.channels || {});
            show(note, false);
            banner('');
        } catch (e) {
            if (e instanceof AuthError) return;
            note.textContent = `Could not list channels: ${describeError(e)}`;
            show(note, true);
        }
    }

    function renderChannels(channels) {
        const names = Object.keys(channels).sort();
        const sig = JSON.stringify([$('channel-filter').value, names.map((n) => [n, channels[n]?.num_clients])]);
        if (sig === state.listSig) return;
        state.listSig = sig;
        const list = $('channel-list');
        clear(list);
        $('channels-count').textContent = `${names.length} active channel${names.length === 1 ? '' : 's'}`;
        if (names.length === 0) {
            list.appendChild(el('li', { cls: 'empty', text: $('channel-filter').value ? 'No channel matches.' : 'No active channels.' }));
            return;
        }
        for (const name of names) {
            const info = channels[name] || {};
            const btn = el('button', { cls: 'channel', attrs: { type: 'button', 'data-testid': 'channel', title: name } },
                el('span', { cls: 'channel-name mono', text: name }),
                el('span', { cls: 'count', text: fmtInt(info.num_clients) }));
            btn.dataset.channel = name;
            if (name === state.channel) btn.classList.add('selected');
            btn.addEventListener('click', () => selectChannel(name));
            list.appendChild(el('li', {}, btn));
        }
    }

    function selectChannel(name) {
        state.channel = name;
        state.detailSig = '';
        for (const b of $('channel-list').querySelectorAll('.channel')) {
            b.classList.toggle('selected', b.dataset.channel === name);
        }
        loadDetail();
    }

    async function loadDetail() {
        const name = state.channel;
        if (name === null) return;
        const seq = ++state.channelSeq;
        show($('detail-empty'), false);
        show($('detail-body'), true);
        $('detail-name').textContent = name;
        const limit = Number($('history-limit').value) || 25;
        const [stats, presence, history] = await Promise.allSettled([
            call('presence_stats', { channel: name }),
            call('presence', { channel: name }),
            call('history', { channel: name, limit, reverse: true }),
        ]);
        if (seq !== state.channelSeq) return; // another channel was selected meanwhile
        if ([stats, presence, history].some((r) => r.status === 'rejected' && r.reason instanceof AuthError)) return;
        const sig = JSON.stringify([name, limit, stats, presence, history].map((r) => (r && r.status === 'rejected' ? String(r.reason) : r)));
        if (sig === state.detailSig) return; // unchanged: keep the DOM (and the reader's scroll)
        state.detailSig = sig;
        renderStats(stats);
        renderPresence(presence);
        renderHistory(history);
    }

    function notAvailable(e) {
        return e instanceof ApiError && e.code === 108;
    }

    function renderStats(r) {
        const ok = r.status === 'fulfilled';
        $('detail-clients').textContent = ok ? fmtInt(r.value.num_clients) : '–';
        $('detail-users').textContent = ok ? fmtInt(r.value.num_users) : '–';
    }

    function renderPresence(r) {
        const note = $('presence-note');
        const table = $('presence-table');
        const body = $('presence-body');
        clear(body);
        if (r.status === 'rejected') {
            note.textContent = notAvailable(r.reason)
                ? 'Presence is not enabled for this channel (presence option of its namespace).'
                : `Could not load presence: ${describeError(r.reason)}`;
            show(note, true);
            show(table, false);
            return;
        }
        const entries = Object.entries(r.value.presence || {});
        entries.sort((a, b) => String(a[1].user).localeCompare(String(b[1].user)) || a[0].localeCompare(b[0]));
        if (entries.length === 0) {
            note.textContent = 'Nobody is subscribed.';
            show(note, true);
            show(table, false);
            return;
        }
        show(note, false);
        show(table, true);
        // The info columns only when some client has info.
        const hasConn = entries.some(([, p]) => p.conn_info !== undefined);
        const hasChan = entries.some(([, p]) => p.chan_info !== undefined);
        show($('th-conn-info'), hasConn);
        show($('th-chan-info'), hasChan);
        for (const [id, p] of entries) {
            const tr = el('tr', { attrs: { 'data-testid': 'presence-row' } },
                el('td', { cls: 'mono', text: p.client || id }),
                el('td', { cls: 'mono', text: p.user === '' ? '(anonymous)' : (p.user ?? '') }),
                hasConn ? el('td', {}, p.conn_info !== undefined ? jsonBlock(p.conn_info, 'compact') : null) : null,
                hasChan ? el('td', {}, p.chan_info !== undefined ? jsonBlock(p.chan_info, 'compact') : null) : null);
            body.appendChild(tr);
        }
    }

    function renderHistory(r) {
        const note = $('history-note');
        const list = $('history-list');
        clear(list);
        $('detail-offset').textContent = '–';
        $('detail-epoch').textContent = '–';
        if (r.status === 'rejected') {
            note.textContent = notAvailable(r.reason)
                ? 'History is not enabled for this channel (history_size and history_ttl of its namespace).'
                : `Could not load history: ${describeError(r.reason)}`;
            show(note, true);
            return;
        }
        const h = r.value;
        $('detail-offset').textContent = h.offset !== undefined ? String(h.offset) : '0';
        $('detail-epoch').textContent = h.epoch || '–';
        const pubs = h.publications || [];
        if (pubs.length === 0) {
            note.textContent = 'No publications in history.';
            show(note, true);
            return;
        }
        show(note, false);
        for (const p of pubs) {
            const meta = el('div', { cls: 'pub-meta' },
                el('span', { cls: 'badge', attrs: { 'data-testid': 'pub-offset' }, text: `#${p.offset ?? '?'}` }));
            if (p.info && p.info.user !== undefined) {
                meta.appendChild(el('span', { cls: 'muted small', text: `by ${p.info.user || '(anonymous)'} · ${p.info.client || ''}` }));
            }
            if (p.tags && typeof p.tags === 'object') {
                for (const [k, v] of Object.entries(p.tags)) meta.appendChild(el('span', { cls: 'tag', text: `${k}=${v}` }));
            }
            list.appendChild(el('li', { cls: 'pub', attrs: { 'data-testid': 'pub' } }, meta, jsonBlock(p.data, 'pub-data')));
        }
    }

    // ---------- actions ----------

    // Field kinds: text, json (validated before sending), list (one name per line or comma
    // separated), number, bool. `opt` marks optional fields (left out of params when empty).
    const ACTIONS = [
        { method: 'publish', title: 'Publish', desc: 'Publish data into a channel.', write: true,
            fields: [['channel', 'text', 'Channel'], ['data', 'json', 'Data (JSON)'], ['skip_history', 'bool', 'Skip history', { opt: true }]] },
        { method: 'broadcast', title: 'Broadcast', desc: 'Publish the same data into many channels.', write: true,
            fields: [['channels', 'list', 'Channels (one per line or comma separated)'], ['data', 'json', 'Data (JSON)']] },
        { method: 'subscribe', title: 'Subscribe', desc: 'Subscribe a user’s connections to a channel (server-side subscription).', write: true,
            fields: [['user', 'text', 'User ID'], ['channel', 'text', 'Channel'], ['client', 'text', 'Client ID (optional)', { opt: true }]] },
        { method: 'unsubscribe', title: 'Unsubscribe', desc: 'Unsubscribe a user from a channel.', write: true,
            fields: [['user', 'text', 'User ID'], ['channel', 'text', 'Channel'], ['client', 'text', 'Client ID (optional)', { opt: true }]] },
        { method: 'disconnect', title: 'Disconnect', desc: 'Disconnect a user (all connections, or one client).', write: true,
            fields: [['user', 'text', 'User ID'], ['client', 'text', 'Client ID (optional)', { opt: true }]] },
        { method: 'history_remove', title: 'Remove history', desc: 'Delete the history stream of a channel.', write: true,
            fields: [['channel', 'text', 'Channel']] },
        { method: 'presence', title: 'Presence', desc: 'Clients subscribed to a channel.',
            fields: [['channel', 'text', 'Channel']] },
        { method: 'presence_stats', title: 'Presence stats', desc: 'Number of clients and users in a channel.',
            fields: [['channel', 'text', 'Channel']] },
        { method: 'history', title: 'History', desc: 'Latest publications of a channel.',
            fields: [['channel', 'text', 'Channel'], ['limit', 'number', 'Limit', { value: 10 }], ['reverse', 'bool', 'Newest first', { value: true }]] },
        { method: 'channels', title: 'Channels', desc: 'Active channels, optionally filtered by a glob pattern.',
            fields: [['pattern', 'text', 'Pattern (optional)', { opt: true }]] },
        { method: 'info', title: 'Info', desc: 'Information about the running nodes.', fields: [] },
    ];

    function buildActions() {
        const menu = $('action-menu');
        const forms = $('action-forms');
        let group = null;
        for (const a of ACTIONS) {
            const g = a.write ? 'Commands' : 'Queries';
            if (g !== group) {
                group = g;
                menu.appendChild(el('p', { cls: 'menu-group', text: g }));
            }
            const item = el('button', { cls: 'menu-item', text: a.title, attrs: { type: 'button', 'data-method': a.method, 'data-testid': `action-${a.method}` } });
            item.addEventListener('click', () => selectAction(a.method));
            menu.appendChild(item);
            forms.appendChild(buildForm(a));
        }
        selectAction('publish');
    }

    function buildForm(a) {
        const form = el('form', { cls: 'action-form', attrs: { 'data-action': a.method, 'data-testid': `form-${a.method}`, novalidate: '' } });
        form.hidden = true;
        form.appendChild(el('div', { cls: 'form-head' },
            el('h2', { text: a.title }),
            el('code', { cls: 'method', text: a.method })));
        form.appendChild(el('p', { cls: 'muted', text: a.desc }));
        for (const [name, kind, label, opts = {}] of a.fields) {
            const id = `f-${a.method}-${name}`;
            let input;
            if (kind === 'json' || kind === 'list') {
                input = el('textarea', { attrs: { id, name, rows: kind === 'json' ? 6 : 3, spellcheck: 'false', 'data-testid': id } });
                if (kind === 'json') input.value = '{\n  "text": "hello from gyre admin"\n}';
            } else if (kind === 'bool') {
                input = el('input', { attrs: { id, name, type: 'checkbox', 'data-testid': id } });
                input.checked = !!opts.value;
                form.appendChild(el('label', { cls: 'check', attrs: { for: id } }, input, el('span', { text: label })));
                continue;
            } else {
                input = el('input', { attrs: { id, name, type: kind === 'number' ? 'number' : 'text', autocomplete: 'off', spellcheck: 'false', 'data-testid': id } });
                if (opts.value !== undefined) input.value = String(opts.value);
            }
            input.dataset.kind = kind;
            if (!opts.opt) input.dataset.required = '1';
            const err = el('p', { cls: 'field-error', attrs: { 'data-testid': `${id}-error`, role: 'alert' } });
            err.hidden = true;
            form.appendChild(el('div', { cls: 'field' }, el('label', { text: label, attrs: { for: id } }), input, err));
        }
        const submit = el('button', { cls: `btn ${a.write ? 'primary' : ''}`.trim(), text: a.write ? `Run ${a.method}` : 'Run', attrs: { type: 'submit', 'data-testid': `submit-${a.method}` } });
        const status = el('span', { cls: 'status small', attrs: { 'data-testid': `status-${a.method}` } });
        form.appendChild(el('div', { cls: 'form-foot' }, submit, status));
        const out = el('pre', { cls: 'json result', attrs: { 'data-testid': `result-${a.method}` } });
        out.hidden = true;
        form.appendChild(out);
        form.addEventListener('submit', (ev) => { ev.preventDefault(); runAction(a, form); });
        return form;
    }

    function selectAction(method) {
        for (const b of $('action-menu').querySelectorAll('.menu-item')) {
            b.classList.toggle('active', b.dataset.method === method);
        }
        for (const f of $('action-forms').querySelectorAll('.action-form')) f.hidden = f.dataset.action !== method;
    }

    /** Reads and validates a form; returns params or null (errors shown inline, nothing sent). */
    function readParams(a, form) {
        const params = {};
        let ok = true;
        for (const [name, kind] of a.fields) {
            const input = form.elements.namedItem(name);
            const err = form.querySelector(`[data-testid="f-${a.method}-${name}-error"]`);
            const fail = (msg) => {
                ok = false;
                if (err) { err.textContent = msg; err.hidden = false; }
                input.setAttribute('aria-invalid', 'true');
            };
            if (err) { err.hidden = true; err.textContent = ''; }
            input.removeAttribute('aria-invalid');
            if (kind === 'bool') {
                // Optional flags are sent only when set; required ones always.
                if (input.checked) params[name] = true;
                else if (input.dataset.required) params[name] = false;
                continue;
            }
            const raw = input.value;
            if (!raw.trim()) {
                if (input.dataset.required) fail('Required.');
                continue;
            }
            if (kind === 'json') {
                try {
                    params[name] = JSON.parse(raw);
                } catch (e) {
                    fail(`Invalid JSON: ${e.message}`);
                }
            } else if (kind === 'list') {
                const items = raw.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
                if (items.length === 0) fail('At least one channel.'); else params[name] = items;
            } else if (kind === 'number') {
                const n = Number(raw);
                if (!Number.isInteger(n) || n < 0) fail('A whole number ≥ 0.'); else params[name] = n;
            } else {
                params[name] = raw.trim();
            }
        }
        return ok ? params : null;
    }

    async function runAction(a, form) {
        const params = readParams(a, form);
        const status = form.querySelector('.status');
        const out = form.querySelector('.result');
        if (!params) {
            status.textContent = 'Fix the highlighted fields: nothing was sent.';
            status.className = 'status small bad';
            return;
        }
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        status.textContent = 'Sending…';
        status.className = 'status small';
        const started = performance.now();
        try {
            const result = await call(a.method, params);
            const ms = Math.round(performance.now() - started);
            status.textContent = `OK · ${ms} ms`;
            status.className = 'status small good';
            out.classList.remove('is-error');
            fillJson(out, { result });
        } catch (e) {
            if (e instanceof AuthError) return;
            status.textContent = e instanceof ApiError ? `Error ${e.code}` : 'Failed';
            status.className = 'status small bad';
            out.classList.add('is-error');
            fillJson(out, e instanceof ApiError ? { error: { code: e.code, message: e.message } } : { error: describeError(e) });
        } finally {
            submit.disabled = false;
        }
        out.hidden = false;
    }

    // ---------- wiring ----------

    function wireStatic() {
        $('login-form').addEventListener('submit', submitLogin);
        $('logout').addEventListener('click', () => {
            dropToken();
            location.hash = '';
            showLogin('');
        });
        window.addEventListener('hashchange', route);
        $('channel-filter').addEventListener('input', () => {
            clearTimeout(state.filterTimer);
            state.filterTimer = setTimeout(loadChannels, 250);
        });
        $('channels-refresh').addEventListener('click', () => {
            state.listSig = '';
            state.detailSig = '';
            loadChannels();
            loadDetail();
        });
        $('detail-refresh').addEventListener('click', () => { state.detailSig = ''; loadDetail(); });
        $('history-limit').addEventListener('change', loadDetail);
        $('detail-publish').addEventListener('click', () => {
            if (state.channel === null) return;
            $('f-publish-channel').value = state.channel;
            selectAction('publish');
            location.hash = 'actions';
            $('f-publish-data').focus();
        });
        document.addEventListener('visibilitychange', () => {
            if (!document.hidden && !$('app').hidden) route();
        });
        window.addEventListener('resize', drawSpark);
        buildActions();
    }

    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
    else boot();
})();
