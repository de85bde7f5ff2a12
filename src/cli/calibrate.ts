/** `fleetsim calibrate`: fit efficiency profiles to measurements, cross-validate, write the fitted rows and tables. */
import { availableParallelism } from 'node:os';
import { loadCatalog, type Efficiency } from '../catalog/catalog.js';
import { foldPool } from '../fidelity/calibrate-pool.js';
import { InputError } from '../errors.js';
import { calibrate, cvPooled, cvTable, FIT_PARAMS, GROUPINGS, groupOf, heldValue, type CalibrateResult, type ProfileResult } from '../fidelity/calibrate.js';
import { rowName, summarizeErrors } from '../fidelity/fidelity.js';
import { checkCatalog, checkDefaults, measurementWarnings, formatLength, formatLoad, readMeasurements, type Measurement, type ResultDefaults } from '../fidelity/measurements.js';
import { OutputDir } from '../report/atomic.js';
import { CsvWriter, formatDecimal, formatInt, neutralizeText } from '../report/csv.js';
import { showProgress } from './progress.js';
import { reportWarnings } from './warnings.js';

export interface CalibrateFlags extends ResultDefaults {
  out: string;
  params?: string;
  maxEvals?: number;
  foldMaxEvals?: number;
  workers?: number;
  cv?: boolean;
  quiet?: boolean;
  progress?: boolean;
}

export const CALIBRATE_FILES = ['efficiency.csv', 'calibrate_rows.csv', 'calibrate_cv.csv', 'calibrate_folds.csv'];

/** The columns of data/efficiency.csv, in its order, so the fitted rows can be pasted in as they are. */
export const EFFICIENCY_CSV = [
  'silicon', 'stack', 'basis', 'gemm_eff', 'gemm_half_ridge', 'mem_eff', 'kv_read_eff', 'attn_eff', 'moe_half_ridge', 'moe_imbalance',
  'comm_eff', 'overhead_ms', 'overhead_per_seq_us', 'frontend_ms', 'gemm_eff_8bit', 'comm_latency_us', 'fitted_to', 'cv_rows', 'cv_mape_pct', 'cv_err_p10_pct', 'cv_err_p90_pct', 'source', 'assumption',
];

const num = (x: number) => (Number.isFinite(x) ? String(x) : '');

export function efficiencyCells(e: Efficiency): string[] {
  return [
    e.silicon, e.stack, e.basis, num(e.gemmEff), num(e.gemmHalfRidge), num(e.memEff), num(e.kvReadEff), num(e.attnEff), num(e.moeHalfRidge),
    num(e.moeImbalance), num(e.commEff), num(e.overheadMs), num(e.overheadPerSeqUs), num(e.frontendMs), num(e.gemmEff8bit), num(e.commLatencyUs), e.fittedTo, num(e.cvRows), num(e.cvMapePct),
    num(e.cvErrP10Pct), num(e.cvErrP90Pct), e.source, e.assumption,
  ];
}

export async function calibrateCommand(paths: string[], flags: CalibrateFlags): Promise<void> {
  if (!flags.out) throw new InputError('--out: expected a directory for the fitted profiles and tables');
  const catalog = loadCatalog();
  checkDefaults(flags, catalog);
  const measurements: Measurement[] = paths.flatMap((p) => readMeasurements(p, catalog, flags));
  checkCatalog(measurements, catalog);
  reportWarnings(measurementWarnings(measurements, catalog, 'calibrate', flags), false);
  const params = flags.params?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const started = performance.now();
  const result = await calibrate(
    measurements,
    catalog,
    {
      params,
      maxEvals: flags.maxEvals,
      foldMaxEvals: flags.foldMaxEvals,
      crossValidate: flags.cv !== false,
      onProgress: showProgress(flags) ? (message) => process.stderr.write(`${message}\n`) : undefined,
      onWarning: (message) => reportWarnings([message], false),
    },
    foldPool(flags.workers ?? Math.min(2, availableParallelism())),
  );
  writeCalibration(flags.out, result);
  process.stdout.write(formatCalibration(result));
  if (!flags.quiet) {
    process.stderr.write(
      `calibrate: ${((performance.now() - started) / 1000).toFixed(1)} s; fitted rows in ${flags.out}/efficiency.csv, tables in ${flags.out}/; to use the rows, ` +
        'replace or add their (silicon, stack) rows in data/efficiency.csv, or list them under a scenario\'s catalog: efficiency: (docs/fidelity.md, Installing the fit)\n',
    );
  }
}

