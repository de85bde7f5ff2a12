/**
 * The built-in catalog (data/*.csv): silicon, models, list prices and efficiency factors.
 * Every row carries `source` and/or `assumption`; the provenance travels with the record so
 * reports can say which figures a run leaned on that are assumptions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decimal, parseCsv } from '../csv-read.js';
import { InputError } from '../errors.js';
import { packageRoot } from '../version.js';
import { cachedTable, type CachedTable } from './cache.js';

export interface Provenance {
  source: string;
  assumption: string;
}

export interface Silicon extends Provenance {
  id: string;
  name: string;
  vendor: string;
  kind: 'gpu' | 'accelerator' | 'cpu';
  memoryGb: number;
  memBwGbps: number;
  bf16Tflops: number;
  /** NaN where the chip has no such datapath. */
  fp8Tflops: number;
  int8Tops: number;
  fp4Tflops: number;
  interconnectGbps: number;
  collectiveLatencyUs: number;
  maxTp: number;
  tdpW: number;
  idleW: number;
  usdPerChipHour: number;
  capexUsd: number;
  lifetimeYears: number;
}

export interface Model extends Provenance {
  id: string;
  name: string;
  vendor: string;
  paramsB: number;
  activeParamsB: number;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  experts: number;
  expertsPerToken: number;
  /** Parameters (billions) held in routed expert FFNs, summed over all experts; 0 for dense models. Shared experts are not in it. */
  expertParamsB: number;
  maxContext: number;
  /**
   * `gqa` (or empty: multi-head / grouped-query attention, KV = 2 × kv_heads × head_dim per layer) or
   * `mla` (multi-head latent attention: one latent of kv_lora_rank + qk_rope_head_dim per layer).
   */
  attention: string;
  /** MLA: rank of the compressed KV latent (NaN unless attention is mla). */
  kvLoraRank: number;
  /** MLA: the decoupled RoPE key dimension cached beside the latent (NaN unless attention is mla). */
  qkRopeHeadDim: number;
  /** Layers whose FFN is routed experts (NaN: all of them when experts > 1). */
  moeLayers: number;
  /** Always-active shared experts per MoE layer; their parameters are in the dense part (NaN: none stated). */
  sharedExperts: number;
  /** Sliding-window attention: keys each query of a sliding layer sees (NaN: no sliding layers). */
  slidingWindow: number;
  /** How many of `layers` use sliding-window attention (NaN: none); the rest attend to the whole context. */
  slidingLayers: number;
  /**
   * Tokenizer vocabulary (config.json vocab_size; NaN: not given). The input embedding and the LM head
   * are vocab_size × hidden each (untied in every model that gives it); quantised checkpoints keep both in 16 bits.
   */
  vocabSize: number;
}

export interface Price extends Provenance {
  model: string;
  inputUsdPerMtok: number;
  outputUsdPerMtok: number;
  cachedInputUsdPerMtok: number;
  vendorShare: number;
}

/**
 * The factors of the step-time terms (src/perf/roofline.ts, docs/physics.md), one row per silicon.
 * Fractions are of the chip's datasheet peak; the ranges are what the loader accepts.
 */
