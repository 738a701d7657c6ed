// Prometheus text exposition format (0.0.4) for the metrics tests: a strict parser that throws
// on any line it cannot read, checks that every family has exactly one HELP and one TYPE before
// its samples, that every sample belongs to a declared family (with the suffixes its type
// allows), that no series repeats and that histograms and summaries are well formed; plus
// scrape, sum and delta helpers.

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A sample value as Prometheus writes it: a float, NaN, +Inf or -Inf. */
export function parseValue(text, where = '') {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!FLOAT.test(text)) throw new Error(`${where}: bad sample value ${JSON.stringify(text)}`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `s` at `i` (at the `{`); returns [labels, index after `}`]. */
function parseLabels(s, i, where) {
  const labels = {};
  i += 1; // '{'
  for (;;) {
    if (s[i] === '}') return [labels, i + 1];
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (Object.hasOwn(labels, name)) throw new Error(`${where}: label ${name} repeated`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label ${name} value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      if (j >= s.length) throw new Error(`${where}: unterminated value of label ${name}`);
      const c = s[j];
      if (c === '"') break;
      if (c === '\n') throw new Error(`${where}: raw newline in label ${name}`);
      if (c === '\\') {
        const e = s[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${e} in label ${name}`);
        j += 2;
        continue;
      }
      value += c;
      j += 1;
    }
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') {
      i += 1; // a trailing comma before '}' is allowed by the format
    } else if (s[i] !== '}') {
      throw new Error(`${where}: expected ',' or '}' after label ${name}`);
    }
  }
}

/** The label set as a stable key (sorted names), for duplicate detection and series grouping. */
export const labelKey = (labels) =>
  Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',');

/** The family a sample name belongs to, given the declared families. */
function familyOf(families, name) {
  const f = families.get(name);
  if (f && (f.type === 'counter' || f.type === 'gauge' || f.type === 'untyped' || f.type === 'summary')) {
    return [f, ''];
  }
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (!base) continue;
    if (base.type === 'histogram') return [base, suffix];
    if (base.type === 'summary' && suffix !== '_bucket') return [base, suffix];
  }
  return [undefined, ''];
}

/**
 * Parses an exposition. Returns { families: Map(name → {name, help, type, samples}), samples }
 * where every sample is { name, labels, value, family }. Throws on anything malformed.
 */
export function parseMetrics(text) {
  const families = new Map();
  const samples = [];
  const seriesSeen = new Set();
  let current; // the family whose samples are being read; others may not interleave
  const closed = new Set();
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') throw new Error('exposition does not end with a newline');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1} ${JSON.stringify(line.slice(0, 160))}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) {
        if (/^#\s*(HELP|TYPE)\b/.test(line)) throw new Error(`${where}: malformed HELP/TYPE`);
        return; // a plain comment
      }
      const [, kw, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (closed.has(name)) throw new Error(`${where}: family ${name} declared again after other families`);
      let f = families.get(name);
      if (!f) {
        f = { name, help: undefined, type: undefined, samples: [] };
        families.set(name, f);
      }
      if (current && current !== f) closed.add(current.name);
      current = f;
      if (f.samples.length > 0) throw new Error(`${where}: ${kw} after samples of ${name}`);
      if (kw === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        if (!/^(?:[^\\]|\\[\\n])*$/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        f.help = rest.replace(/\\(\\|n)/g, (_, c) => (c === 'n' ? '\n' : '\\'));
      } else {
        if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${JSON.stringify(rest)}`);
        f.type = rest;
      }
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample line`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name`);
    let labels = {};
    let i = nameEnd;
    if (line[i] === '{') [labels, i] = parseLabels(line, i, where);
    if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const parts = line.slice(i + 1).split(' ');
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`${where}: expected 'value [timestamp]'`);
    const value = parseValue(parts[0], where);
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp`);
    const [family, suffix] = familyOf(families, name);
    if (!family) throw new Error(`${where}: sample of ${name} without a declared family (TYPE)`);
    if (family !== current) throw new Error(`${where}: sample of ${family.name} interleaved with ${current?.name}`);
    if (family.type === undefined || family.help === undefined) {
      throw new Error(`${where}: family ${family.name} lacks ${family.help === undefined ? 'HELP' : 'TYPE'} before its samples`);
    }
    if (suffix === '_bucket' && !Object.hasOwn(labels, 'le')) throw new Error(`${where}: bucket without le`);
    if (suffix !== '_bucket' && Object.hasOwn(labels, 'le')) throw new Error(`${where}: le outside a bucket`);
    if (family.type === 'summary') {
      if (suffix === '' && !Object.hasOwn(labels, 'quantile')) throw new Error(`${where}: summary sample without quantile`);
      if (suffix !== '' && Object.hasOwn(labels, 'quantile')) throw new Error(`${where}: quantile on ${suffix}`);
    }
    if ((suffix === '_count' || suffix === '_bucket') && !(value >= 0 && Number.isInteger(value))) {
      throw new Error(`${where}: ${suffix} must be a non-negative integer`);
    }
    if (family.type === 'counter' && !(value >= 0)) throw new Error(`${where}: negative or NaN counter`);
    const key = `${name}{${labelKey(labels)}}`;
    if (seriesSeen.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    seriesSeen.add(key);
    const sample = { name, labels, value, family: family.name };
    family.samples.push(sample);
    samples.push(sample);
  });
  for (const f of families.values()) {
    if (f.help === undefined) throw new Error(`family ${f.name} has no HELP`);
    if (f.type === undefined) throw new Error(`family ${f.name} has no TYPE`);
  }
  for (const f of families.values()) checkShape(f);
  return { families, samples };
}

/** Histogram: per series sorted le, non-decreasing buckets, +Inf == _count, _sum present.
 *  Summary: quantiles in [0,1], with _sum and _count for each series. */
function checkShape(f) {
  if (f.type !== 'histogram' && f.type !== 'summary') return;
  const groups = new Map();
  for (const s of f.samples) {
    const rest = { ...s.labels };
    delete rest.le;
    delete rest.quantile;
    const k = labelKey(rest);
    if (!groups.has(k)) groups.set(k, { buckets: [], quantiles: [], sum: undefined, count: undefined });
    const g = groups.get(k);
    if (s.name.endsWith('_bucket') && f.type === 'histogram') g.buckets.push(s);
    else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else g.quantiles.push(s);
  }
  for (const [k, g] of groups) {
    const where = `${f.name}{${k}}`;
    if (g.sum === undefined || g.count === undefined) throw new Error(`${where}: missing _sum or _count`);
    if (f.type === 'histogram') {
      if (g.buckets.length > 0) {
        const les = g.buckets.map((b) => parseValue(b.labels.le, where));
        for (let i = 1; i < les.length; ++i) {
          if (!(les[i] > les[i - 1])) throw new Error(`${where}: le not increasing`);
          if (g.buckets[i].value < g.buckets[i - 1].value) throw new Error(`${where}: buckets not cumulative`);
        }
        if (les[les.length - 1] !== Infinity) throw new Error(`${where}: no +Inf bucket`);
        if (g.buckets[g.buckets.length - 1].value !== g.count) throw new Error(`${where}: +Inf bucket != _count`);
      } else if (g.count !== 0) {
        throw new Error(`${where}: observations without buckets`);
      }
    } else {
      for (const q of g.quantiles) {
        const v = parseValue(q.labels.quantile, where);
        if (!(v >= 0 && v <= 1)) throw new Error(`${where}: quantile ${q.labels.quantile} outside [0,1]`);
      }
    }
  }
}

/** GET /metrics (or `path`); asserts 200 and the text content type, returns the parsed text. */
export async function scrape(port, path = '/metrics', { timeoutMs = 5000 } = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const ct = res.headers.get('content-type') || '';
  if (!ct.startsWith('text/plain')) throw new Error(`GET ${path}: content-type ${ct}`);
  const parsed = parseMetrics(text);
  parsed.text = text;
  return parsed;
}

const matches = (labels, filter) => Object.entries(filter).every(([k, v]) => labels[k] === v);

/** Every sample named `name` whose labels include `filter`. */
export const series = (m, name, filter = {}) => m.samples.filter((s) => s.name === name && matches(s.labels, filter));

/** Sum of the samples named `name` whose labels include `filter` (0 when none). */
export const sum = (m, name, filter = {}) => series(m, name, filter).reduce((a, s) => a + s.value, 0);

/** The one sample `name` with labels including `filter`; throws unless exactly one matches. */
export function one(m, name, filter = {}) {
  const found = series(m, name, filter);
  if (found.length !== 1) {
    throw new Error(`expected one series ${name}${JSON.stringify(filter)}, found ${found.length}: ${found.map((s) => JSON.stringify(s.labels)).join(' ')}`);
  }
  return found[0].value;
}

/** after - before for sum(name, filter). */
export const delta = (before, after, name, filter = {}) => sum(after, name, filter) - sum(before, name, filter);
