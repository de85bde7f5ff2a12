/**
 * `fleetsim calibrate`: fits the named factors of the efficiency profiles (data/efficiency.csv) to
 * measurements by minimising the mean squared log error of predicted against measured, every row
 * simulated with the engine `run` uses (simulateMeasurement), then cross-validates by refitting
 * without each chip, each model and each length pair in turn and predicting the group left out.
 *
 * A profile is (silicon kind, stack family): every row of that kind and stack shares one set of
 * factors, so leaving a chip out asks what the profile predicts for a chip it never saw, which is
 * how a chip without measurements (a kind default) is predicted. docs/fidelity.md#calibrate.
 */
import { HALF_RIDGE_MAX, RENAMED_COLUMNS, resolveEfficiency, stackFamily, type Catalog, type Efficiency, type RawRow } from '../catalog/catalog.js';
import { InputError } from '../errors.js';
import { errorPct, rowName, summarizeErrors, type FidelityRow, type MetricError } from './fidelity.js';
import { formatLength, rowLocation, type Measurement } from './measurements.js';
import { minimise } from './optimise.js';
import { setupKey, simulateMeasurement, type SimulateOptions } from './simulate-row.js';
import { peakFlops } from '../perf/roofline.js';
import type { Dtype } from '../scenario/schema.js';
import { count } from '../scenario/units.js';

/** A row's name (`file:line`, `file benchmarks[3]`, a vLLM result's file), the key of lowBitRows. */
const rowId = rowName;
/** Whether the row's GEMMs run below 16 bits (it sees gemm_eff_8bit). */
const lowBitRow = (m: Measurement, group: ProfileGroup) => group.lowBitRows.includes(rowId(m));

/** A factor calibrate may fit, with the bounds the optimiser keeps it in. */
export interface FitParam {
  csv: string;
  key: keyof Efficiency & string;
  lo: number;
  hi: number;
}

export const FIT_PARAMS: readonly FitParam[] = [
  { csv: 'gemm_eff', key: 'gemmEff', lo: 0.2, hi: 1 },
  // The same share for GEMMs on a datapath below 16 bits (FP8 on H100); docs/physics.md#formulas.
  { csv: 'gemm_eff_8bit', key: 'gemmEff8bit', lo: 0.2, hi: 1 },
  // Weight streaming reaches at least 75% of peak HBM bandwidth (an assumption): below it the fit
  // traded host overhead for weight streaming, which the 8B-only online ITL cannot tell apart
  // (docs/fidelity.md#bounds-on-the-fit).
  { csv: 'mem_eff', key: 'memEff', lo: 0.75, hi: 1 },
  { csv: 'kv_read_eff', key: 'kvReadEff', lo: 0.3, hi: 1 },
  // Attention kernels (FlashAttention-2/3, TensorRT-LLM's FMHA) reach 35-75% of peak; below 0.3 the
  // fit would be using attention to stand in for something else.
  { csv: 'attn_eff', key: 'attnEff', lo: 0.3, hi: 1 },
  { csv: 'comm_eff', key: 'commEff', lo: 0.1, hi: 1 },
  // Fixed time per collective call: a kernel launch and a few NVLink round trips at the least, a
  // ring of 8 at the most (docs/physics.md#formulas).
  { csv: 'comm_latency_us', key: 'commLatencyUs', lo: 2, hi: 50 },
  // The 8B online ITL at 2 req/s (8 ms, rounded: at most 8.5) less its weights read at full H100
  // bandwidth (4.8 ms): fixed host time per iteration can be no more (docs/fidelity.md#bounds-on-the-fit).
  { csv: 'overhead_ms', key: 'overheadMs', lo: 0, hi: 3.7 },
  { csv: 'overhead_per_seq_us', key: 'overheadPerSeqUs', lo: 0, hi: 50 },
  // Shares of the chip's ridge point (src/perf/roofline.ts ridgeTokens): at most 2.56 ridges (the
  // former 256-token bound at a ridge of 100 tokens).
  { csv: 'gemm_half_ridge', key: 'gemmHalfRidge', lo: 0, hi: HALF_RIDGE_MAX },
  { csv: 'moe_half_ridge', key: 'moeHalfRidge', lo: 0, hi: HALF_RIDGE_MAX },
  { csv: 'moe_imbalance', key: 'moeImbalance', lo: 1, hi: 2 },
  { csv: 'frontend_ms', key: 'frontendMs', lo: 0, hi: 50 },
];

/** Fitted by default: the factors the shipped measurements identify (docs/fidelity.md says why the rest are held). */
export const DEFAULT_FIT = [
  'gemm_eff', 'gemm_eff_8bit', 'gemm_half_ridge', 'mem_eff', 'kv_read_eff', 'attn_eff', 'comm_eff', 'comm_latency_us', 'overhead_ms',
  'overhead_per_seq_us', 'moe_half_ridge', 'frontend_ms',
];

