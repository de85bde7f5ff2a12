/**
 * The built-in catalog (data/*.csv): silicon, models, list prices and efficiency factors.
 * Every row carries `source` and/or `assumption`; the provenance travels with the record so
 * reports can say which figures a run leaned on that are assumptions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError } from '../errors.js';
import { packageRoot } from '../version.js';

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
  /** Parameters (billions) held in expert FFNs, summed over all experts; 0 for dense models. */
  expertParamsB: number;
  maxContext: number;
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
  silicon: string;
  /** Share of peak FLOPs large GEMMs reach (0–1]. */
  gemmEff: number;
  /** Tokens per iteration at which a GEMM reaches half of gemmEff (>= 0). */
  gemmHalfTokens: number;
  /** Share of memory bandwidth weight streaming reaches (0–1]. */
  memEff: number;
  /** Share of memory bandwidth decode attention reaches reading the KV cache (0–1]. */
  kvReadEff: number;
  /** Share of peak FLOPs attention kernels reach (0–1]. */
  attnEff: number;
  /** Tokens per expert at which a grouped expert GEMM reaches half of gemmEff (>= 0). */
  moeHalfTokens: number;
  /** Busiest expert-parallel chip's expert work over the mean (>= 1; expert parallel only). */
  moeImbalance: number;
  /** Share of link bandwidth collectives reach (0–1]. */
  commEff: number;
  /** Host time per iteration, fixed part (ms). */
  overheadMs: number;
  /** Host time per iteration per decoding sequence (µs). */
  overheadPerSeqUs: number;
}

export interface Catalog {
  silicon: Map<string, Silicon>;
  models: Map<string, Model>;
  prices: Map<string, Price>;
  efficiency: Map<string, Efficiency>;
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
  if (r.max !== undefined) return `${kind} ${r.positive ? 'above' : 'from'} ${r.min} to ${r.max}`;
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
];

const PRICE_COLUMNS: Column<Price>[] = [
  text('model', 'model'), num('inputUsdPerMtok', 'input_usd_per_mtok'), num('outputUsdPerMtok', 'output_usd_per_mtok'),
  optNum('cachedInputUsdPerMtok', 'cached_input_usd_per_mtok'), num('vendorShare', 'vendor_share', SHARE),
  ...provenance<Price>(),
];

const EFFICIENCY_COLUMNS: Column<Efficiency>[] = [
  text('silicon', 'silicon'),
  num('gemmEff', 'gemm_eff', EFFICIENCY), num('gemmHalfTokens', 'gemm_half_tokens'), num('memEff', 'mem_eff', EFFICIENCY),
  num('kvReadEff', 'kv_read_eff', EFFICIENCY), num('attnEff', 'attn_eff', EFFICIENCY), num('moeHalfTokens', 'moe_half_tokens'),
  num('moeImbalance', 'moe_imbalance', { min: 1 }), num('commEff', 'comm_eff', EFFICIENCY),
  num('overheadMs', 'overhead_ms'), num('overheadPerSeqUs', 'overhead_per_seq_us'),
  ...provenance<Efficiency>(),
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
    const value = Number(cell);
    const range = c.range ?? NON_NEGATIVE;
    if (!Number.isFinite(value) || !inRange(value, range)) fail(c.csv, `expected ${describeRange(range)}, got "${cell}"`);
    out[c.key] = value;
  }
  if (!out.source && !out.assumption) fail(null, 'every catalog row needs a source or an assumption');
  return out as T;
}

function readTable<T>(file: string, columns: Column<T>[], keyColumn: keyof T & string): Map<string, T> {
  let rows: RawRow[];
  try {
    rows = parse(readFileSync(file), { columns: true, skip_empty_lines: true }) as RawRow[];
  } catch (err) {
    throw new InputError(`cannot read catalog table: ${(err as Error).message}`, { file });
  }
  const map = new Map<string, T>();
  rows.forEach((row, i) => {
    const rec = toRecord(row, columns, (column, message) => {
      throw new InputError(column ? `${column}: ${message}` : message, { file, line: i + 2 });
    });
    map.set(String(rec[keyColumn]), rec);
  });
  return map;
}

/** Locates a field of the scenario file for an error message (file, line, column, path). */
export type Locate = (path: (string | number)[], message: string) => InputError;

/** Merge scenario rows over the built-in ones: a known id keeps its fields unless given; a new id must give all. */
function overlay<T extends Provenance>(
  base: Map<string, T>,
  rows: RawRow[] | undefined,
  columns: Column<T>[],
  keyColumn: keyof T & string,
  table: string,
  locate: Locate,
): void {
  if (!rows) return;
  const keyCsv = columns.find((c) => c.key === keyColumn)!.csv;
  rows.forEach((row, i) => {
    const path = ['catalog', table, i];
    for (const k of Object.keys(row)) {
      if (!columns.some((c) => c.csv === k)) {
        throw locate([...path, k], `unknown catalog column "${k}" (expected one of ${columns.map((c) => c.csv).join(', ')})`);
      }
    }
    const key = String(row[keyCsv] ?? '');
    if (!key) throw locate(path, `missing "${keyCsv}"`);
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
      }
    }
    Object.assign(merged, row);
    base.set(
      key,
      toRecord(merged, columns, (column, message) => {
        throw locate(column ? [...path, column] : path, message);
      }),
    );
  });
}

export interface CatalogOverrides {
  silicon?: RawRow[];
  models?: RawRow[];
  prices?: RawRow[];
  efficiency?: RawRow[];
}

/** Loads data/*.csv, then applies a scenario's overrides (`catalog:` section), located by `locate`. */
let builtIn: Catalog | null = null;

/** data/*.csv, parsed once per process: sweeps and plans resolve the scenario once per point. */
function builtInCatalog(dataDir: string): Catalog {
  builtIn ??= {
    silicon: readTable(join(dataDir, 'silicon.csv'), SILICON_COLUMNS, 'id'),
    models: readTable(join(dataDir, 'models.csv'), MODEL_COLUMNS, 'id'),
    prices: readTable(join(dataDir, 'prices.csv'), PRICE_COLUMNS, 'model'),
    efficiency: readTable(join(dataDir, 'efficiency.csv'), EFFICIENCY_COLUMNS, 'silicon'),
  };
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
  };
  if (overrides) {
    const at: Locate = locate ?? ((path, message) => new InputError(message, { path: path.join('.') }));
    overlay(catalog.silicon, overrides.silicon, SILICON_COLUMNS, 'id', 'silicon', at);
    overlay(catalog.models, overrides.models, MODEL_COLUMNS, 'id', 'models', at);
    overlay(catalog.prices, overrides.prices, PRICE_COLUMNS, 'model', 'prices', at);
    overlay(catalog.efficiency, overrides.efficiency, EFFICIENCY_COLUMNS, 'silicon', 'efficiency', at);
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
  }
  return catalog;
}