function pad(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n') + '\n';
}

const f1 = (x: number) => formatDecimal(x, 1);

export function formatCalibration(result: CalibrateResult): string {
  let out = '';
  for (const p of result.profiles) {
    out += `profile ${p.group.kind}/${p.group.stack} (${p.group.silicon.join(', ')}; ${p.group.rows.length} rows, ${p.fit.evals} evaluations)\n`;
    out += p.params.map((q, i) => `  ${q.csv} = ${formatDecimal(p.fit.values[i], 4)}`).join('\n') + '\n';
    for (const u of p.unfitted) out += `  ${heldValue(u.param, p.group.base, ' = ')} (not fitted, the starting profile's: no row can inform it; it needs ${u.needs})\n`;
    out += '\n';
    const table = [['metric', 'error of', 'rows', 'MAPE_%', 'median_|err|_%', 'worst_%']];
    const pooled = cvPooled(p);
    for (const e of summarizeErrors(p.rows)) table.push([e.metric, 'in-sample', String(e.rows), f1(e.mapePct), f1(e.medianAbsPct), f1(e.worstPct)]);
    for (const g of pooled) {
      for (const e of g.errors) table.push([e.metric, `leave-one-${g.grouping}-out`, String(e.rows), f1(e.mapePct), f1(e.medianAbsPct), f1(e.worstPct)]);
    }
    out += pad(table) + '\n';
    const cv = [['grouping', 'held out', 'rows', 'MAPE_%', 'median_|err|_%', 'worst_%']];
    for (const c of cvTable(p)) {
      const tput = c.errors.find((e) => e.metric === 'output_tok_s_per_chip');
      if (tput) cv.push([c.grouping, c.key, String(tput.rows), f1(tput.mapePct), f1(tput.medianAbsPct), f1(tput.worstPct)]);
    }
    if (cv.length > 1) out += 'output_tok_s_per_chip, each group predicted by a fit without it:\n' + pad(cv) + '\n';
    out += cvSkipped(p, result.crossValidated);
  }
  if (result.excluded.length > 0) out += `${result.excluded.length} rows excluded (exclude column)\n`;
  return out;
}

/** What of the cross-validation did not run, and so what error band the written rows lack ('' when it all ran). */
function cvSkipped(p: ProfileResult, crossValidated: boolean): string {
  const name = `${p.group.kind}/${p.group.stack}`;
  if (!crossValidated) return `cross-validation not run (--no-cv): profile ${name}'s rows have no error band (cv_* empty)\n\n`;
  const skipped = GROUPINGS.flatMap((g) => {
    const keys = [...new Set(p.group.rows.map((m) => groupOf(m, g)))];
    return keys.length < 2 ? [`leave-one-${g}-out (every row has ${g} ${keys[0]})`] : [];
  });
  if (skipped.length === 0) return '';
  const none = skipped.length === GROUPINGS.length;
  return `cross-validation ${none ? 'not possible' : 'partly skipped'} for profile ${name}: ${skipped.join('; ')} skipped, too few groups to leave one out` +
    `${none ? '; its rows have no error band (cv_* empty)' : ''}\n\n`;
}

