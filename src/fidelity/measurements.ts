/**
 * Published or user-measured performance figures, one typed row per figure (docs/fidelity.md
 * documents the CSV format). Three inputs are read: the project's measurement CSV, vLLM
 * `benchmark_serving.py --save-result` JSON and GuideLLM benchmark reports; the JSON readers
 * convert each result into the same rows. `fidelity` and `calibrate` both start here.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decimal, parseCsv, stripBom } from '../csv-read.js';
import { closestIds, InputError, unknownIdHint, type InputLocation } from '../errors.js';
import { isKnownStack, knownStacks, resolveEfficiency, stackFamily, type Catalog, type Silicon } from '../catalog/catalog.js';
import { DTYPES } from '../scenario/schema.js';
import { foreignStack, stackFallbackWarning } from '../scenario/warnings.js';

/** Every metric a row may state; the suffix is the unit. */
export const METRICS = [
  'output_tok_s_per_chip',
  'total_tok_s_per_chip',
  'output_tok_s',
  'total_tok_s',
  'requests_per_s',
  'ttft_mean_s',
  'ttft_p50_s',
  'ttft_p99_s',
  'tpot_mean_s',
  'tpot_p50_s',
  'tpot_p99_s',
  'itl_mean_s',
  'e2e_mean_s',
  'e2e_p50_s',
  'e2e_p99_s',
] as const;
export type MetricName = (typeof METRICS)[number];

export function isMetric(name: string): name is MetricName {
  return (METRICS as readonly string[]).includes(name);
}

/** A length as the scenario file writes it (a `prompt_tokens` / `output_tokens` value). */
export type LengthSpec =
  | { dist: 'constant'; value: number }
  | { dist: 'uniform'; min: number; max: number }
  | { dist: 'lognormal'; median: number; p99: number; max?: number };

/**
 * How the measurement loaded the server: a closed loop of `users`, an open-loop request rate
 * (Poisson), or `offline` (every request available at once: trtllm-bench, MLPerf Offline), which is
 * simulated as a closed loop deep enough to keep every batch full and measured in steady state.
 */
export type Load = { kind: 'concurrency'; users: number } | { kind: 'rate'; perS: number } | { kind: 'offline' };

export interface Measurement {
  /**
   * Where the row came from, as {@link rowName} names it: its file and, for a CSV row, the 1-based
   * line; for a GuideLLM report, `location` is the entry's JSON path (`benchmarks[3]`) and there is
   * no line. A vLLM result file is one result, so its rows have neither: the file is the entry.
   */
  file: string;
  line?: number;
  location?: string;
  model: string;
  silicon: string;
  tensorParallel: number;
  /** Replicas of tensorParallel chips the figure was measured on (per-chip metrics divide by both). */
  replicas: number;
  dtype: string;
  kvDtype: string | null;
  /** Serving software, e.g. `trtllm-0.17`, `vllm-0.6`; `generic` when unknown. */
  stack: string;
  /** Most requests per batch (the engine's max sequences); null: the deployment default. */
  maxBatch: number | null;
  /**
   * The engine's batching, as a fleetsim scheduler (`continuous` prefill-first as vLLM V0,
   * `chunked` for engines that put prompts and decodes in one iteration, as TensorRT-LLM's
   * in-flight batching and vLLM V1), and its token budget per iteration; null: the defaults.
   */
  scheduler: 'continuous' | 'chunked' | 'static' | null;
  chunkTokens: number | null;
  /**
   * KV the engine reserves when it admits a request: `prompt` (the prompt's blocks, more as it
   * decodes, preempting when the cache runs out: vLLM) or `full` (prompt plus output, so it never
   * preempts: TensorRT-LLM's GUARANTEED_NO_EVICT capacity scheduler); null: `prompt`.
   */
  kvReserve: 'prompt' | 'full' | null;
  /**
   * The deployment's kv_fraction: the share of memory the engine gives the KV cache, of all memory
   * or of what is free after loading, as the stack sizes it (data/stacks.csv); null: 0.9.
   */
  kvFraction: number | null;
  promptTokens: LengthSpec;
  outputTokens: LengthSpec;
  load: Load;
  /** Requests the benchmark sent; null: the simulator's default for the load. */
  requests: number | null;
  metric: MetricName;
  value: number;
  source: string;
  note: string;
  /** Non-empty: the row is kept for the record but not simulated, and this says why. */
  exclude: string;
}

export const MEASUREMENT_COLUMNS = [
  'model',
  'silicon',
  'tensor_parallel',
  'replicas',
  'dtype',
  'kv_dtype',
  'stack',
  'max_batch',
  'scheduler',
  'chunk_tokens',
  'kv_reserve',
  'kv_fraction',
  'prompt_tokens',
  'output_tokens',
  'concurrency',
  'rate_per_s',
  'requests',
  'metric',
  'value',
  'source',
  'note',
  'exclude',
] as const;
const REQUIRED = ['model', 'silicon', 'tensor_parallel', 'prompt_tokens', 'output_tokens', 'metric', 'value', 'source'] as const;

