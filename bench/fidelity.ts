/**
 * Fidelity benchmark (issue 16): runs `fidelity` over data/measurements/ with today's catalog and
 * reports, per metric, the in-sample error (MAPE, median and worst |error|) against the shipped
 * published measurements, and the leave-one-group-out error (leave one chip, one model, one length
 * pair out: each group predicted by a fit that never saw it).
 *
 * The leave-one-group-out figures are, by default, read from data/calibration/calibrate_cv.csv: the
 * cross-validation of the `fleetsim calibrate` run whose fitted rows are data/efficiency.csv's
 * defaults (the file says which command wrote it). `--cv` recomputes them here instead, running
 * calibrate's refits on the shipped measurements (minutes: 2 worker threads, ~11 refits).
 *
 *   npm run bench:fidelity              tables on stdout
 *   npm run bench:fidelity -- --cv      leave-one-group-out recomputed (slow)
 *   npm run bench:fidelity -- --cv-file DIR/calibrate_cv.csv   another calibrate run's tables
 *   npm run bench:fidelity -- --json    one JSON object per metric and grouping, then one for the run
 *
 * Targets (issue 16 "Done means"): leave-one-chip-out and leave-one-model-out MAPE on throughput
 * <= 10% (worst <= 25%); mean TTFT and mean ITL median error <= 15% on the online points. This
 * bench states the figures and whether each target is met; it does not gate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { loadCatalog } from '../src/catalog/catalog.js';
import { checkCatalog, formatLength, readMeasurements } from '../src/fidelity/measurements.js';
import { runFidelity, summarizeErrors, type FidelityRow, type MetricError } from '../src/fidelity/fidelity.js';
import { calibrate, cvPooled, GROUPINGS, type Grouping } from '../src/fidelity/calibrate.js';
import { foldPool } from '../src/fidelity/calibrate-pool.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, here.includes('/dist/') ? '../..' : '..');
const dir = join(root, 'data', 'measurements');
// --cv-file FILE: the leave-one-group-out tables of another calibrate run (its calibrate_cv.csv),
// e.g. a candidate refit before it is shipped.
const cvFileAt = process.argv.indexOf('--cv-file');
const cvFile = cvFileAt > 0 ? process.argv[cvFileAt + 1] : undefined;
const shippedCv = cvFile ?? join(root, 'data', 'calibration', 'calibrate_cv.csv');
const json = process.argv.includes('--json');
const liveCv = process.argv.includes('--cv');

const catalog = loadCatalog();
const rows = readMeasurements(dir, catalog);
checkCatalog(rows, catalog);
const started = performance.now();
const result = runFidelity(rows);
const wallS = (performance.now() - started) / 1000;

// Online points (a rate or a concurrency) apart from offline throughput, as the targets are stated.
const isOnline = (r: FidelityRow) => r.measurement.load.kind !== 'offline';
const online = runFidelity(rows.filter((m) => m.load.kind !== 'offline'));
const onlineByMetric = new Map<string, MetricError>(online.byMetric.map((e) => [e.metric, e]));

/** Leave-one-group-out error per grouping and metric (all rows, and online rows only), pooled over the groups. */
interface Logo {
  grouping: Grouping;
  metric: string;
  all: Pick<MetricError, 'rows' | 'mapePct' | 'medianAbsPct' | 'worstPct'>;
  online: Pick<MetricError, 'rows' | 'medianAbsPct'> | null;
}

async function logoLive(): Promise<Logo[]> {
  const r = await calibrate(rows, catalog, { onProgress: json ? undefined : (m) => process.stderr.write(`${m}\n`) }, foldPool(2));
  const out: Logo[] = [];
  for (const p of r.profiles) {
    for (const g of cvPooled(p)) {
      const held = p.heldOut.filter((h) => h.grouping === g.grouping).flatMap((h) => h.rows);
      const on = new Map(summarizeErrors(held.filter(isOnline)).map((e) => [e.metric, e]));
      for (const e of g.errors) out.push({ grouping: g.grouping, metric: e.metric, all: e, online: on.get(e.metric) ?? null });
    }
  }
  return out;
}

/** From the shipped calibrate_cv.csv: the pooled rows (`held_out` = all); online medians are not in it. */
function logoShipped(): Logo[] {
  const recs = parse(readFileSync(shippedCv, 'utf8'), { columns: true, comment: '#' }) as Record<string, string>[];
  return recs
    .filter((r) => r.held_out === 'all' && (GROUPINGS as readonly string[]).includes(r.grouping))
    .map((r) => ({
      grouping: r.grouping as Grouping,
      metric: r.metric,
      all: { rows: Number(r.rows), mapePct: Number(r.mape_pct), medianAbsPct: Number(r.median_abs_error_pct), worstPct: Number(r.worst_error_pct) },
      online: null,
    }));
}

