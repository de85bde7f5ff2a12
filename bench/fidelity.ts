/**
 * Fidelity benchmark (issue 16): runs `fidelity` over data/measurements/ with today's catalog and
 * reports, per metric, the in-sample error (MAPE, median and worst |error|) against the shipped
 * published measurements, and the wall time. Leave-one-group-out error comes from `calibrate`
 * (issue 16 item 5), which refits without each group; until then only in-sample is reported.
 *
 *   npm run bench:fidelity            table on stdout
 *   npm run bench:fidelity -- --json  one JSON object per metric, then one for the run
 *
 * Targets (issue 16 "Done means"): leave-one-chip-out and leave-one-model-out MAPE on throughput
 * <= 10% (worst <= 25%); mean TTFT and mean ITL median error <= 15% on the online points. This
 * bench states the figures; it does not gate (no timed or error threshold in unit tests).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCatalog } from '../src/catalog/catalog.js';
import { checkCatalog, formatLength, readMeasurements } from '../src/fidelity/measurements.js';
import { runFidelity, summarizeErrors, type FidelityRow } from '../src/fidelity/fidelity.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, here.includes('/dist/') ? '../..' : '..');
const dir = join(root, 'data', 'measurements');
const json = process.argv.includes('--json');

const catalog = loadCatalog();
const rows = readMeasurements(dir, catalog);
checkCatalog(rows, catalog);
const started = performance.now();
const result = runFidelity(rows);
const wallS = (performance.now() - started) / 1000;

// Online points (a rate or a concurrency) apart from offline throughput, as the targets are stated.
const online = runFidelity(rows.filter((m) => m.load.kind !== 'offline'));
const onlineByMetric = new Map(online.byMetric.map((e) => [e.metric, e]));

/** Throughput error by chip, model and length pair: the groups leave-one-group-out will hold out. */
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

if (json) {
  for (const g of groups) process.stdout.write(JSON.stringify({ bench: 'fidelity/throughput-by-group', ...g }) + '\n');
  for (const e of result.byMetric) {
    const o = onlineByMetric.get(e.metric);
    process.stdout.write(JSON.stringify({ bench: 'fidelity/in-sample', ...e, online_median_abs_pct: o?.medianAbsPct ?? null }) + '\n');
  }
  process.stdout.write(JSON.stringify({ bench: 'fidelity/run', rows: result.rows.length, excluded: result.excluded.length, simulations: result.simulations, wall_s: wallS }) + '\n');
} else {
  const f = (x: number) => x.toFixed(1);
  const lines = [['metric', 'rows', 'in-sample MAPE %', 'median |err| %', 'worst %', 'online median |err| %', 'leave-one-group-out']];
  for (const e of result.byMetric) {
    const o = onlineByMetric.get(e.metric);
    lines.push([e.metric, String(e.rows), f(e.mapePct), f(e.medianAbsPct), f(e.worstPct), o ? f(o.medianAbsPct) : '', 'from calibrate (not yet)']);
  }
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  process.stdout.write(lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n') + '\n');
  const g = [['output_tok_s_per_chip by', 'key', 'rows', 'MAPE %', 'median |err| %', 'worst %']];
  for (const e of groups) g.push([e.group, e.key, String(e.rows), f(e.mapePct), f(e.medianAbsPct), f(e.worstPct)]);
  const gw = g[0].map((_, c) => Math.max(...g.map((l) => l[c].length)));
  process.stdout.write('\n' + g.map((l) => l.map((c, i) => c.padEnd(gw[i])).join('  ')).join('\n') + '\n');
  process.stdout.write(`${result.rows.length} rows (${result.excluded.length} excluded), ${result.simulations} simulations, ${wallS.toFixed(2)} s\n`);
}