export interface Efficiency extends Provenance {
  /** A silicon id of silicon.csv, or a kind (`gpu`, `accelerator`, `cpu`): the profile of that kind's chips without their own row. */
  silicon: string;
  /** Serving software the factors hold for: a family (`trtllm`, `vllm`) or `generic` (stack not named). */
  stack: string;
  /** `fitted` (by `fleetsim calibrate`, to the measurements `fittedTo` names) or `assumed`. */
  basis: 'fitted' | 'assumed';
  /** Which measurements the factors were fitted to (files and rows); empty when assumed. */
  fittedTo: string;
  /** Cross-validated error band of this profile's predictions (leave-one-group-out; NaN when none). */
  cvRows: number;
  cvMapePct: number;
  /** 10th and 90th percentile of the signed error (predicted − measured) / measured, in %. */
  cvErrP10Pct: number;
  cvErrP90Pct: number;
  /** Share of peak FLOPs large GEMMs reach (0–1]. */
  gemmEff: number;
  /**
   * Share of the peak large GEMMs reach when they run on a datapath narrower than 16 bits (FP8,
   * INT8, MX9, 4-bit formats: the silicon's fp8/int8/fp4 column) (0–1]; NaN when not given: gemmEff.
   */
  gemmEff8bit: number;
  /** Tokens per iteration at which a GEMM reaches half of gemmEff (>= 0). */
  gemmHalfRidge: number;
  /** Share of memory bandwidth weight streaming reaches (0–1]. */
  memEff: number;
  /** Share of memory bandwidth decode attention reaches reading the KV cache (0–1]. */
  kvReadEff: number;
  /** Share of peak FLOPs attention kernels reach (0–1]. */
  attnEff: number;
  /** Tokens per expert at which a grouped expert GEMM reaches half of gemmEff (>= 0). */
  moeHalfRidge: number;
  /** Busiest expert-parallel chip's expert work over the mean (>= 1; expert parallel only). */
  moeImbalance: number;
  /** Share of link bandwidth collectives reach (0–1]. */
  commEff: number;
  /** Fixed time of one collective call (µs); NaN when not given: the silicon's collective_latency_us. */
  commLatencyUs: number;
  /** Host time per iteration, fixed part (ms). */
  overheadMs: number;
  /** Host time per iteration per decoding sequence (µs). */
  overheadPerSeqUs: number;
  /**
   * Client-side time outside the engine per request (ms): the API server's request handling and
   * tokenising, and the first token's way back, which TTFT and end-to-end latency measured at the
   * client include and the GPU never sees. 0 when empty (an engine measured directly).
   */
  frontendMs: number;
}

/**
 * How a serving stack sizes its KV cache (data/stacks.csv, docs/physics.md#kv-cache-memory): the
 * deployment's `kv_fraction` is a share of all device memory (`total`: vLLM's
 * gpu_memory_utilization, weights included) or of the memory left free once the engine has loaded
 * its weights and activation buffers (`free`: TensorRT-LLM's kv_cache_free_gpu_mem_fraction).
 */
export interface Stack extends Provenance {
  /** A stack family (`trtllm`, `vllm`) or `generic`. */
  stack: string;
  kvMemory: 'total' | 'free';
  /** `free` only: memory per chip the engine never sees or holds outside weights and activations (CUDA context, driver, workspaces), GiB. */
  reservedGbPerChip: number;
  /** `free` only: activation bytes per token of max_num_tokens, as a multiple of 2 · hidden (one fp16 hidden vector). */
  activationHiddenMultiple: number;
  /** Silicon vendors (silicon.csv `vendor`, `;`-separated) the stack runs on; empty: any. */
  siliconVendors: string;
}

export interface Catalog {
  silicon: Map<string, Silicon>;
  models: Map<string, Model>;
  prices: Map<string, Price>;
  efficiency: Map<string, Efficiency>;
  stacks: Map<string, Stack>;
}

export type RawRow = Record<string, string | number>;

/**
 * The package root (works from src/ and dist/src/); defined in src/version.ts, which the CLI loads
 * at start-up without the catalog.
 */
export { packageRoot };

/** What a numeric column accepts: every catalog figure is non-negative, most strictly positive. */
interface Range {
  /** Smallest value allowed; `positive` excludes it. */
  min: number;
  positive?: boolean;
  max?: number;
  integer?: boolean;
  /** Appended to the out-of-range message: the likely mistake behind such a value. */
  hint?: string;
}

interface Column<T> {
  key: keyof T & string;
  csv: string;
  type: 'text' | 'number' | 'optional-number';
  range?: Range;
}

const NON_NEGATIVE: Range = { min: 0 };
const POSITIVE: Range = { min: 0, positive: true };
const COUNT: Range = { min: 1, integer: true };
const SHARE: Range = { min: 0, max: 1 };
const EFFICIENCY: Range = { min: 0, positive: true, max: 1 };
/**
 * A GEMM curve's half point as a share of the chip's ridge point: calibrate fits it within 0-2.56
 * (src/fidelity/calibrate.ts). Until 9ded772 the column was in tokens (gemm_half_tokens, tens of
 * them), and a row carried over with its old value would slow every small batch tenfold, silently.
 */