/** The ways rows are grouped for leave-one-group-out cross-validation. */
export const GROUPINGS = ['silicon', 'model', 'lengths'] as const;
export type Grouping = (typeof GROUPINGS)[number];

export function groupOf(m: Pick<Measurement, 'silicon' | 'model' | 'promptTokens' | 'outputTokens'>, g: Grouping): string {
  if (g === 'silicon') return m.silicon;
  if (g === 'model') return m.model;
  return `${formatLength(m.promptTokens)}/${formatLength(m.outputTokens)}`;
}

/** Throughput metrics: what the error band on throughput and cost per Mtok is computed from. */
export const THROUGHPUT: ReadonlySet<string> = new Set(['output_tok_s_per_chip', 'total_tok_s_per_chip', 'output_tok_s', 'total_tok_s', 'requests_per_s']);
/** The throughput metric a band takes from a benchmark run that reports several, first preferred. */
const BAND_PREFERENCE = ['output_tok_s_per_chip', 'output_tok_s', 'total_tok_s_per_chip', 'total_tok_s', 'requests_per_s'];

/** Evaluations of the fit on every row, and of each leave-one-group-out refit (warm-started from it, a smaller simplex). */
export const MAX_EVALS = 160;
export const FOLD_MAX_EVALS = 100;
const FOLD_STEP = 0.15;

export interface CalibrateOptions {
  /** Factor names (csv) to fit; default DEFAULT_FIT. */
  params?: string[];
  /** Objective evaluations of the fit on every row (each simulates every setup of the training rows once), and of each refit. */
  maxEvals?: number;
  foldMaxEvals?: number;
  /** Leave-one-group-out refits (default true). */
  crossValidate?: boolean;
  /** Requests per user of the offline loop while fitting (default 2; the final predictions use the usual 3). */
  fitOfflineRequestsPerUser?: number;
  onProgress?: (message: string) => void;
  /** Called once per problem the rows have for the fit (a factor they cannot inform, fewer rows than factors), before that profile is fitted. */
  onWarning?: (message: string) => void;
}

/** The rows of one profile and the profile they start from. */
export interface ProfileGroup {
  kind: string;
  stack: string;
  silicon: string[];
  rows: Measurement[];
  base: Efficiency;
  /**
   * Where a factor the base leaves empty starts a fit: gemm_eff_8bit at gemm_eff, comm_latency_us
   * at the silicon's collective_latency_us, moe_half_ridge at gemm_half_ridge (what the roofline
   * uses when they are empty).
   */
  startFallback: Record<string, number>;
  /** Names ({@link rowName}) of the rows whose GEMMs run below 16 bits (the rows that see gemm_eff_8bit). */
  lowBitRows: string[];
  /** `file:line` of the rows of a mixture-of-experts model (the rows that see moe_half_ridge). */
  moeRows: string[];
}

export interface Fit {
  /** Fitted factor values, in `params` order. */
  values: number[];
  loss: number;
  evals: number;
}

export interface HeldOut {
  grouping: Grouping;
  key: string;
  fit: Fit;
  rows: FidelityRow[];
}

/** A factor asked for that no row of the profile can inform, so it is not fitted: kept at the starting profile's value. */
export interface Unfitted {
  param: FitParam;
  /** What kind of row would inform it. */
  needs: string;
}

export interface ProfileResult {
  group: ProfileGroup;
  /** The factors fitted: those asked for that some row informs. */
  params: FitParam[];
  /** Those asked for that no row informs (kept at the starting profile's values). */
  unfitted: Unfitted[];
  fit: Fit;
  /** In-sample predictions with the fitted factors. */
  rows: FidelityRow[];
  /** One entry per group left out (grouping, key). */
  heldOut: HeldOut[];
  /** Efficiency rows to write: one per measured silicon, then the kind's profile. */
  efficiency: Efficiency[];
}

export interface CalibrateResult {
  profiles: ProfileResult[];
  excluded: Measurement[];
  /** Whether the leave-one-group-out refits were asked for (false with --no-cv). */
  crossValidated: boolean;
  /** The warnings given (also passed to onWarning as they arise). */
  warnings: string[];
}

/** Splits measurement rows into profiles: (kind of the row's silicon, stack family). */
export function profileGroups(rows: readonly Measurement[], catalog: Catalog): ProfileGroup[] {
  const groups = new Map<string, ProfileGroup>();
  for (const m of rows) {
    const silicon = catalog.silicon.get(m.silicon)!;
    const stack = stackFamily(m.stack);
    const key = `${silicon.kind}|${stack}`;
    let g = groups.get(key);
    if (!g) {
      const resolved = resolveEfficiency(catalog, silicon, stack);
      if (!resolved) throw new InputError(`no efficiency profile for ${silicon.id} (kind ${silicon.kind}) to start from`, rowLocation(m));
      const latency = Number.isFinite(silicon.collectiveLatencyUs) ? silicon.collectiveLatencyUs : 0;
      g = {
        kind: silicon.kind, stack, silicon: [], rows: [], base: resolved.efficiency,
        startFallback: { gemm_eff_8bit: resolved.efficiency.gemmEff, comm_latency_us: latency, moe_half_ridge: resolved.efficiency.gemmHalfRidge },
        lowBitRows: [], moeRows: [],
      };
      groups.set(key, g);
    }
    if (peakFlops(silicon, m.dtype as Dtype) !== silicon.bf16Tflops * 1e12) g.lowBitRows.push(rowId(m));
    const model = catalog.models.get(m.model);
    if (model !== undefined && model.experts > 1 && model.expertParamsB > 0) g.moeRows.push(rowId(m));
    if (!g.silicon.includes(m.silicon)) g.silicon.push(m.silicon);
    g.rows.push(m);
  }
  return [...groups.values()];
}

