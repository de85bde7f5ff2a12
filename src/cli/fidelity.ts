/** `fleetsim fidelity`: predicted vs measured for measurement files, errors per row and per metric. */
import { loadCatalog } from '../catalog/catalog.js';
import { checkCatalog, checkDefaults, measurementWarnings, formatLength, formatLoad, readMeasurements, type Measurement, type ResultDefaults } from '../fidelity/measurements.js';
import { rowName, runFidelity, type FidelityResult } from '../fidelity/fidelity.js';
import { OutputDir } from '../report/atomic.js';
import { CsvWriter, formatDecimal, formatInt, neutralizeText } from '../report/csv.js';
import { showProgress } from './progress.js';
import { count } from '../scenario/units.js';
import { reportWarnings } from './warnings.js';

export interface FidelityFlags extends ResultDefaults {
  out?: string;
  quiet?: boolean;
  progress?: boolean;
}

export const FIDELITY_FILES = ['fidelity_rows.csv', 'fidelity_metrics.csv'];

/** fidelity_rows.csv's columns; docs/fidelity.md lists them (test/fidelity-inputs.test.ts keeps the list true). */
export const ROW_COLUMNS = ['row', 'model', 'silicon', 'tensor_parallel', 'replicas', 'dtype', 'stack', 'prompt_tokens', 'output_tokens', 'load', 'metric', 'measured', 'predicted', 'error_pct', 'source'];
export const METRIC_COLUMNS = ['metric', 'rows', 'mape_pct', 'median_abs_error_pct', 'worst_error_pct', 'worst_row'];

/** Significant figures for a table: latencies are small, throughputs large. */
function sig(x: number): string {
  if (!Number.isFinite(x)) return '';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n') + '\n';
}

export function fidelityCommand(paths: string[], flags: FidelityFlags): void {
  const catalog = loadCatalog();
  const defaults: ResultDefaults = {
    model: flags.model,
    silicon: flags.silicon,
    tensorParallel: flags.tensorParallel,
    replicas: flags.replicas,
    dtype: flags.dtype,
    stack: flags.stack,
  };
  checkDefaults(defaults, catalog);
  const measurements: Measurement[] = paths.flatMap((p) => readMeasurements(p, catalog, defaults));
  checkCatalog(measurements, catalog);
  reportWarnings(measurementWarnings(measurements, catalog, 'fidelity', flags), false);
  const started = performance.now();
  const result = runFidelity(measurements, {
    onProgress: !showProgress(flags) ? undefined : (done, total, m) => process.stderr.write(`fidelity: ${done}/${total} ${m.model} on ${m.silicon} x${m.tensorParallel * m.replicas}, ${formatLoad(m.load)}\n`),
  });
  if (flags.out) writeFidelity(flags.out, result);
  process.stdout.write(formatFidelity(result));
  if (!flags.quiet) {
    process.stderr.write(
      `fidelity: ${result.rows.length} rows (${count(result.simulations, 'simulation')}) in ${((performance.now() - started) / 1000).toFixed(1)} s` +
        `${result.excluded.length > 0 ? `; ${result.excluded.length} rows excluded (exclude column)` : ''}${flags.out ? `; CSVs in ${flags.out}/` : ''}\n`,
    );
  }
}

export function formatFidelity(result: FidelityResult): string {
  const table = [['row', 'model', 'silicon', 'chips', 'load', 'metric', 'measured', 'predicted', 'error_%']];
  for (const r of result.rows) {
    const m = r.measurement;
    table.push([rowName(m), m.model, m.silicon, String(m.tensorParallel * m.replicas), formatLoad(m.load), m.metric, sig(m.value), sig(r.predicted), formatDecimal(r.errorPct, 1)]);
  }
  const metrics = [['metric', 'rows', 'MAPE_%', 'median_|err|_%', 'worst_%', 'worst_row']];
  for (const e of result.byMetric) metrics.push([e.metric, String(e.rows), formatDecimal(e.mapePct, 1), formatDecimal(e.medianAbsPct, 1), formatDecimal(e.worstPct, 1), e.worstRow]);
  return pad(table) + '\n' + pad(metrics);
}

export function writeFidelity(dir: string, result: FidelityResult): void {
  const out = new OutputDir(dir, FIDELITY_FILES);
  try {
    const rows = new CsvWriter(out.path('fidelity_rows.csv'), ROW_COLUMNS);
    for (const r of result.rows) {
      const m = r.measurement;
      rows.write([
        neutralizeText(rowName(m)),
        neutralizeText(m.model),
        neutralizeText(m.silicon),
        formatInt(m.tensorParallel),
        formatInt(m.replicas),
        m.dtype,
        neutralizeText(m.stack),
        formatLength(m.promptTokens),
        formatLength(m.outputTokens),
        formatLoad(m.load),
        m.metric,
        formatDecimal(m.value, 6),
        formatDecimal(r.predicted, 6),
        formatDecimal(r.errorPct, 2),
        neutralizeText(m.source),
      ]);
    }
    rows.close();
    const metrics = new CsvWriter(out.path('fidelity_metrics.csv'), METRIC_COLUMNS);
    for (const e of result.byMetric) {
      metrics.write([e.metric, formatInt(e.rows), formatDecimal(e.mapePct, 2), formatDecimal(e.medianAbsPct, 2), formatDecimal(e.worstPct, 2), neutralizeText(e.worstRow)]);
    }
    metrics.close();
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}