export const HALF_RIDGE_MAX = 2.56;
const HALF_RIDGE: Range = {
  min: 0,
  max: HALF_RIDGE_MAX,
  hint: "a share of the chip's ridge point, not tokens: divide a value in tokens by the ridge, 153 on A100 FP16 and 295 on H100 (docs/physics.md)",
};

const text = <T>(key: keyof T & string, csv: string): Column<T> => ({ key, csv, type: 'text' });
const num = <T>(key: keyof T & string, csv: string, range: Range = NON_NEGATIVE): Column<T> => ({ key, csv, type: 'number', range });
const optNum = <T>(key: keyof T & string, csv: string, range: Range = NON_NEGATIVE): Column<T> => ({
  key,
  csv,
  type: 'optional-number',
  range,
});

function describeRange(r: Range): string {
  const kind = r.integer ? 'an integer' : 'a number';
  if (r.max !== undefined) return r.positive ? `${kind} above ${r.min} and at most ${r.max}` : `${kind} from ${r.min} to ${r.max}`;
  return r.positive ? `${kind} above ${r.min}` : `${kind} of at least ${r.min}`;
}

function inRange(x: number, r: Range): boolean {
  if (r.integer && !Number.isInteger(x)) return false;
  if (r.positive ? x <= r.min : x < r.min) return false;
  return r.max === undefined || x <= r.max;
}

const provenance = <T extends Provenance>(): Column<T>[] => [
  text<T>('source', 'source'),
  text<T>('assumption', 'assumption'),
];

const SILICON_COLUMNS: Column<Silicon>[] = [
  text('id', 'id'), text('name', 'name'), text('vendor', 'vendor'), text('kind', 'kind'),
  num('memoryGb', 'memory_gb', POSITIVE), num('memBwGbps', 'mem_bw_gbps', POSITIVE), num('bf16Tflops', 'bf16_tflops', POSITIVE),
  optNum('fp8Tflops', 'fp8_tflops'), optNum('int8Tops', 'int8_tops'), optNum('fp4Tflops', 'fp4_tflops'),
  optNum('interconnectGbps', 'interconnect_gbps'), optNum('collectiveLatencyUs', 'collective_latency_us'),
  num('maxTp', 'max_tp', COUNT), num('tdpW', 'tdp_w'), num('idleW', 'idle_w'),
  num('usdPerChipHour', 'usd_per_chip_hour'), optNum('capexUsd', 'capex_usd'), optNum('lifetimeYears', 'lifetime_years', POSITIVE),
  ...provenance<Silicon>(),
];

const MODEL_COLUMNS: Column<Model>[] = [
  text('id', 'id'), text('name', 'name'), text('vendor', 'vendor'),
  num('paramsB', 'params_b', POSITIVE), num('activeParamsB', 'active_params_b', POSITIVE), num('layers', 'layers', COUNT),
  num('hidden', 'hidden', COUNT), num('heads', 'heads', COUNT), num('kvHeads', 'kv_heads', COUNT), num('headDim', 'head_dim', COUNT),
  num('experts', 'experts', COUNT), num('expertsPerToken', 'experts_per_token', COUNT), num('expertParamsB', 'expert_params_b'),
  num('maxContext', 'max_context', COUNT),
  ...provenance<Model>(),
  // Optional, after provenance so rows written before they existed still read the same.
  text('attention', 'attention'), optNum('kvLoraRank', 'kv_lora_rank', COUNT), optNum('qkRopeHeadDim', 'qk_rope_head_dim', COUNT),
  optNum('moeLayers', 'moe_layers', COUNT), optNum('sharedExperts', 'shared_experts'),
  optNum('slidingWindow', 'sliding_window', COUNT), optNum('slidingLayers', 'sliding_layers', COUNT),
  optNum('vocabSize', 'vocab_size', COUNT),
];

const PRICE_COLUMNS: Column<Price>[] = [
  text('model', 'model'), num('inputUsdPerMtok', 'input_usd_per_mtok'), num('outputUsdPerMtok', 'output_usd_per_mtok'),
  optNum('cachedInputUsdPerMtok', 'cached_input_usd_per_mtok'), num('vendorShare', 'vendor_share', SHARE),
  ...provenance<Price>(),
];

const SIGNED_PCT: Range = { min: -100, positive: true };