function factorRow(base: Efficiency, params: readonly FitParam[], values: readonly number[], silicon: string, stack: string): RawRow {
  const row: RawRow = {
    silicon,
    stack,
    basis: 'assumed',
    gemm_eff: base.gemmEff,
    gemm_half_ridge: base.gemmHalfRidge,
    mem_eff: base.memEff,
    kv_read_eff: base.kvReadEff,
    attn_eff: base.attnEff,
    moe_half_ridge: base.moeHalfRidge,
    moe_imbalance: base.moeImbalance,
    comm_eff: base.commEff,
    overhead_ms: base.overheadMs,
    overhead_per_seq_us: base.overheadPerSeqUs,
    frontend_ms: base.frontendMs,
    gemm_eff_8bit: base.gemmEff8bit,
    comm_latency_us: base.commLatencyUs,
    fitted_to: '',
    source: '',
    assumption: 'calibrate trial point',
  };
  params.forEach((p, i) => (row[p.csv] = values[i]));
  // An empty factor (NaN: not given, or unseen in a fold) is an empty cell: the roofline's fallback.
  for (const k of Object.keys(row)) if (typeof row[k] === 'number' && !Number.isFinite(row[k])) row[k] = '';
  return row;
}

const toUnit = (p: FitParam, v: number) => Math.min(1, Math.max(0, (v - p.lo) / (p.hi - p.lo)));
const fromUnit = (p: FitParam, u: number) => p.lo + u * (p.hi - p.lo);

/** Predictions for `rows` with the profile's factors set to `values`: each setup simulated once. */
export function predict(group: ProfileGroup, params: readonly FitParam[], values: readonly number[], rows: readonly Measurement[], sim: SimulateOptions = {}): FidelityRow[] {
  const efficiency = group.silicon.map((s) => factorRow(group.base, params, values, s, group.stack));
  const options: SimulateOptions = { ...sim, catalog: { efficiency } };
  const bySetup = new Map<string, Record<string, number>>();
  return rows.map((m) => {
    const key = setupKey(m);
    let metrics = bySetup.get(key);
    if (!metrics) {
      metrics = simulateMeasurement(m, options).metrics;
      bySetup.set(key, metrics);
    }
    const predicted = metrics[m.metric];
    return { measurement: m, predicted, errorPct: errorPct(predicted, m.value) };
  });
}

/** Mean squared log error; a row the simulation could not predict (no completions) costs as much as a factor of e^3. */
function loss(rows: readonly FidelityRow[]): number {
  let sum = 0;
  for (const r of rows) {
    const l = r.predicted > 0 && Number.isFinite(r.predicted) ? Math.log(r.predicted / r.measurement.value) : 3;
    sum += l * l;
  }
  return sum / Math.max(1, rows.length);
}

/** Fits from `start` (default the profile the group starts from) with an initial simplex of `step` of each range. */
export function fitProfile(
  group: ProfileGroup,
  params: readonly FitParam[],
  rows: readonly Measurement[],
  o: CalibrateOptions,
  label: string,
  startValues?: readonly number[],
  step = 0.25,
): Fit {
  const sim: SimulateOptions = { offlineRequestsPerUser: o.fitOfflineRequestsPerUser ?? 2 };
  const maxEvals = o.maxEvals ?? MAX_EVALS;
  const startOf = (p: FitParam) => {
    const v = group.base[p.key] as number;
    return Number.isFinite(v) ? v : group.startFallback[p.csv];
  };
  const start = params.map((p, i) => toUnit(p, startValues ? startValues[i] : startOf(p)));
  const objective = (u: readonly number[]) => loss(predict(group, params, u.map((x, i) => fromUnit(params[i], x)), rows, sim));
  let lastReport = 0;
  const r = minimise(objective, {
    start,
    step,
    maxEvals,
    fTol: 1e-6,
    onEval: (evals, best) => {
      // The search stops starting steps once the budget is spent, but the step under way finishes
      // (up to one evaluation per factor and one more), so no N/budget line is printed past it.
      if ((evals - lastReport >= 20 || evals === 1) && evals <= maxEvals) {
        lastReport = evals;
        o.onProgress?.(`${label}: ${evals}/${maxEvals} evaluations, loss ${best.toFixed(5)}`);
      }
    },
  });
  o.onProgress?.(`${label}: done, ${r.evals} evaluations, loss ${r.f.toFixed(5)}`);
  return { values: r.x.map((u, i) => fromUnit(params[i], u)), loss: r.f, evals: r.evals };
}