/** Overrides for JSON results, which do not say what hardware they ran on (CLI flags). */
export interface ResultDefaults {
  model?: string;
  silicon?: string;
  tensorParallel?: number;
  replicas?: number;
  dtype?: string;
  stack?: string;
}

/** Where a problem is: a CSV row's line, a JSON entry's path (`benchmarks[3]`), or just the file. */
type Where = { file: string; line?: number; path?: string };
const fail = (w: Where, message: string): InputError => new InputError(message, { file: w.file, line: w.line, path: w.path });

/**
 * How tables, CSVs, warnings and errors name a row, so a user can find it: `file:line` for a CSV row,
 * `file benchmarks[3]` for a GuideLLM entry (0-based, as the JSON path), the file for a vLLM result.
 */
export function rowName(m: Measurement): string {
  if (m.line !== undefined) return `${m.file}:${m.line}`;
  return m.location !== undefined ? `${m.file} ${m.location}` : m.file;
}

/** The row's location for an InputError (`file:line: …`, `file: benchmarks[3]: …`). */
export function rowLocation(m: Measurement): InputLocation {
  return { file: m.file, line: m.line, path: m.location };
}

/**
 * A hint for a number written with thousands separators: unquoted, 1,850 splits into two cells (the
 * record-length error says so); quoted, "1,800" reaches the field whole, and needs the same hint.
 */
function thousandsHint(text: string): string {
  const t = text.trim();
  return /^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t) ? ` (a number must not have a thousands separator: write ${t.replace(/,/g, '')})` : '';
}

function positiveInt(text: string, w: Where, field: string): number {
  const n = decimal(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 1) throw fail(w, `${field}: expected a positive integer, got ${JSON.stringify(text)}${thousandsHint(text)}`);
  return n;
}

function parseKvFraction(text: string, w: Where): number | null {
  if (text === '') return null;
  const x = decimal(text);
  if (!(Number.isFinite(x) && x > 0 && x <= 1)) throw fail(w, `kv_fraction: expected a number in (0, 1], got ${JSON.stringify(text)}`);
  return x;
}

function parseKvReserve(text: string, w: Where): 'prompt' | 'full' | null {
  if (text === '') return null;
  if (text === 'prompt' || text === 'full') return text;
  throw fail(w, `kv_reserve: expected prompt or full, got ${JSON.stringify(text)}`);
}

/** `512`, `uniform:100:200` or `lognormal:MEDIAN:P99[:MAX]`. */
export function parseLength(text: string, w: Where, field: string): LengthSpec {
  const parts = text.trim().split(':');
  const nums = parts.slice(1).map(decimal);
  const ok = nums.every((x) => Number.isFinite(x) && x > 0);
  if (parts.length === 1) return { dist: 'constant', value: positiveInt(parts[0], w, field) };
  if (parts[0] === 'uniform' && nums.length === 2 && ok && nums.every(Number.isInteger) && nums[0] <= nums[1]) {
    return { dist: 'uniform', min: nums[0], max: nums[1] };
  }
  if (parts[0] === 'lognormal' && (nums.length === 2 || nums.length === 3) && ok && nums[1] >= nums[0]) {
    return nums.length === 3 ? { dist: 'lognormal', median: nums[0], p99: nums[1], max: Math.round(nums[2]) } : { dist: 'lognormal', median: nums[0], p99: nums[1] };
  }
  throw fail(w, `${field}: expected tokens as N, uniform:MIN:MAX or lognormal:MEDIAN:P99[:MAX], got ${JSON.stringify(text)}`);
}

export function formatLength(l: LengthSpec): string {
  if (l.dist === 'constant') return String(l.value);
  if (l.dist === 'uniform') return `uniform:${l.min}:${l.max}`;
  return `lognormal:${l.median}:${l.p99}${l.max !== undefined ? `:${l.max}` : ''}`;
}

/** `offline`, `concurrency 16`, `rate 2/s`, or `rate inf` (every request at t = 0), as rate_per_s writes it. */
export function formatLoad(l: Load): string {
  if (l.kind === 'offline') return 'offline';
  if (l.kind === 'concurrency') return `concurrency ${l.users}`;
  return l.perS === Infinity ? 'rate inf' : `rate ${l.perS}/s`;
}