const EFFICIENCY_COLUMNS: Column<Efficiency>[] = [
  text('silicon', 'silicon'), text('stack', 'stack'), text('basis', 'basis'),
  num('gemmEff', 'gemm_eff', EFFICIENCY), num('gemmHalfRidge', 'gemm_half_ridge', HALF_RIDGE), num('memEff', 'mem_eff', EFFICIENCY),
  num('kvReadEff', 'kv_read_eff', EFFICIENCY), num('attnEff', 'attn_eff', EFFICIENCY), optNum('moeHalfRidge', 'moe_half_ridge', HALF_RIDGE),
  num('moeImbalance', 'moe_imbalance', { min: 1 }), num('commEff', 'comm_eff', EFFICIENCY),
  num('overheadMs', 'overhead_ms'), num('overheadPerSeqUs', 'overhead_per_seq_us'), optNum('frontendMs', 'frontend_ms'),
  optNum('gemmEff8bit', 'gemm_eff_8bit', EFFICIENCY), optNum('commLatencyUs', 'comm_latency_us'),
  text('fittedTo', 'fitted_to'), optNum('cvRows', 'cv_rows', COUNT), optNum('cvMapePct', 'cv_mape_pct'),
  optNum('cvErrP10Pct', 'cv_err_p10_pct', SIGNED_PCT), optNum('cvErrP90Pct', 'cv_err_p90_pct', SIGNED_PCT),
  ...provenance<Efficiency>(),
];

const STACK_COLUMNS: Column<Stack>[] = [
  text('stack', 'stack'), text('kvMemory', 'kv_memory'), optNum('reservedGbPerChip', 'reserved_gb_per_chip'),
  optNum('activationHiddenMultiple', 'activation_hidden_multiple'), ...provenance<Stack>(),
  text('siliconVendors', 'silicon_vendors'),
];

/** Raises an input error about one column of a row (null: the whole row). */
type Fail = (column: string | null, message: string) => never;

function toRecord<T>(row: RawRow, columns: Column<T>[], fail: Fail): T {
  const out: Record<string, string | number> = {};
  for (const c of columns) {
    const raw = row[c.csv];
    const cell = raw === undefined ? '' : String(raw).trim();
    if (c.type === 'text') {
      out[c.key] = cell;
      continue;
    }
    if (cell === '') {
      if (c.type === 'number') fail(c.csv, 'expected a number, got an empty cell');
      out[c.key] = NaN;
      continue;
    }
    const value = decimal(cell);
    const range = c.range ?? NON_NEGATIVE;
    if (!Number.isFinite(value) || !inRange(value, range)) fail(c.csv, `expected ${describeRange(range)}, got "${cell}"${range.hint ? ` (${range.hint})` : ''}`);
    out[c.key] = value;
  }
  if (!out.source && !out.assumption) fail(null, 'every catalog row needs a source or an assumption');
  return out as T;
}

/** The map key of a row, from its CSV cells (raw scenario rows and parsed records alike). */
type KeyOf = (cell: (csv: string) => string) => string;

const byColumn = (csv: string): KeyOf => (cell) => cell(csv);

/** Stack of an efficiency row: empty means `generic`. */
export const GENERIC_STACK = 'generic';

/**
 * Map key of the efficiency profile of (silicon or kind, stack): the bare id for the generic stack,
 * so `catalog.efficiency.get('h100-sxm')` is the profile a deployment without `stack:` starts from.
 */
export function efficiencyKey(silicon: string, stack: string): string {
  return stack === '' || stack === GENERIC_STACK ? silicon : `${silicon}@${stack}`;
}

const efficiencyKeyOf: KeyOf = (cell) => efficiencyKey(cell('silicon'), cell('stack'));

const cellOf = <T>(rec: T, columns: Column<T>[]) => (csv: string) => String(rec[columns.find((c) => c.csv === csv)!.key] ?? '');

function checkStack(st: Stack, fail: Fail): void {
  if ((st.kvMemory as string) === '') st.kvMemory = 'total';
  if (st.kvMemory !== 'total' && st.kvMemory !== 'free') fail('kv_memory', `expected total or free, got "${st.kvMemory}"`);
  if (Number.isNaN(st.reservedGbPerChip)) st.reservedGbPerChip = 0;
  if (Number.isNaN(st.activationHiddenMultiple)) st.activationHiddenMultiple = 0;
}