/** What a band is computed from: a held-out prediction's measurement (its setup, metric and silicon) and signed error (a FidelityRow is one). */
export interface HeldOutError {
  measurement: Measurement;
  errorPct: number;
}

/**
 * The throughput predictions of one fold, one metric per setup (setupKey): its output throughput
 * where it reports one. A run that publishes output and total tokens per second measured the
 * chip's speed once, and counting both counted it twice (the online points did: fresh-clone
 * trial). Rows of one setup and metric are separate measurements (two MLPerf rounds) and all count.
 */
export function onePerRun(rows: readonly HeldOutError[]): HeldOutError[] {
  const rankOf = (r: HeldOutError) => BAND_PREFERENCE.indexOf(r.measurement.metric);
  const best = new Map<string, number>();
  for (const r of rows) {
    const rank = rankOf(r);
    if (rank < 0 || !Number.isFinite(r.errorPct)) continue;
    const key = setupKey(r.measurement);
    best.set(key, Math.min(rank, best.get(key) ?? rank));
  }
  return rows.filter((r) => Number.isFinite(r.errorPct) && rankOf(r) >= 0 && rankOf(r) === best.get(setupKey(r.measurement)));
}

export interface Band {
  n: number;
  mapePct: number;
  p10Pct: number;
  p90Pct: number;
}