const logo = liveCv ? await logoLive() : logoShipped();
const logoSource = liveCv
  ? 'recomputed now (--cv)'
  : cvFile !== undefined
    ? `${cvFile} (--cv-file)`
    : 'data/calibration/calibrate_cv.csv (the calibrate run the shipped defaults come from)';

/** Throughput error by chip, model and length pair: the groups leave-one-group-out holds out. */
function byGroup(name: string, key: (r: FidelityRow) => string) {
  const groups = new Map<string, FidelityRow[]>();
  for (const r of result.rows) {
    if (r.measurement.metric !== 'output_tok_s_per_chip') continue;
    const k = key(r);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, rs]) => ({ group: name, key: k, ...summarizeErrors(rs)[0] }));
}
const groups = [
  ...byGroup('silicon', (r) => r.measurement.silicon),
  ...byGroup('model', (r) => r.measurement.model),
  ...byGroup('lengths', (r) => `${formatLength(r.measurement.promptTokens)}/${formatLength(r.measurement.outputTokens)}`),
];

const find = (g: Grouping, metric: string) => logo.find((l) => l.grouping === g && l.metric === metric);
const tput = 'output_tok_s_per_chip';
const targets = [
  ...(['silicon', 'model'] as const).flatMap((g) => {
    const l = find(g, tput);
    return [
      { target: `leave-one-${g}-out ${tput} MAPE <= 10%`, value: l?.all.mapePct ?? NaN, limit: 10 },
      { target: `leave-one-${g}-out ${tput} |worst| <= 25%`, value: l ? Math.abs(l.all.worstPct) : NaN, limit: 25 },
    ];
  }),
  ...['ttft_mean_s', 'itl_mean_s'].map((m) => ({ target: `${m} online median |err| <= 15% (in-sample)`, value: onlineByMetric.get(m)?.medianAbsPct ?? NaN, limit: 15 })),
];

if (json) {
  for (const g of groups) process.stdout.write(JSON.stringify({ bench: 'fidelity/throughput-by-group', ...g }) + '\n');
  for (const e of result.byMetric) {
    const o = onlineByMetric.get(e.metric);
    process.stdout.write(JSON.stringify({ bench: 'fidelity/in-sample', ...e, online_median_abs_pct: o?.medianAbsPct ?? null }) + '\n');
  }
  for (const l of logo) process.stdout.write(JSON.stringify({ bench: `fidelity/leave-one-${l.grouping}-out`, metric: l.metric, ...l.all, online_median_abs_pct: l.online?.medianAbsPct ?? null, from: logoSource }) + '\n');
  for (const t of targets) process.stdout.write(JSON.stringify({ bench: 'fidelity/target', ...t, met: t.value <= t.limit }) + '\n');
  process.stdout.write(JSON.stringify({ bench: 'fidelity/run', rows: result.rows.length, excluded: result.excluded.length, simulations: result.simulations, wall_s: wallS }) + '\n');
} else {
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(1));
  const table = (lines: string[][]) => {
    const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
    return lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
  };
  const head = ['metric', 'error of', 'rows', 'MAPE %', 'median |err| %', 'worst %', 'online median |err| %'];
  const lines = [head];
  for (const e of result.byMetric) {
    const o = onlineByMetric.get(e.metric);
    lines.push([e.metric, 'in-sample', String(e.rows), f(e.mapePct), f(e.medianAbsPct), f(e.worstPct), o ? f(o.medianAbsPct) : '']);
    for (const g of GROUPINGS) {
      const l = find(g, e.metric);
      if (l) lines.push(['', `leave-one-${g}-out`, String(l.all.rows), f(l.all.mapePct), f(l.all.medianAbsPct), f(l.all.worstPct), l.online ? f(l.online.medianAbsPct) : '']);
    }
  }
  process.stdout.write(table(lines));
  process.stdout.write(`leave-one-group-out: ${logoSource}\n`);
  const g = [['output_tok_s_per_chip by', 'key', 'rows', 'MAPE %', 'median |err| %', 'worst %']];
  for (const e of groups) g.push([e.group, e.key, String(e.rows), f(e.mapePct), f(e.medianAbsPct), f(e.worstPct)]);
  process.stdout.write('\nin-sample, ' + table(g));
  const t = [['target', 'value %', 'met']];
  for (const x of targets) t.push([x.target, f(x.value), x.value <= x.limit ? 'yes' : 'NO']);
  process.stdout.write('\n' + table(t));
  process.stdout.write(`${result.rows.length} rows (${result.excluded.length} excluded), ${result.simulations} simulations, ${wallS.toFixed(2)} s\n`);
}