/** Figures an efficiency row must hold beyond their ranges: a basis, and a stack (empty = generic). */
function checkEfficiency(e: Efficiency, fail: Fail): void {
  if (e.stack === '') e.stack = GENERIC_STACK;
  if (Number.isNaN(e.frontendMs)) e.frontendMs = 0;
  if ((e.basis as string) === '') e.basis = 'assumed';
  if (e.basis !== 'fitted' && e.basis !== 'assumed') fail('basis', `expected fitted or assumed, got "${e.basis}"`);
  if (e.basis === 'fitted' && e.fittedTo === '') fail('fitted_to', 'a fitted profile must say which measurements it was fitted to');
}

function readTable<T>(file: string, columns: Column<T>[], keyOf: KeyOf, check?: (rec: T, fail: Fail) => void): Map<string, T> {
  let rows: RawRow[];
  try {
    rows = parseCsv<RawRow[]>(readFileSync(file), { columns: true, skip_empty_lines: true });
  } catch (err) {
    throw new InputError(`cannot read catalog table: ${(err as Error).message}`, { file });
  }
  const map = new Map<string, T>();
  rows.forEach((row, i) => {
    const fail: Fail = (column, message) => {
      throw new InputError(column ? `${column}: ${message}` : message, { file, line: i + 2 });
    };
    const rec = toRecord(row, columns, fail);
    check?.(rec, fail);
    const key = keyOf(cellOf(rec, columns));
    if (map.has(key)) fail(null, `duplicate row for ${key}`);
    map.set(key, rec);
  });
  return map;
}

/** Locates a field of the scenario file for an error message (file, line, column, path). */
export type Locate = (path: (string | number)[], message: string) => InputError;

/** Catalog columns renamed since a release, with what a file written for the old name must do (CHANGELOG). */
export const RENAMED_COLUMNS: Record<string, string> = {
  gemm_half_tokens: "gemm_half_ridge, a share of the chip's ridge point instead of tokens (the old value / the ridge in tokens, 153 on A100 FP16 and 295 on H100; docs/physics.md)",
  moe_half_tokens: "moe_half_ridge, a share of the chip's ridge point instead of tokens per expert (docs/physics.md)",
};

/** Merge scenario rows over the built-in ones: a known id keeps its fields unless given; a new id must give all. */
function overlay<T extends Provenance>(
  base: Map<string, T>,
  rows: RawRow[] | undefined,
  columns: Column<T>[],
  keyOf: KeyOf,
  table: string,
  locate: Locate,
  check?: (rec: T, fail: Fail) => void,
): void {
  if (!rows) return;
  const keyCsv = columns[0].csv;
  rows.forEach((row, i) => {
    const path = ['catalog', table, i];
    for (const k of Object.keys(row)) {
      if (!columns.some((c) => c.csv === k)) {
        const renamed = RENAMED_COLUMNS[k];
        if (renamed !== undefined) throw locate([...path, k], `catalog column "${k}" was renamed: ${renamed}`);
        throw locate([...path, k], `unknown catalog column "${k}" (expected one of ${columns.map((c) => c.csv).join(', ')})`);
      }
    }
    if (String(row[keyCsv] ?? '') === '') throw locate(path, `missing "${keyCsv}"`);
    const key = keyOf((csv) => String(row[csv] ?? '').trim());
    const existing = base.get(key);
    const merged: RawRow = {};
    if (existing) {
      for (const c of columns) {
        const v = existing[c.key] as unknown as string | number;
        merged[c.csv] = typeof v === 'number' && Number.isNaN(v) ? '' : v;
      }
      // Overridden figures are the scenario author's: their provenance replaces the catalog's.
      if (row.source === undefined && row.assumption === undefined) {
        merged.source = '';
        merged.assumption = 'overridden in the scenario file';
        // An edited profile is no longer the one that was fitted and cross-validated.
        if ('basis' in merged && row.basis === undefined) {
          merged.basis = 'assumed';
          merged.fitted_to = '';
          for (const c of ['cv_rows', 'cv_mape_pct', 'cv_err_p10_pct', 'cv_err_p90_pct']) merged[c] = '';
        }
      }
    }
    Object.assign(merged, row);
    const fail: Fail = (column, message) => {
      throw locate(column ? [...path, column] : path, message);
    };
    const rec = toRecord(merged, columns, fail);
    check?.(rec, fail);
    base.set(key, rec);
  });
}