/** Error band of a set of held-out predictions (throughput rows): count, MAPE, 10th and 90th percentile of the signed error. */
export function band(rows: readonly HeldOutError[]): Band | null {
  const errs = rows.filter((r) => THROUGHPUT.has(r.measurement.metric) && Number.isFinite(r.errorPct)).map((r) => r.errorPct).sort((a, b) => a - b);
  if (errs.length === 0) return null;
  const q = (p: number) => {
    const x = p * (errs.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(errs.length - 1, lo + 1);
    return errs[lo] + (errs[hi] - errs[lo]) * (x - lo);
  };
  return { n: errs.length, mapePct: errs.reduce((a, e) => a + Math.abs(e), 0) / errs.length, p10Pct: q(0.1), p90Pct: q(0.9) };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * The rows of a profile by file, as a user finds them: a CSV's lines (`f.csv lines 3-5,9`), a
 * GuideLLM report's entries (`f.json benchmarks[0], benchmarks[2]`), a vLLM result's file (`f.json`).
 */
export function describeRows(rows: readonly Measurement[]): string {
  const byFile = new Map<string, { lines: number[]; entries: string[] }>();
  for (const m of rows) {
    let f = byFile.get(m.file);
    if (!f) byFile.set(m.file, (f = { lines: [], entries: [] }));
    if (m.line !== undefined) f.lines.push(m.line);
    else if (m.location !== undefined && !f.entries.includes(m.location)) f.entries.push(m.location);
  }
  return [...byFile]
    .map(([file, f]) => [file, f.lines.length > 0 ? `lines ${compactRanges(f.lines)}` : '', f.entries.join(', ')].filter((x) => x !== '').join(' '))
    .join('; ');
}

/** 3,4,5,9 → "3-5,9". */
function compactRanges(lines: number[]): string {
  const xs = [...new Set(lines)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    out.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j;
  }
  return out.join(',');
}

/** What an empty factor means to the roofline (src/perf/roofline.ts), for the text of a held factor. */
const EMPTY_MEANS: Record<string, string> = {
  gemm_eff_8bit: 'empty (gemm_eff applies)',
  comm_latency_us: "empty (the silicon's collective_latency_us applies)",
  moe_half_ridge: 'empty (gemm_half_ridge applies)',
};

/** `comm_eff=0.375`, or `gemm_eff_8bit empty (gemm_eff applies)` for a factor the profile leaves empty (it printed NaN); `sep` between name and value. */
export function heldValue(p: FitParam, base: Efficiency, sep = '='): string {
  const v = base[p.key] as number;
  return Number.isFinite(v) ? `${p.csv}${sep}${v}` : `${p.csv} ${EMPTY_MEANS[p.csv] ?? 'empty'}`;
}

/** A band as an efficiency row's cv_* fields: the count, and the percentages to one decimal (NaN, an empty cell, without one). */
export function cvFields(b: Band | null): Pick<Efficiency, 'cvRows' | 'cvMapePct' | 'cvErrP10Pct' | 'cvErrP90Pct'> {
  return {
    cvRows: b ? b.n : NaN,
    cvMapePct: b ? round(b.mapePct, 1) : NaN,
    cvErrP10Pct: b ? round(b.p10Pct, 1) : NaN,
    cvErrP90Pct: b ? round(b.p90Pct, 1) : NaN,
  };
}

/**
 * The error band (cv_*) of each row a profile writes, in the order it writes them. A measured chip's
 * row: that chip's throughput rows (one metric per setup: onePerRun) as predicted by every
 * leave-one-model-out and leave-one-lengths-out fit, pooled, so each row counts once per grouping
 * it was held out in (twice when both ran). The kind's row: leave-one-chip-out, every measured
 * chip's throughput rows predicted by the fit without that chip, each row once. docs/fidelity.md#error-on-every-prediction
 * says what the shipped rows' figures are made of; test/calibrate.test.ts rebuilds them from
 * data/calibration/ with this function.
 */
export function profileBands(
  kind: string,
  silicon: readonly string[],
  heldOut: readonly { grouping: Grouping; rows: readonly HeldOutError[] }[],
  crossValidated = true,
): { silicon: string; band: Band | null; from: string }[] {
  const out: { silicon: string; band: Band | null; from: string }[] = [];
  const notRun = 'none (cross-validation not run: --no-cv)';
  for (const s of silicon) {
    // A measured chip's band: its throughput rows predicted with their model, or their length pair, left out of the fit.
    const byModelOrLengths = heldOut.filter((h) => h.grouping !== 'silicon');
    const mine = byModelOrLengths.flatMap((h) => onePerRun(h.rows).filter((x) => x.measurement.silicon === s));
    // Why there is none, when cross-validation ran: no fold could leave a model or length pair out
    // (every row has one of each), or the folds that did held out none of this chip's throughput rows.
    const heldAny = byModelOrLengths.some((h) => h.rows.some((x) => x.measurement.silicon === s));
    const none = !crossValidated
      ? notRun
      : heldAny
        ? `none: cross-validation was run, but none of ${s}'s held-out rows is a throughput row (${BAND_PREFERENCE.join(', ')})`
        : `none: cross-validation was run, but no group could be left out: every row of the profile has one model and one length pair`;
    out.push({
      silicon: s,
      band: band(mine),
      from: mine.length > 0 ? `throughput rows of ${s} predicted with their model or their length pair left out of the fit (leave-one-model-out and leave-one-length-pair-out pooled)` : none,
    });
  }
  // The kind's band: each chip predicted from a fit without it, as a chip with no measurement is.
  const loco = heldOut.filter((h) => h.grouping === 'silicon').flatMap((h) => onePerRun(h.rows));
  out.push({
    silicon: kind,
    band: band(loco),
    from: loco.length > 0
      ? `leave-one-chip-out: each of ${silicon.join(', ')} predicted from a fit without it, as a ${kind} without measurements is`
      : !crossValidated
        ? notRun
        : silicon.length < 2
          ? `none: cross-validation was run, but no chip could be left out: only ${silicon.join(', ')} measured`
          : `none: cross-validation was run, but no held-out chip has a throughput row (${BAND_PREFERENCE.join(', ')})`,
  });
  return out;
}

/** Within this share of a factor's range of a bound, the fit is taken to be at the bound. */
const AT_BOUND_SHARE = 0.01;

/**
 * The fitted factors at (within 1% of their range of) a bound of the fit: a warning sign
 * (docs/fidelity.md, What the fit says), since the rows would push the factor past the range that
 * keeps it physical, so it stands in for something the step-time model lacks. `gemm_eff=1 (upper bound 1)`.
 */
export function atBounds(params: readonly FitParam[], values: readonly number[]): string[] {
  return params.flatMap((p, i) => {
    const v = values[i];
    const tol = AT_BOUND_SHARE * (p.hi - p.lo);
    const value = Number(v.toPrecision(4));
    if (v - p.lo <= tol) return [`${p.csv}=${value} (lower bound ${p.lo})`];
    if (p.hi - v <= tol) return [`${p.csv}=${value} (upper bound ${p.hi})`];
    return [];
  });
}

/** Distinct benchmark runs among rows: the rows of one setup and load (setupKey) share a run, so they are one observation of the setup's speed, not several. */
export function runCount(rows: readonly Measurement[]): number {
  return new Set(rows.map(setupKey)).size;
}

function profileRows(r: Omit<ProfileResult, 'efficiency'>, crossValidated: boolean): Efficiency[] {
  const { group, params, fit } = r;
  const fitted = new Set(params.map((p) => p.csv));
  const why = new Map(r.unfitted.map((u) => [u.param.csv, u.needs]));
  const held = FIT_PARAMS.filter((p) => !fitted.has(p.csv)).map((p) => {
    const needs = why.get(p.csv);
    return needs === undefined ? heldValue(p, group.base) : `${heldValue(p, group.base)} (asked for, but no row can inform it: it needs ${needs})`;
  });
  const runs = runCount(group.rows);
  const under = runs < params.length
    ? ` Underdetermined: ${count(runs, 'benchmark run')} (${count(group.rows.length, 'row')}) for ${params.length} fitted factors, so the factors trade off against one another and their values are not identified.`
    : '';
  const bounds = atBounds(params, fit.values);
  const atBound = bounds.length > 0 ? ` At a bound of the fit (a warning sign: the rows push it past its physical range): ${bounds.join(', ')}.` : '';
  const inSample = summarizeErrors(r.rows);
  const sources = [...new Set(group.rows.map((m) => m.source))];
  const how =
    `fleetsim calibrate: ${params.map((p) => p.csv).join(', ')} fitted jointly for every ${group.kind} of stack ${group.stack} ` +
    `(${group.silicon.join(', ')}) by bounded Nelder-Mead on the mean squared log error of ${group.rows.length} rows (${fit.evals} evaluations, loss ${fit.loss.toFixed(5)}); ` +
    `in-sample ${inSample.map((e) => `${e.metric} MAPE ${e.mapePct.toFixed(1)}%`).join(', ')}`;
  const assumption = `${held.length > 0 ? `Not fitted (held at the starting profile's values): ${held.join(', ')}.` : ''}${under}${atBound}`.trim();
  const make = (silicon: string, b: Band | null, bandFrom: string): Efficiency => {
    const e: Efficiency = {
      ...group.base,
      silicon,
      stack: group.stack,
      basis: 'fitted',
      fittedTo: describeRows(group.rows),
      ...cvFields(b),
      source: `${how}. Measurements: ${sources.join(' | ')}`,
      assumption: `${assumption} Error band (cv_*): ${bandFrom}.`.trim(),
    };
    // Four significant digits whatever the factor's scale: fixed decimals turned a fitted 0.0772
    // into 0.08, so the written row did not reproduce the fit (fresh-clone trial).
    params.forEach((p, i) => ((e as unknown as Record<string, number>)[p.key] = Number(fit.values[i].toPrecision(4))));
    return e;
  };
  return profileBands(group.kind, group.silicon, r.heldOut, crossValidated).map((b) => make(b.silicon, b.band, b.from));
}

/** One leave-one-group-out refit: the rows of `key` under `grouping` left out of the fit and predicted by it. */
export interface FoldSpec {
  grouping: Grouping;
  key: string;
}

/** Runs the folds of one profile and returns them in fold order (a worker pool may run them in parallel). */
export type FoldRunner = (group: ProfileGroup, params: readonly FitParam[], start: readonly number[], folds: readonly FoldSpec[], o: CalibrateOptions) => Promise<HeldOut[]>;

/**
 * Factors only some metrics see, and the value a fit whose rows have none of them gives the factor:
 * frontend_ms is client-side time in TTFT and end-to-end latency only, so without such a row it is
 * unidentified (a refit let it wander to 8-13 ms) and is taken as 0, the engine measured directly.
 */
export const SEEN_ONLY_BY: Readonly<Record<string, { row: (m: Measurement, group: ProfileGroup) => boolean; unseen: number }>> = {
  frontend_ms: { row: (m) => m.metric.startsWith('ttft_') || m.metric.startsWith('e2e_'), unseen: 0 },
  // Without a row whose GEMMs run below 16 bits the 8-bit share is unidentified: the fold gives it
  // none (NaN, an empty cell), so such GEMMs run at the fold's own gemm_eff, as with no measurement.
  gemm_eff_8bit: { row: lowBitRow, unseen: NaN },
  // Without a mixture-of-experts row the experts' curve is unidentified (the loss is flat in it, and
  // a refit moved it at random): the fold leaves it empty, so expert GEMMs follow the dense curve.
  moe_half_ridge: { row: (m, group) => group.moeRows.includes(rowId(m)), unseen: NaN },
};

/**
 * Fits the rows not in the fold, warm-started from `start` (the fit on every row), and predicts the
 * fold. A factor no training row sees ({@link SEEN_ONLY_BY}) is not fitted in the fold: it takes its unseen value.
 */
export function runFold(group: ProfileGroup, params: readonly FitParam[], start: readonly number[], fold: FoldSpec, o: CalibrateOptions): HeldOut {
  const train = group.rows.filter((m) => groupOf(m, fold.grouping) !== fold.key);
  const test = group.rows.filter((m) => groupOf(m, fold.grouping) === fold.key);
  const name = `${group.kind}/${group.stack}`;
  const unseen = params.map((p) => {
    const rule = SEEN_ONLY_BY[p.csv];
    return rule !== undefined && !train.some((m) => rule.row(m, group)) ? rule.unseen : undefined;
  });
  const free = params.filter((_, i) => unseen[i] === undefined);
  const label = `calibrate ${name} without ${fold.grouping} ${fold.key} (${train.length} rows)`;
  if (free.length === params.length) {
    const f = fitProfile(group, params, train, { ...o, maxEvals: o.foldMaxEvals ?? FOLD_MAX_EVALS }, label, start, FOLD_STEP);
    return { grouping: fold.grouping, key: fold.key, fit: f, rows: predict(group, params, f.values, test) };
  }
  // Fit the seen factors with the unseen ones fixed (a group whose base has them at their unseen value).
  const fixed: ProfileGroup = { ...group, base: { ...group.base } };
  params.forEach((p, i) => {
    if (unseen[i] !== undefined) (fixed.base as unknown as Record<string, number>)[p.key] = unseen[i]!;
  });
  const f = fitProfile(fixed, free, train, { ...o, maxEvals: o.foldMaxEvals ?? FOLD_MAX_EVALS }, label, start.filter((_, i) => unseen[i] === undefined), FOLD_STEP);
  let k = 0;
  const values = params.map((_, i) => (unseen[i] !== undefined ? unseen[i]! : f.values[k++]));
  const fit = { ...f, values };
  return { grouping: fold.grouping, key: fold.key, fit, rows: predict(group, params, values, test) };
}

export const runFoldsHere: FoldRunner = async (group, params, start, folds, o) => folds.map((fold) => runFold(group, params, start, fold, o));

/** Folds of a profile: every key of every grouping with two or more keys; a key whose rows equal an earlier fold's is that fold again. */
export function foldsOf(group: ProfileGroup): { folds: FoldSpec[]; same: Map<number, number> } {
  const folds: FoldSpec[] = [];
  const same = new Map<number, number>();
  const byRows = new Map<string, number>();
  for (const grouping of GROUPINGS) {
    const keys = [...new Set(group.rows.map((m) => groupOf(m, grouping)))].sort();
    if (keys.length < 2) continue;
    for (const key of keys) {
      const sig = group.rows.map((m) => (groupOf(m, grouping) === key ? '1' : '0')).join('');
      const earlier = byRows.get(sig);
      folds.push({ grouping, key });
      if (earlier !== undefined) same.set(folds.length - 1, earlier);
      else byRows.set(sig, folds.length - 1);
    }
  }
  return { folds, same };
}

/** What a rule of {@link INFORMED_BY} may consult about a row: its profile, the catalog, and the factors being fitted. */
export interface InformContext {
  group: ProfileGroup;
  catalog: Catalog;
  fitting: ReadonlySet<string>;
}

/** Which rows inform a factor that some rows miss, and what kind of row it needs (for the warning and the written assumption). */
export interface InformRule {
  row: (m: Measurement, c: InformContext) => boolean;
  needs: string;
}

/**
 * Factors that enter every row's step times (src/perf/roofline.ts: every row prefills and decodes,
 * so it runs GEMMs, streams weights, reads KV, runs attention and pays the per-iteration host time):
 * any row informs them. Every FIT_PARAMS factor is here or in {@link INFORMED_BY}, never both
 * (test/calibrate.test.ts), so a new factor cannot be fitted without saying which rows inform it.
 */
export const ENTERS_EVERY_ROW: readonly string[] = ['gemm_half_ridge', 'mem_eff', 'kv_read_eff', 'attn_eff', 'overhead_ms', 'overhead_per_seq_us'];

/** The factors some rows miss, by where each enters the step-time model ([formulas](docs/physics.md#formulas)). */
export const INFORMED_BY: Readonly<Record<string, InformRule>> = {
  frontend_ms: { row: (m) => m.metric.startsWith('ttft_') || m.metric.startsWith('e2e_'), needs: 'a TTFT or end-to-end latency row (client-side time is in no other metric)' },
  gemm_eff_8bit: { row: (m, c) => lowBitRow(m, c.group), needs: 'a row whose GEMMs run below 16 bits (e.g. fp8 on H100)' },
  gemm_eff: {
    row: (m, c) => !(c.fitting.has('gemm_eff_8bit') && lowBitRow(m, c.group)),
    needs: 'a row whose GEMMs run at 16 bits (gemm_eff_8bit is fitted for the others)',
  },
  comm_eff: {
    row: (m, c) => {
      const s = c.catalog.silicon.get(m.silicon);
      return m.tensorParallel > 1 && s !== undefined && Number.isFinite(s.interconnectGbps) && s.interconnectGbps > 0;
    },
    needs: 'a row with tensor_parallel > 1 on silicon with an interconnect (all-reduce traffic)',
  },
  comm_latency_us: { row: (m) => m.tensorParallel > 1, needs: 'a row with tensor_parallel > 1 (collective calls)' },
  moe_half_ridge: {
    row: (m, c) => {
      const model = c.catalog.models.get(m.model);
      return model !== undefined && model.experts > 1 && model.expertParamsB > 0;
    },
    needs: 'a row of a mixture-of-experts model',
  },
  moe_imbalance: { row: () => false, needs: 'experts spread over chips (expert parallelism), which a measurement row cannot state' },
};

/**
 * The factors of `params` that no row of the group can inform ({@link INFORMED_BY}): a factor
 * absent from every row's step times and latencies leaves the loss flat, so the optimiser would
 * move it at random and write the result as fitted.
 */
export function uninformed(group: ProfileGroup, params: readonly FitParam[], catalog: Catalog): Unfitted[] {
  const c: InformContext = { group, catalog, fitting: new Set(params.map((p) => p.csv)) };
  return params.flatMap((p) => {
    const rule = INFORMED_BY[p.csv];
    return rule !== undefined && !group.rows.some((m) => rule.row(m, c)) ? [{ param: p, needs: rule.needs }] : [];
  });
}

export async function calibrate(measurements: readonly Measurement[], catalog: Catalog, o: CalibrateOptions = {}, runFolds: FoldRunner = runFoldsHere): Promise<CalibrateResult> {
  const asked = fitParams(o.params ?? DEFAULT_FIT);
  const excluded = measurements.filter((m) => m.exclude !== '');
  const live = measurements.filter((m) => m.exclude === '');
  if (live.length === 0) throw new InputError('no measurement rows to fit (every row is excluded or the files are empty)');
  const profiles: ProfileResult[] = [];
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    o.onWarning?.(message);
  };
  for (const group of profileGroups(live, catalog)) {
    const name = `${group.kind}/${group.stack}`;
    const where = describeRows(group.rows);
    const unfitted = uninformed(group, asked, catalog);
    const params = asked.filter((p) => !unfitted.some((u) => u.param === p));
    if (params.length === 0) {
      throw new InputError(`profile ${name}: no row can inform any factor asked for (${unfitted.map((u) => `${u.param.csv} needs ${u.needs}`).join('; ')}): nothing to fit`, rowLocation(group.rows[0]));
    }
    for (const u of unfitted) {
      warn(`${where}: profile ${name}: ${u.param.csv} not fitted: no row can inform it (it needs ${u.needs}); kept at the starting profile's value (${heldValue(u.param, group.base)}) and written as not fitted`);
    }
    const runs = runCount(group.rows);
    if (runs < params.length) {
      warn(
        `${where}: profile ${name}: ${count(runs, 'benchmark run')} (${count(group.rows.length, 'row')}; the rows of one setup and load share a run) for ${params.length} factors: ` +
          'the fit is underdetermined (the factors trade off against one another, so their values are not identified); fit fewer (--params) or add runs',
      );
    }
    const fit = fitProfile(group, params, group.rows, o, `calibrate ${name} (all ${group.rows.length} rows)`);
    const bounds = atBounds(params, fit.values);
    if (bounds.length > 0) {
      warn(
        `${where}: profile ${name}: ${bounds.join(', ')}: ${bounds.length === 1 ? 'a factor' : 'factors'} at a bound of the fit, a warning sign (the rows push ` +
          `${bounds.length === 1 ? 'it' : 'them'} past the physical range, so ${bounds.length === 1 ? 'it stands' : 'they stand'} in for something the model lacks; docs/fidelity.md, What the fit says); recorded in the rows' assumption`,
      );
    }
    const rows = predict(group, params, fit.values, group.rows);
    let heldOut: HeldOut[] = [];
    if (o.crossValidate !== false) {
      const { folds, same } = foldsOf(group);
      const distinct = folds.filter((_, i) => !same.has(i));
      const done = await runFolds(group, params, fit.values, distinct, o);
      const byFold = new Map(distinct.map((f, i) => [f, done[i]]));
      heldOut = folds.map((f, i) => {
        const h = byFold.get(same.has(i) ? folds[same.get(i)!] : f)!;
        return { ...h, grouping: f.grouping, key: f.key };
      });
    }
    const partial = { group, params, unfitted, fit, rows, heldOut };
    profiles.push({ ...partial, efficiency: profileRows(partial, o.crossValidate !== false) });
  }
  return { profiles, excluded, crossValidated: o.crossValidate !== false, warnings };
}

export function fitParams(names: readonly string[]): FitParam[] {
  const params = names.map((n) => {
    const p = FIT_PARAMS.find((x) => x.csv === n);
    // The factors are the efficiency columns, so a renamed column is a renamed factor (9ded772).
    if (!p && RENAMED_COLUMNS[n] !== undefined) throw new InputError(`--params: factor "${n}" was renamed: ${RENAMED_COLUMNS[n]}`);
    if (!p) throw new InputError(`--params: unknown factor "${n}" (expected some of ${FIT_PARAMS.map((x) => x.csv).join(', ')})`);
    return p;
  });
  if (params.length === 0) throw new InputError('--params: expected at least one factor to fit');
  return params;
}

/** Per grouping and held-out key, the error of the rows left out, by metric. */
export function cvTable(profile: ProfileResult): { grouping: Grouping; key: string; errors: MetricError[] }[] {
  return profile.heldOut.map((h) => ({ grouping: h.grouping, key: h.key, errors: summarizeErrors(h.rows) }));
}

/** Pooled over every key of a grouping: each row predicted by the fit that left its group out. */
export function cvPooled(profile: ProfileResult): { grouping: Grouping; errors: MetricError[] }[] {
  return GROUPINGS.filter((g) => profile.heldOut.some((h) => h.grouping === g)).map((g) => ({
    grouping: g,
    errors: summarizeErrors(profile.heldOut.filter((h) => h.grouping === g).flatMap((h) => h.rows)),
  }));
}

export { rowName };