function parseLoad(concurrency: string, rate: string, w: Where): Load {
  const c = concurrency.trim();
  const r = rate.trim();
  if ((c === '') === (r === '')) throw fail(w, 'give exactly one of concurrency and rate_per_s');
  if (c === 'offline') return { kind: 'offline' };
  if (c !== '') {
    // Users are whole; 2.5 or 2.5/s is probably a request rate in the wrong column.
    const x = decimal(c.replace(/\/s$/, ''));
    if ((Number.isFinite(x) && x > 0 && !Number.isInteger(x)) || /\/s$/.test(c)) {
      throw fail(w, `concurrency: expected a whole number of users, got ${JSON.stringify(c)} (for a request rate, leave concurrency empty and give rate_per_s ${Number.isFinite(x) ? x : c})`);
    }
    return { kind: 'concurrency', users: positiveInt(c, w, 'concurrency') };
  }
  if (r.toLowerCase() === 'inf') return { kind: 'rate', perS: Infinity };
  const perS = decimal(r);
  if (!(perS > 0 && Number.isFinite(perS))) throw fail(w, `rate_per_s: expected a positive number or inf, got ${JSON.stringify(r)}`);
  return { kind: 'rate', perS };
}

function parseDtype(text: string, w: Where, field: string): string {
  if (!(DTYPES as readonly string[]).includes(text)) throw fail(w, `${field}: expected one of ${DTYPES.join(', ')}, got ${JSON.stringify(text)}`);
  return text;
}

function parseScheduler(text: string, w: Where): Measurement['scheduler'] {
  if (text === '') return null;
  if (text === 'continuous' || text === 'chunked' || text === 'static') return text;
  throw fail(w, `scheduler: expected continuous, chunked or static, got ${JSON.stringify(text)}`);
}

const semicolonHeader = (file: string, line: number): InputError =>
  new InputError('the header is one column with ";" in it: the file looks semicolon-separated (a spreadsheet export where the decimal mark is a comma); save it comma-separated, with "." as the decimal mark (docs/fidelity.md lists the format)', { file, line });