/** How a deployment's efficiency profile was found (run.json `perf_basis`, docs/fidelity.md#profiles). */
export interface ResolvedEfficiency {
  efficiency: Efficiency;
  /** `calibrated`: a row of this silicon fitted to measurements; `kind-default`: its kind's profile or an assumed row. */
  basis: 'calibrated' | 'kind-default';
  /** The stack asked for, and whether its family or `generic` had to stand in. */
  stackRequested: string;
  stackFallback: boolean;
}

/** `trtllm-0.17` → `trtllm`: measurements name versions, profiles are kept per family. */
export function stackFamily(stack: string): string {
  const dash = stack.indexOf('-');
  return dash > 0 ? stack.slice(0, dash) : stack;
}

/** Every stack a data file names: data/stacks.csv's rows and data/efficiency.csv's stack column. */
export function knownStacks(catalog: Catalog): Set<string> {
  const known = new Set<string>(catalog.stacks.keys());
  for (const e of catalog.efficiency.values()) known.add(e.stack);
  return known;
}

/** Whether a data file names the stack or its family (generic always): else a typo, probably. */
export function isKnownStack(known: ReadonlySet<string>, stack: string): boolean {
  return stack === GENERIC_STACK || known.has(stack) || known.has(stackFamily(stack));
}

/** KV sizing of a stack: its own row, its family's, generic's; `total` with no reserve when none has one. */
export function resolveStack(catalog: Catalog, stack: string = GENERIC_STACK): Stack {
  for (const st of [stack, stackFamily(stack), GENERIC_STACK]) {
    const row = catalog.stacks.get(st);
    if (row) return row;
  }
  return { stack: GENERIC_STACK, kvMemory: 'total', reservedGbPerChip: 0, activationHiddenMultiple: 0, source: '', assumption: 'no stacks.csv row', siliconVendors: '' };
}

/**
 * The profile of (silicon, stack): the silicon's own row for the stack, its family or generic, in
 * that order, else its kind's (`gpu`, `accelerator`, `cpu`) likewise. null when there is none.
 */
export function resolveEfficiency(catalog: Catalog, silicon: Silicon, stack: string = GENERIC_STACK): ResolvedEfficiency | null {
  const stacks = [...new Set([stack, stackFamily(stack), GENERIC_STACK])];
  for (const owner of [silicon.id, silicon.kind]) {
    for (const st of stacks) {
      const e = catalog.efficiency.get(efficiencyKey(owner, st));
      if (!e) continue;
      const own = owner === silicon.id && e.basis === 'fitted';
      return { efficiency: e, basis: own ? 'calibrated' : 'kind-default', stackRequested: stack, stackFallback: st !== stack && st !== stackFamily(stack) };
    }
  }
  return null;
}

export interface CatalogOverrides {
  silicon?: RawRow[];
  models?: RawRow[];
  prices?: RawRow[];
  efficiency?: RawRow[];
}

/** Loads data/*.csv, then applies a scenario's overrides (`catalog:` section), located by `locate`. */
let builtIn: Catalog | null = null;

/** Where the build writes the parsed built-in tables (src/catalog/cache.ts). */
export const tableCacheFile = () => join(packageRoot(), 'dist', 'catalog-cache.json');

/** data/NAME.csv as a map: from the build's cache when it was made from these very bytes, else parsed. */
export function builtInTable<T>(dataDir: string, table: CachedTable, parse: (file: string) => Map<string, T>): Map<string, T> {
  return cachedTable<T>(tableCacheFile(), dataDir, table) ?? parse(join(dataDir, `${table}.csv`));
}