export function writeCalibration(dir: string, result: CalibrateResult): void {
  const out = new OutputDir(dir, CALIBRATE_FILES);
  try {
    const eff = new CsvWriter(out.path('efficiency.csv'), EFFICIENCY_CSV);
    for (const p of result.profiles) for (const e of p.efficiency) eff.write(efficiencyCells(e));
    eff.close();

    const rows = new CsvWriter(out.path('calibrate_rows.csv'), [
      'row', 'profile', 'model', 'silicon', 'tensor_parallel', 'replicas', 'dtype', 'stack', 'prompt_tokens', 'output_tokens', 'load', 'metric',
      'measured', 'predicted', 'error_pct', ...GROUPINGS.map((g) => `leave_one_${g}_out_predicted`), ...GROUPINGS.map((g) => `leave_one_${g}_out_error_pct`),
    ]);
    for (const p of result.profiles) {
      // Keyed by row name and metric: held-out rows come back from worker threads as copies, so
      // the measurement objects are not the ones of p.rows (the columns were empty with workers).
      const rowKey = (m: Measurement) => `${rowName(m)}|${m.metric}`;
      const held = new Map<string, Map<string, number>>();
      for (const g of GROUPINGS) held.set(g, new Map());
      for (const h of p.heldOut) for (const r of h.rows) held.get(h.grouping)!.set(rowKey(r.measurement), r.predicted);
      for (const r of p.rows) {
        const m = r.measurement;
        const cvPred = GROUPINGS.map((g) => held.get(g)!.get(rowKey(m)));
        rows.write([
          neutralizeText(rowName(m)), `${p.group.kind}/${p.group.stack}`, neutralizeText(m.model), neutralizeText(m.silicon), formatInt(m.tensorParallel),
          formatInt(m.replicas), m.dtype, neutralizeText(m.stack), formatLength(m.promptTokens), formatLength(m.outputTokens), formatLoad(m.load), m.metric,
          formatDecimal(m.value, 6), formatDecimal(r.predicted, 6), formatDecimal(r.errorPct, 2),
          ...cvPred.map((x) => (x === undefined ? '' : formatDecimal(x, 6))),
          ...cvPred.map((x) => (x === undefined ? '' : formatDecimal(((x - m.value) / m.value) * 100, 2))),
        ]);
      }
    }
    rows.close();

    const cv = new CsvWriter(out.path('calibrate_cv.csv'), ['profile', 'grouping', 'held_out', 'metric', 'rows', 'mape_pct', 'median_abs_error_pct', 'worst_error_pct', 'worst_row']);
    for (const p of result.profiles) {
      const name = `${p.group.kind}/${p.group.stack}`;
      for (const e of summarizeErrors(p.rows)) cv.write([name, 'in-sample', 'all', e.metric, formatInt(e.rows), formatDecimal(e.mapePct, 2), formatDecimal(e.medianAbsPct, 2), formatDecimal(e.worstPct, 2), neutralizeText(e.worstRow)]);
      for (const c of cvTable(p)) {
        for (const e of c.errors) cv.write([name, c.grouping, neutralizeText(c.key), e.metric, formatInt(e.rows), formatDecimal(e.mapePct, 2), formatDecimal(e.medianAbsPct, 2), formatDecimal(e.worstPct, 2), neutralizeText(e.worstRow)]);
      }
      for (const g of cvPooled(p)) {
        for (const e of g.errors) cv.write([name, g.grouping, 'all', e.metric, formatInt(e.rows), formatDecimal(e.mapePct, 2), formatDecimal(e.medianAbsPct, 2), formatDecimal(e.worstPct, 2), neutralizeText(e.worstRow)]);
      }
    }
    cv.close();

    const folds = new CsvWriter(out.path('calibrate_folds.csv'), ['profile', 'grouping', 'held_out', 'train_rows', 'evaluations', 'loss', ...FIT_PARAMS.map((q) => q.csv)]);
    for (const p of result.profiles) {
      const name = `${p.group.kind}/${p.group.stack}`;
      const values = (v: number[]) => FIT_PARAMS.map((q) => {
        const i = p.params.indexOf(q);
        return i >= 0 ? String(Number(v[i].toFixed(4))) : num(p.group.base[q.key] as number);
      });
      folds.write([name, 'all', 'none', formatInt(p.group.rows.length), formatInt(p.fit.evals), formatDecimal(p.fit.loss, 6), ...values(p.fit.values)]);
      for (const h of p.heldOut) {
        const train = p.group.rows.filter((m) => groupOf(m, h.grouping) !== h.key).length;
        folds.write([name, h.grouping, neutralizeText(h.key), formatInt(train), formatInt(h.fit.evals), formatDecimal(h.fit.loss, 6), ...values(h.fit.values)]);
      }
    }
    folds.close();
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
}