/** Reads the project's measurement CSV. Rows are validated for shape here, against the catalog by {@link checkCatalog}. */
export function readMeasurementCsv(file: string, input: string): Measurement[] {
  // Without its BOM, a leading `#` line is a comment to csv-parse and to recordLines alike.
  const text = stripBom(input);
  // Checked before csv-parse reads the records: a semicolon file with decimal commas (0,09) has
  // records of two cells under a one-cell header, and the record-length error would hide this.
  const textLines = text.split('\n');
  const headerIndex = textLines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
  if (headerIndex >= 0 && !textLines[headerIndex].includes(',') && textLines[headerIndex].includes(';')) throw semicolonHeader(file, headerIndex + 1);
  let table: string[][];
  try {
    table = parseCsv<string[][]>(text, { relax_column_count: false, skip_empty_lines: true, comment: '#' });
  } catch (err) {
    const e = err as Error & { lines?: number; code?: string; record?: string[] };
    // A cell such as 1,850 (a thousands separator) splits into two: the record has one cell more than the header.
    const hint = e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
      ? ' (a number must not have a thousands separator: 1,850 is two cells; write 1850, or quote a text cell that has a comma)'
      : '';
    throw new InputError(`malformed CSV: ${e.message}${hint}`, { file, line: e.lines });
  }
  if (table.length === 0) throw new InputError('empty measurement file: expected a header row', { file, line: 1 });
  const header = table[0].map((h) => h.trim());
  if (header.length === 1 && header[0].includes(';')) throw semicolonHeader(file, 1);
  for (const c of REQUIRED) if (!header.includes(c)) throw new InputError(`missing column ${c} (docs/fidelity.md lists the format)`, { file, line: 1 });
  for (const h of header) {
    if (!(MEASUREMENT_COLUMNS as readonly string[]).includes(h)) throw new InputError(`unknown column ${JSON.stringify(h)}; expected ${MEASUREMENT_COLUMNS.join(', ')}`, { file, line: 1 });
  }
  if (!header.includes('concurrency') && !header.includes('rate_per_s')) throw new InputError('missing column concurrency or rate_per_s', { file, line: 1 });
  // Physical line of each record (comments and quoted newlines make it differ from the index).
  const lines = recordLines(text);
  return table.slice(1).map((cells, i) => {
    const w = { file, line: lines[i + 1] ?? i + 2 };
    const get = (c: (typeof MEASUREMENT_COLUMNS)[number]) => {
      const k = header.indexOf(c);
      return k < 0 ? '' : cells[k].trim();
    };
    for (const c of REQUIRED) if (get(c) === '') throw fail(w, `${c}: missing value`);
    const metric = get('metric');
    if (!isMetric(metric)) throw fail(w, `metric: expected one of ${METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
    const value = decimal(get('value'));
    if (!(Number.isFinite(value) && value > 0)) throw fail(w, `value: expected a positive number, got ${JSON.stringify(get('value'))}${thousandsHint(get('value'))}`);
    return {
      file,
      line: w.line,
      model: get('model'),
      silicon: get('silicon'),
      tensorParallel: positiveInt(get('tensor_parallel'), w, 'tensor_parallel'),
      replicas: get('replicas') === '' ? 1 : positiveInt(get('replicas'), w, 'replicas'),
      dtype: get('dtype') === '' ? 'bf16' : parseDtype(get('dtype'), w, 'dtype'),
      kvDtype: get('kv_dtype') === '' ? null : parseDtype(get('kv_dtype'), w, 'kv_dtype'),
      stack: get('stack') || 'generic',
      maxBatch: get('max_batch') === '' ? null : positiveInt(get('max_batch'), w, 'max_batch'),
      scheduler: parseScheduler(get('scheduler'), w),
      chunkTokens: get('chunk_tokens') === '' ? null : positiveInt(get('chunk_tokens'), w, 'chunk_tokens'),
      kvReserve: parseKvReserve(get('kv_reserve'), w),
      kvFraction: parseKvFraction(get('kv_fraction'), w),
      promptTokens: parseLength(get('prompt_tokens'), w, 'prompt_tokens'),
      outputTokens: parseLength(get('output_tokens'), w, 'output_tokens'),
      load: parseLoad(get('concurrency'), get('rate_per_s'), w),
      requests: get('requests') === '' ? null : positiveInt(get('requests'), w, 'requests'),
      metric,
      value,
      source: get('source'),
      note: get('note'),
      exclude: get('exclude'),
    };
  });
}

/** 1-based physical line where each CSV record starts, skipping blank and `#` lines. */
function recordLines(text: string): number[] {
  const out: number[] = [];
  let line = 1;
  let inQuotes = false;
  let atStart = true;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (atStart && !inQuotes) {
      if (ch === '\n') {
        line++;
        continue;
      }
      if (ch === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        line++;
        continue;
      }
      out.push(line);
      atStart = false;
    }
    if (ch === '"') inQuotes = !inQuotes;
    else if (ch === '\n') {
      line++;
      if (!inQuotes) atStart = true;
    }
  }
  return out;
}

/** Common Hugging Face names to catalog ids: `meta-llama/Llama-3.1-8B-Instruct` -> `llama-3.1-8b`. */
export function catalogModelId(name: string, catalog: Catalog): string | null {
  const base = name.split('/').pop()!.toLowerCase();
  const trimmed = base.replace(/-(instruct|chat|hf|it|fp8|v0\.\d)$/g, '').replace(/-(instruct|chat|hf)$/g, '');
  for (const candidate of [base, trimmed, trimmed.replace(/^meta-/, ''), trimmed.replace(/-v0\.\d$/, '')]) {
    if (catalog.models.has(candidate)) return candidate;
  }
  return null;
}

function numberField(obj: Record<string, unknown>, key: string, w: Where): number | null {
  const v = obj[key];
  if (v === undefined || v === null) return null;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? decimal(v) : NaN;
  if (!Number.isFinite(n)) throw fail({ ...w, path: w.path === undefined ? key : `${w.path}.${key}` }, `expected a number, got ${JSON.stringify(v)}`);
  return n;
}

/**
 * vLLM `benchmark_serving.py --save-result` (and `vllm bench serve`) JSON: one result per file.
 * Hardware comes from `--metadata` keys the user added (`silicon=`, `tensor_parallel=`,
 * `replicas=`, `dtype=`, `stack=`, `model=`) or from the command's flags.
 */
export function readVllmResult(file: string, json: Record<string, unknown>, defaults: ResultDefaults, catalog: Catalog): Measurement[] {
  // One result per file: a problem is the file's, or a key's (numberField names it).
  const w: Where = { file };
  const text = (k: string) => (typeof json[k] === 'string' ? (json[k] as string) : typeof json[k] === 'number' ? String(json[k]) : '');
  const completed = numberField(json, 'completed', w);
  const inputTotal = numberField(json, 'total_input_tokens', w);
  const outputTotal = numberField(json, 'total_output_tokens', w);
  if (!completed || inputTotal === null || outputTotal === null) throw fail(w, 'vLLM result: expected completed, total_input_tokens and total_output_tokens');
  const rate = json.request_rate === 'inf' || json.request_rate === undefined || json.request_rate === null ? Infinity : numberField(json, 'request_rate', w)!;
  const maxConcurrency = numberField(json, 'max_concurrency', w);
  const load: Load = maxConcurrency !== null && rate === Infinity ? { kind: 'concurrency', users: maxConcurrency } : { kind: 'rate', perS: rate };
  // A flag that contradicts the result's own metadata would compare a measurement of one setup
  // with a prediction of another, so it is refused rather than one silently winning.
  // The model is compared as catalog ids, so `--model llama-3.1-8b` agrees with metadata
  // `model=meta-llama/Llama-3.1-8B-Instruct`.
  const flags: [key: string, flag: string, given: string | number | undefined][] = [
    ['model', '--model', defaults.model],
    ['silicon', '--silicon', defaults.silicon],
    ['tensor_parallel', '--tensor-parallel', defaults.tensorParallel],
    ['replicas', '--replicas', defaults.replicas],
    ['dtype', '--dtype', defaults.dtype],
    ['stack', '--stack', defaults.stack],
  ];
  const id = (key: string, v: string) => (key === 'model' ? (catalogModelId(v, catalog) ?? v) : v);
  for (const [key, flag, given] of flags) {
    if (text(key) !== '' && given !== undefined && id(key, String(given)) !== id(key, text(key))) {
      throw fail(w, `${flag} ${given} contradicts the result's metadata ${key}=${text(key)} (drop the flag, or use a result measured on that setup)`);
    }
  }
  const modelName = text('model') || defaults.model || text('model_id');
  const model = catalogModelId(modelName, catalog) ?? modelName;
  const base = {
    file,
    model,
    silicon: text('silicon') || defaults.silicon || '',
    tensorParallel: Number(text('tensor_parallel') || defaults.tensorParallel || 1),
    replicas: Number(text('replicas') || defaults.replicas || 1),
    dtype: text('dtype') || defaults.dtype || 'bf16',
    kvDtype: null,
    stack: text('stack') || defaults.stack || `vllm`,
    maxBatch: null,
    scheduler: null,
    chunkTokens: null,
    kvReserve: null,
    kvFraction: null,
    // Mean lengths: the result keeps per-request lengths only with --save-detailed.
    promptTokens: { dist: 'constant', value: Math.max(1, Math.round(inputTotal / completed)) } as LengthSpec,
    outputTokens: { dist: 'constant', value: Math.max(1, Math.round(outputTotal / completed)) } as LengthSpec,
    load,
    requests: numberField(json, 'num_prompts', w) ?? completed,
    source: `vLLM benchmark_serving result ${file}${text('date') ? ` (${text('date')})` : ''}`,
    note: '',
    exclude: '',
  };
  const rows: Measurement[] = [];
  const add = (metric: MetricName, key: string, scale: number) => {
    const v = numberField(json, key, w);
    if (v !== null && v > 0) rows.push({ ...base, metric, value: v * scale });
  };
  if (!base.silicon) throw fail(w, 'vLLM result: no silicon (add --metadata silicon=ID to the benchmark, or pass --silicon)');
  const chips = base.tensorParallel * base.replicas;
  add('output_tok_s_per_chip', 'output_throughput', 1 / chips);
  add('total_tok_s_per_chip', 'total_token_throughput', 1 / chips);
  add('requests_per_s', 'request_throughput', 1);
  for (const [ours, theirs] of [
    ['ttft', 'ttft'],
    ['tpot', 'tpot'],
    ['e2e', 'e2el'],
  ] as const) {
    add(`${ours}_mean_s`, `mean_${theirs}_ms`, 1e-3);
    add(`${ours}_p50_s`, `median_${theirs}_ms`, 1e-3);
    add(`${ours}_p99_s`, `p99_${theirs}_ms`, 1e-3);
  }
  add('itl_mean_s', 'mean_itl_ms', 1e-3);
  return rows;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/**
 * GuideLLM benchmark report (`benchmarks.json`): one result per entry of `benchmarks`. Each
 * metric is a distribution summary by status; the `successful` requests' mean (and median, p99)
 * are read. The strategy gives the load: `concurrent` (streams), `synchronous` (1), `constant` /
 * `poisson` (rate), `throughput` (offline).
 */
export function readGuidellmReport(file: string, json: Json, defaults: ResultDefaults, catalog: Catalog): Measurement[] {
  const benchmarks = json.benchmarks;
  if (!Array.isArray(benchmarks)) throw new InputError('GuideLLM report: expected a benchmarks list', { file });
  const rows: Measurement[] = [];
  benchmarks.forEach((b: unknown, i: number) => {
    const location = `benchmarks[${i}]`;
    const w: Where = { file, path: location };
    const bench = obj(b);
    const args = obj(bench.args);
    const strategy = obj(args.strategy ?? obj(bench.config).strategy ?? bench.strategy);
    const kind = String(strategy.type_ ?? strategy.type ?? '');
    let load: Load;
    if (kind === 'concurrent') load = { kind: 'concurrency', users: Number(strategy.streams) };
    else if (kind === 'synchronous') load = { kind: 'concurrency', users: 1 };
    else if (kind === 'constant' || kind === 'poisson') load = { kind: 'rate', perS: Number(strategy.rate) };
    else if (kind === 'throughput') load = { kind: 'offline' };
    else throw fail(w, `GuideLLM report: unknown strategy ${JSON.stringify(kind)} (expected concurrent, synchronous, constant, poisson or throughput)`);
    if (load.kind === 'concurrency' && !(load.users >= 1)) throw fail(w, 'GuideLLM report: strategy.streams is not a positive number');
    if (load.kind === 'rate' && !(load.perS > 0)) throw fail(w, 'GuideLLM report: strategy.rate is not a positive number');
    const metrics = obj(bench.metrics);
    const stat = (name: string, field: 'mean' | 'median' | 'p99'): number | null => {
      const s = obj(obj(metrics[name]).successful);
      const v = field === 'p99' ? obj(s.percentiles).p99 : s[field];
      return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
    };
    const prompt = stat('prompt_token_count', 'mean');
    const output = stat('output_token_count', 'mean');
    if (prompt === null || output === null) throw fail(w, 'GuideLLM report: no successful prompt_token_count / output_token_count');
    const count = obj(obj(metrics.prompt_token_count).successful).count;
    const modelName = defaults.model ?? String(obj(bench.worker).backend_model ?? obj(args).model ?? '');
    const base = {
      file,
      location,
      model: catalogModelId(modelName, catalog) ?? modelName,
      silicon: defaults.silicon ?? '',
      tensorParallel: defaults.tensorParallel ?? 1,
      replicas: defaults.replicas ?? 1,
      dtype: defaults.dtype ?? 'bf16',
      kvDtype: null,
      stack: defaults.stack ?? 'generic',
      maxBatch: null,
      scheduler: null,
      chunkTokens: null,
      kvReserve: null,
      kvFraction: null,
      promptTokens: { dist: 'constant', value: Math.max(1, Math.round(prompt)) } as LengthSpec,
      outputTokens: { dist: 'constant', value: Math.max(1, Math.round(output)) } as LengthSpec,
      load,
      requests: typeof count === 'number' && count >= 1 ? Math.round(count) : null,
      source: `GuideLLM report ${file} ${location}`,
      note: '',
      exclude: '',
    };
    if (!base.silicon) throw fail(w, 'GuideLLM report: no silicon (pass --silicon)');
    const chips = base.tensorParallel * base.replicas;
    const add = (metric: MetricName, v: number | null, scale: number) => {
      if (v !== null) rows.push({ ...base, metric, value: v * scale });
    };
    add('output_tok_s_per_chip', stat('output_tokens_per_second', 'mean'), 1 / chips);
    add('total_tok_s_per_chip', stat('tokens_per_second', 'mean'), 1 / chips);
    add('requests_per_s', stat('requests_per_second', 'mean'), 1);
    add('ttft_mean_s', stat('time_to_first_token_ms', 'mean'), 1e-3);
    add('ttft_p50_s', stat('time_to_first_token_ms', 'median'), 1e-3);
    add('ttft_p99_s', stat('time_to_first_token_ms', 'p99'), 1e-3);
    // GuideLLM's inter_token_latency_ms is (last - first) / (tokens - 1) per request, its
    // distribution weighted by tokens: the token-weighted mean ITL. Its time_per_output_token_ms
    // includes the first token, a quantity fleetsim does not report, so it is not read.
    add('itl_mean_s', stat('inter_token_latency_ms', 'mean'), 1e-3);
    add('e2e_mean_s', stat('request_latency', 'mean'), 1);
    add('e2e_p50_s', stat('request_latency', 'median'), 1);
    add('e2e_p99_s', stat('request_latency', 'p99'), 1);
  });
  return rows;
}

/** Reads a measurement CSV, a vLLM result, a GuideLLM report, or a directory of them (sorted by name). */
export function readMeasurements(path: string, catalog: Catalog, defaults: ResultDefaults = {}): Measurement[] {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new InputError(`cannot read measurements: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: path });
  }
  if (isDir) {
    const names = readdirSync(path).filter((n) => /\.(csv|json)$/i.test(n)).sort();
    if (names.length === 0) throw new InputError('no .csv or .json measurement files in the directory', { file: path });
    return names.flatMap((n) => readMeasurements(join(path, n), catalog, defaults));
  }
  const text = readFileSync(path, 'utf8');
  if (!/\.json$/i.test(path)) return readMeasurementCsv(path, text);
  let json: unknown;
  try {
    json = JSON.parse(stripBom(text));
  } catch (err) {
    throw new InputError(`malformed JSON: ${(err as Error).message}`, { file: path });
  }
  const o = obj(json);
  if (Array.isArray(o.benchmarks)) return readGuidellmReport(path, o, defaults, catalog);
  if ('output_throughput' in o || 'mean_ttft_ms' in o) return readVllmResult(path, o, defaults, catalog);
  throw new InputError('unrecognised JSON: expected a vLLM benchmark_serving result (output_throughput, mean_ttft_ms, ...) or a GuideLLM report (benchmarks: [...])', { file: path });
}

/** The ids the flags give JSON results must be catalog ids (checked before any file is read, naming the flag). */
export function checkDefaults(defaults: ResultDefaults, catalog: Catalog): void {
  if (defaults.silicon !== undefined && !catalog.silicon.has(defaults.silicon)) {
    throw new InputError(`unknown silicon "${defaults.silicon}"${unknownIdHint(defaults.silicon, catalog.silicon.keys())}`, { path: '--silicon' });
  }
  if (defaults.model !== undefined && !catalog.models.has(defaults.model) && catalogModelId(defaults.model, catalog) === null) {
    throw new InputError(`unknown model "${defaults.model}"${unknownIdHint(defaults.model, catalog.models.keys())}`, { path: '--model' });
  }
}

/** The first included row of each file, known silicon and stack: where a stack warning is given once. */
function firstPerStack(rows: readonly Measurement[], catalog: Catalog): { m: Measurement; silicon: Silicon }[] {
  const seen = new Set<string>();
  const out: { m: Measurement; silicon: Silicon }[] = [];
  for (const m of rows) {
    const silicon = catalog.silicon.get(m.silicon);
    const key = `${m.file}|${m.silicon}|${m.stack}`;
    if (m.exclude !== '' || !silicon || seen.has(key)) continue;
    seen.add(key);
    out.push({ m, silicon });
  }
  return out;
}

/**
 * Rows whose stack does not run on their silicon's vendor (data/stacks.csv silicon_vendors:
 * TensorRT-LLM on an AMD GPU): probably a mislabelled row, whose figures would be fitted to, or
 * compared with, a profile of a stack that chip cannot run. One warning per file, silicon and stack.
 */
export function stackRowWarnings(rows: readonly Measurement[], catalog: Catalog): string[] {
  const out: string[] = [];
  for (const { m, silicon } of firstPerStack(rows, catalog)) {
    const foreign = foreignStack(catalog, silicon, m.stack);
    if (foreign !== null) out.push(`${rowName(m)}: ${foreign}: check the row's stack or silicon`);
  }
  return out;
}

/**
 * Rows whose stack is known but has no efficiency profile on their silicon or its kind, so another
 * stack's profile stands in: the warning run, explain and plan give a deployment so (one per file,
 * silicon and stack). `fidelity` then predicts the rows with the stand-in; `calibrate` starts its
 * fit from the stand-in's values and writes the stack's own profile (profileGroups, profileRows).
 */
export function stackProfileWarnings(rows: readonly Measurement[], catalog: Catalog, command: 'fidelity' | 'calibrate'): string[] {
  const out: string[] = [];
  for (const { m, silicon } of firstPerStack(rows, catalog)) {
    const resolved = resolveEfficiency(catalog, silicon, m.stack);
    const fallback = resolved === null ? null : stackFallbackWarning(catalog, silicon, m.stack, resolved);
    if (fallback === null) continue;
    const family = stackFamily(m.stack);
    out.push(
      `${rowName(m)}: ${fallback}` +
        (command === 'calibrate'
          ? `; calibrate starts from that profile's values and writes a new ${silicon.id}@${family} profile (and ${silicon.kind}@${family}) from the fit`
          : ''),
    );
  }
  return out;
}

/**
 * Rows (and a `--stack` flag) naming a stack no data file knows, nor its family (data/stacks.csv,
 * data/efficiency.csv): probably a typo (`vlm`), which `fidelity` would predict with the silicon's
 * generic profile and `calibrate` would fit as a new profile no deployment of the intended stack
 * matches. A warning, not an error: a user's own new stack name is legitimate for calibrate, which
 * creates its profile. One warning for the flag, then one per file and stack at its first row;
 * JSON rows whose stack is the flag's are covered by the flag's warning.
 */
export function unknownStackWarnings(rows: readonly Measurement[], catalog: Catalog, command: 'fidelity' | 'calibrate', flagStack?: string): string[] {
  const known = knownStacks(catalog);
  const unknown = (stack: string) => !isKnownStack(known, stack);
  const message = (stack: string) => {
    const near = closestIds(stack, known);
    const family = stackFamily(stack);
    return (
      `stack "${stack}" is not a known stack: neither data/stacks.csv nor data/efficiency.csv names it${family !== stack ? ` or its family ${family}` : ''}` +
      (command === 'fidelity'
        ? ", so the silicon's generic profile and KV-memory rule predict it"
        : `, so calibrate fits a new profile ${family} that only deployments naming stack ${family} will use`) +
      `${near.length > 0 ? `; closest: ${near.join(', ')}` : ''}; known: ${[...known].sort().join(', ')}`
    );
  };
  const out: string[] = [];
  const flagUnknown = flagStack !== undefined && unknown(flagStack);
  if (flagUnknown) out.push(`--stack ${flagStack}: ${message(flagStack)}`);
  const seen = new Set<string>();
  for (const m of rows) {
    const key = `${m.file}|${m.stack}`;
    if (m.exclude !== '' || seen.has(key) || !unknown(m.stack)) continue;
    seen.add(key);
    if (flagUnknown && m.stack === flagStack && /\.json$/i.test(m.file)) continue;
    out.push(`${rowName(m)}: ${message(m.stack)}`);
  }
  return out;
}

/** The command-line flag of each {@link ResultDefaults} field. */
const DEFAULT_FLAGS: [key: keyof ResultDefaults, flag: string][] = [
  ['model', '--model'],
  ['silicon', '--silicon'],
  ['tensorParallel', '--tensor-parallel'],
  ['replicas', '--replicas'],
  ['dtype', '--dtype'],
  ['stack', '--stack'],
];

/**
 * `--silicon`, `--model` and the other result flags apply to JSON results only: a CSV row names its
 * own setup, so the flags are ignored for it. A warning rather than an error, since one run may
 * read a directory of CSVs and JSON results together; one per CSV file.
 */
export function csvFlagWarnings(rows: readonly Measurement[], defaults: ResultDefaults): string[] {
  const given = DEFAULT_FLAGS.filter(([key]) => defaults[key] !== undefined).map(([key, flag]) => `${flag} ${defaults[key]}`);
  if (given.length === 0) return [];
  const csvFiles = [...new Set(rows.filter((m) => !/\.json$/i.test(m.file)).map((m) => m.file))];
  return csvFiles.map((f) => `${given.join(', ')}: ${given.length === 1 ? 'applies' : 'apply'} to JSON results only; ${f}'s rows give their own model, silicon and setup, so ${given.length === 1 ? 'it is' : 'they are'} ignored for it`);
}

/**
 * Latencies above which a value in seconds is more likely milliseconds: a time to first token of
 * half a minute, or a second per output token, is no serving benchmark's; a request of several
 * minutes end to end is rare (long outputs at 20 ms a token reach a minute).
 */
const LATENCY_LIMIT_S: [prefix: string, limitS: number, what: string][] = [
  ['ttft_', 30, 'a time to first token'],
  ['tpot_', 1, 'a time per output token'],
  ['itl_', 1, 'an inter-token latency'],
  ['e2e_', 300, 'an end-to-end latency'],
];

/** Latency rows whose value looks like milliseconds in a seconds column; one warning per file and metric, at its first row. */
export function latencyUnitWarnings(rows: readonly Measurement[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of rows) {
    const limit = LATENCY_LIMIT_S.find(([prefix]) => m.metric.startsWith(prefix));
    const key = `${m.file}|${m.metric}`;
    if (m.exclude !== '' || !limit || m.value <= limit[1] || seen.has(key)) continue;
    seen.add(key);
    const n = rows.filter((r) => r.file === m.file && r.metric === m.metric && r.exclude === '' && r.value > limit[1]).length;
    out.push(
      `${rowName(m)}: ${m.metric} ${m.value} s is over ${limit[1]} s for ${limit[2]}${n > 1 ? ` (and ${n - 1} more ${m.metric} ${n === 2 ? 'row' : 'rows'} of the file)` : ''}: ` +
        `the metric is in seconds; if ${m.value} is milliseconds, write ${m.value / 1000}`,
    );
  }
  return out;
}

/** Every warning `fidelity` and `calibrate` give about their input before simulating it. */
export function measurementWarnings(rows: readonly Measurement[], catalog: Catalog, command: 'fidelity' | 'calibrate', defaults: ResultDefaults): string[] {
  return [...csvFlagWarnings(rows, defaults), ...unknownStackWarnings(rows, catalog, command, defaults.stack), ...stackProfileWarnings(rows, catalog, command), ...stackRowWarnings(rows, catalog), ...latencyUnitWarnings(rows)];
}

/** Rows to simulate must name catalog models and silicon the chip can hold; the first that does not is an error naming it. */
export function checkCatalog(rows: readonly Measurement[], catalog: Catalog): void {
  for (const m of rows) {
    if (m.exclude !== '') continue;
    const w: Where = { file: m.file, line: m.line, path: m.location };
    // The row's own ids, with the closest catalog ones; a CSV row may instead be excluded, a JSON
    // result's ids come from its metadata or the flags.
    const keep = /\.json$/i.test(m.file) ? '; --model and --silicon give a result\'s ids' : '; or give the row an exclude reason to keep it unsimulated';
    if (!catalog.models.has(m.model)) throw fail(w, `model: unknown model ${JSON.stringify(m.model)}${unknownIdHint(m.model, catalog.models.keys(), keep)}`);
    if (!catalog.silicon.has(m.silicon)) throw fail(w, `silicon: unknown silicon ${JSON.stringify(m.silicon)}${unknownIdHint(m.silicon, catalog.silicon.keys(), keep)}`);
  }
}