/** data/*.csv parsed and checked, row by row (the build's cache is made from this). */
export function parseBuiltInCatalog(dataDir: string, parse = false): Catalog {
  const table = <T>(name: CachedTable, read: (file: string) => Map<string, T>) =>
    parse ? read(join(dataDir, `${name}.csv`)) : builtInTable(dataDir, name, read);
  return {
    silicon: table('silicon', (f) => readTable(f, SILICON_COLUMNS, byColumn('id'))),
    models: table('models', (f) => readTable(f, MODEL_COLUMNS, byColumn('id'))),
    prices: table('prices', (f) => readTable(f, PRICE_COLUMNS, byColumn('model'))),
    efficiency: table('efficiency', (f) => readTable(f, EFFICIENCY_COLUMNS, efficiencyKeyOf, checkEfficiency)),
    stacks: table('stacks', (f) => readTable(f, STACK_COLUMNS, byColumn('stack'), checkStack)),
  };
}

/** data/*.csv, read once per process: sweeps and plans resolve the scenario once per point. */
function builtInCatalog(dataDir: string): Catalog {
  builtIn ??= parseBuiltInCatalog(dataDir);
  return builtIn;
}

export function loadCatalog(overrides?: CatalogOverrides, locate?: Locate): Catalog {
  const dataDir = join(packageRoot(), 'data');
  const base = builtInCatalog(dataDir);
  // Fresh maps over shared, never-mutated records: overrides replace records, they do not edit them.
  const catalog: Catalog = {
    silicon: new Map(base.silicon),
    models: new Map(base.models),
    prices: new Map(base.prices),
    efficiency: new Map(base.efficiency),
    stacks: base.stacks,
  };
  if (overrides) {
    const at: Locate = locate ?? ((path, message) => new InputError(message, { path: path.join('.') }));
    overlay(catalog.silicon, overrides.silicon, SILICON_COLUMNS, byColumn('id'), 'silicon', at);
    overlay(catalog.models, overrides.models, MODEL_COLUMNS, byColumn('id'), 'models', at);
    overlay(catalog.prices, overrides.prices, PRICE_COLUMNS, byColumn('model'), 'prices', at);
    overlay(catalog.efficiency, overrides.efficiency, EFFICIENCY_COLUMNS, efficiencyKeyOf, 'efficiency', at, checkEfficiency);
  }
  // Figures that only make sense together; a row that breaks them would simulate nonsense.
  const where = (table: string) => ({ file: join(dataDir, table) });
  for (const s of catalog.silicon.values()) {
    if (s.kind !== 'gpu' && s.kind !== 'accelerator' && s.kind !== 'cpu') {
      throw new InputError(`silicon ${s.id}: kind must be gpu, accelerator or cpu, got "${s.kind}"`, where('silicon.csv'));
    }
    if (s.idleW > s.tdpW) throw new InputError(`silicon ${s.id}: idle_w (${s.idleW}) exceeds tdp_w (${s.tdpW})`, where('silicon.csv'));
  }
  for (const m of catalog.models.values()) {
    if (m.activeParamsB > m.paramsB || m.expertParamsB >= m.paramsB || m.expertsPerToken > m.experts) {
      throw new InputError(
        `model ${m.id}: expected active_params_b <= params_b, expert_params_b < params_b and experts_per_token <= experts`,
        where('models.csv'),
      );
    }
    const mla = m.attention === 'mla';
    if (!mla && m.attention !== '' && m.attention !== 'gqa') {
      throw new InputError(`model ${m.id}: attention must be gqa or mla (empty: gqa), got "${m.attention}"`, where('models.csv'));
    }
    if (mla !== Number.isFinite(m.kvLoraRank) || mla !== Number.isFinite(m.qkRopeHeadDim)) {
      throw new InputError(
        `model ${m.id}: kv_lora_rank and qk_rope_head_dim are required with attention mla and only with it`,
        where('models.csv'),
      );
    }
    const sliding = Number.isFinite(m.slidingLayers);
    if (sliding !== Number.isFinite(m.slidingWindow) || (sliding && (m.slidingLayers >= m.layers || mla))) {
      throw new InputError(
        `model ${m.id}: sliding_window and sliding_layers go together, with sliding_layers below layers (${m.layers}) and attention not mla`,
        where('models.csv'),
      );
    }
    if (Number.isFinite(m.moeLayers) && (m.experts === 1 || m.moeLayers > m.layers)) {
      throw new InputError(`model ${m.id}: moe_layers needs experts > 1 and at most layers (${m.layers})`, where('models.csv'));
    }
  }
  return catalog;
}
