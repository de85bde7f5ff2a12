/**
 * `fleetsim explain`: the derived numbers an engineer checks first for a deployment, straight from
 * the step-time model (no simulation). Three forms:
 *   explain SCENARIO                                   every deployment of the scenario
 *   explain --model M --silicon S [--tp N] [--dtype D] one configuration
 *   explain --all                                      every catalog (model, silicon) pair
 *
 * "Full load" means a batch as large as max_batch and the KV cache allow at the mean context
 * (prompt + half the output), with every request's prefill amortised over its output tokens:
 *   replica tok/s = B·O / (O·decodeStepS(B, B·ctx) + prefillS(B·P, B·P²))
 * This is an upper bound a saturated replica approaches; `run` gives the queueing answer.
 */
import { loadCatalog, loadScenario } from '../index.js';
import { knownStacks, resolveEfficiency, resolveStack, stackFamily, type Catalog, type Efficiency, type Model, type Silicon } from '../catalog/catalog.js';
import { readScenarioSource, resolveFromInput } from '../scenario/load.js';
import { InputError, unknownIdHint } from '../errors.js';
import { DTYPES, type Dtype } from '../scenario/schema.js';
import { kvFreeMemory, RooflinePerf, type PerfInputs } from '../perf/roofline.js';
import { saturatedReplica } from '../perf/saturation.js';
import { DEFAULT_OUTPUT_TOKENS, DEFAULT_PROMPT_TOKENS, stackWarnings } from '../scenario/warnings.js';
import { perfErrorOf, type PerfError } from '../scenario/perf-error.js';
import { reportWarnings } from './warnings.js';
import { csvRow, formatDecimal } from '../report/csv.js';
import { EXPLAIN_COLUMNS, names } from '../report/columns.js';

export interface ExplainFlags {
  model?: string;
  silicon?: string;
  tp?: number;
  dtype?: string;
  maxBatch?: number;
  promptTokens?: number;
  outputTokens?: number;
  all?: boolean;
  /** Serving stack whose efficiency profile and KV-memory rule apply (scenario form: every deployment's). */
  stack?: string;
  format: string;
}

const DEFAULT_MAX_BATCH = 256;
/** trtllm-build's default max_num_tokens: the activation memory of a free-memory stack (as src/scenario/load.ts). */
const TRTLLM_DEFAULT_MAX_NUM_TOKENS = 8192;
const KV_FRACTION = 0.9;
const BLOCK_TOKENS = 16;

interface Config {
  name: string;
  model: Model;
  silicon: Silicon;
  efficiency: Efficiency;
  tp: number;
  dtype: Dtype;
  kvDtype: Dtype;
  kvFraction: number;
  blockTokens: number;
  maxBatch: number;
  promptTokens: number;
  outputTokens: number;
  usdPerChipHour: number;
  /** A stack that sizes the KV cache from free memory (data/stacks.csv kv_memory free). */
  kvFree?: PerfInputs['kvFree'];
  /** A scenario deployment's own step-time model (roofline or measured profile). */
  perf?: RooflinePerf;
  /** The serving stack, and what the step times rest on (run.json perf[]: profile, basis, band, note). */
  stack: string;
  perfError: PerfError;
}

const HEADER = names(EXPLAIN_COLUMNS);
/** Sentences, not figures: the table prints them below itself (src/report/columns.ts says so), csv as columns. */
const BELOW_TABLE = ['fitted_to', 'perf_note'];

const orEmpty = (x: number, digits: number) => (Number.isFinite(x) ? formatDecimal(x, digits) : '');

/** The profile columns of a configuration: which efficiency row, fitted (to what) or assumed, and its band. */
function profileCells(c: Config): string[] {
  const p = c.perfError;
  const measuredProfile = p.basis === 'measured-profile';
  return [c.stack, p.profile, p.basis, measuredProfile ? '' : c.efficiency.basis, p.hasBand ? String(p.cvRows) : '', p.hasBand ? orEmpty(p.cvMapePct, 1) : '',
    p.hasBand ? orEmpty(p.errP10Pct, 1) : '', p.hasBand ? orEmpty(p.errP90Pct, 1) : '', measuredProfile ? '' : c.efficiency.fittedTo, p.note];
}

/** The numbers of one configuration, as table cells in HEADER order. */
export function explainRow(c: Config): string[] {
  const perf = c.perf ?? new RooflinePerf({
    model: c.model, silicon: c.silicon, efficiency: c.efficiency, tensorParallel: c.tp,
    dtype: c.dtype, kvDtype: c.kvDtype, kvFraction: c.kvFraction, blockTokens: c.blockTokens, kvFree: c.kvFree,
  });
  const head = [c.name, c.model.id, c.silicon.id, String(c.tp), c.dtype, formatDecimal(perf.weightBytes / 1e9, 1),
    String(perf.kvBytesPerToken)];
  // The stack's rule (data/stacks.csv): a TensorRT-LLM deployment's weights may use all memory but
  // the reserve and activations, not kv_fraction of it.
  const usableGb = perf.weightsAndKvBytes / 1e9;
  if (perf.kvCapacityBlocks === 0) {
    return [...head, '0', '', '', '0', '', '', '', '', '', '',
      `weights ${formatDecimal(perf.weightBytes / 1e9, 1)} GB in ${c.dtype} exceed ${formatDecimal(usableGb, 1)} GB usable on ${c.tp} x ${c.silicon.id}`, '', '', ...profileCells(c)];
  }
  const P = c.promptTokens;
  const O = c.outputTokens;
  const ctx = P + O / 2;
  const { fit, batch: b, outputTokensPerS: replicaTokS } = saturatedReplica(perf, c.maxBatch, P, O);
  const note = fit < 1 ? `KV cache (${perf.kvCapacityTokens} tokens) holds no request of ${Math.round(ctx)} tokens` : '';
  const step = (n: number) => perf.decodeStepS(n, n * ctx);
  const perChip = replicaTokS / c.tp;
  // USD per replica-hour over millions of tokens per replica-hour at the saturated rate; input
  // tokens arrive with the output at the mean ratio P / O.
  const usdPerReplicaHour = c.usdPerChipHour * c.tp;
  const outMtokPerH = (replicaTokS * 3600) / 1e6;
  const inMtokPerH = (outMtokPerH * P) / Math.max(1, O);
  return [...head, String(perf.kvCapacityTokens), formatDecimal(P, 0), formatDecimal(O, 0), String(fit),
    formatDecimal(P / perf.prefillS(P, P * P), 0),
    formatDecimal(step(1), 6), formatDecimal(step(Math.min(32, b)), 6), formatDecimal(step(b), 6),
    formatDecimal(perChip, 1), formatDecimal(usdPerReplicaHour / outMtokPerH, 4), note,
    P > 0 ? formatDecimal(usdPerReplicaHour / inMtokPerH, 4) : '', formatDecimal(usdPerReplicaHour / (inMtokPerH + outMtokPerH), 4), ...profileCells(c)];
}

/** Said below the table when explain chose the dtype, because a scenario's deployment chooses otherwise. */
export const DEFAULT_DTYPE_NOTE =
  'dtype: without --dtype, explain takes each chip\'s fastest datapath (fp8 where the chip has it, mx9 on maia-100, ' +
  'int8 where that is its only 8-bit path); a scenario deployment without dtype: runs bf16, so give --dtype bf16 to see that';

/**
 * The dtype a deployment on this chip would normally use: FP8 where the chip has it, MX9 on Maia 100
 * (its fp8 column holds the MX9 peak, data/silicon.csv), int8 on chips with only an int8 datapath.
 */
export function sensibleDtype(silicon: Silicon): Dtype {
  if (silicon.id === 'maia-100') return 'mx9';
  if (Number.isFinite(silicon.fp8Tflops) && silicon.fp8Tflops > 0) return 'fp8';
  if (Number.isFinite(silicon.int8Tops) && silicon.int8Tops > 0) return 'int8';
  return 'bf16';
}

/**
 * Smallest power-of-two tensor parallelism whose KV cache holds at least 32 requests of `ctx`
 * tokens; the chip's max_tp when even that falls short (explainRow then says why).
 */
export function sensibleTp(model: Model, silicon: Silicon, efficiency: Efficiency, dtype: Dtype, ctx: number): number {
  let tp = 1;
  for (; tp <= silicon.maxTp; tp *= 2) {
    const perf = new RooflinePerf({
      model, silicon, efficiency, tensorParallel: tp, dtype, kvDtype: kvDtypeFor(dtype), kvFraction: KV_FRACTION, blockTokens: BLOCK_TOKENS,
    });
    if (perf.kvCapacityTokens >= 32 * ctx) return tp;
  }
  return silicon.maxTp;
}

function kvDtypeFor(dtype: Dtype): Dtype {
  return dtype === 'bf16' || dtype === 'fp16' ? dtype : 'fp8';
}

/** The scenario, with every deployment's `stack:` set to `stack` when given (as if written so). */
function scenarioWithStack(file: string, stack: string | undefined) {
  if (stack === undefined) return loadScenario(file);
  const source = readScenarioSource(file);
  const raw = structuredClone(source.raw);
  const deployments = raw.deployments;
  if (Array.isArray(deployments)) for (const d of deployments) if (d !== null && typeof d === 'object') (d as Record<string, unknown>).stack = stack;
  const scenario = resolveFromInput(source, raw, { edits: `explain --stack ${stack}` });
  checkStackName(scenario.catalog, stack);
  return scenario;
}

function configsFromScenario(file: string, flags: ExplainFlags, warnings: string[]): Config[] {
  const scenario = scenarioWithStack(file, flags.stack);
  warnings.push(...scenario.warnings);
  return scenario.deployments.map((d) => {
    // The lengths the deployment's capacity is measured at (its workloads' rate-weighted means,
    // src/scenario/warnings.ts capacityBasis), so full load here is the reports' 100% capacity used.
    const perfIn = d.perf.inputs;
    return {
      name: d.name, model: d.model, silicon: d.silicon, efficiency: d.efficiency, tp: d.tensorParallel,
      dtype: d.dtype, kvDtype: perfIn.kvDtype, kvFraction: perfIn.kvFraction, blockTokens: perfIn.blockTokens,
      maxBatch: d.maxBatch,
      promptTokens: flags.promptTokens ?? d.capacity.promptTokens,
      outputTokens: flags.outputTokens ?? d.capacity.outputTokens,
      usdPerChipHour: d.usdPerChipHour,
      perf: d.perf,
      stack: d.stack,
      perfError: d.perfError,
    };
  });
}

function configFor(catalog: Catalog, modelId: string, siliconId: string, flags: ExplainFlags, warnings: string[]): Config {
  const model = catalog.models.get(modelId);
  if (!model) throw new InputError(`--model: unknown model "${modelId}"${unknownIdHint(modelId, catalog.models.keys())}`);
  const silicon = catalog.silicon.get(siliconId);
  if (!silicon) throw new InputError(`--silicon: unknown silicon "${siliconId}"${unknownIdHint(siliconId, catalog.silicon.keys())}`);
  const resolved = resolveEfficiency(catalog, silicon, flags.stack);
  if (!resolved) throw new InputError(`--silicon: no efficiency factors for "${silicon.id}" (nor its kind ${silicon.kind}) in data/efficiency.csv`);
  const efficiency = resolved.efficiency;
  const stack = flags.stack ?? 'generic';
  for (const w of stackWarnings(catalog, silicon, stack, resolved)) warnings.push(`--stack ${stack}: ${w}`);
  // The stack's KV rule, as a deployment with this stack gets it (src/scenario/load.ts): explain
  // has no scheduler, so activations at trtllm-build's default max_num_tokens.
  const stackRow = flags.stack === undefined ? undefined : resolveStack(catalog, flags.stack);
  let dtype: Dtype = sensibleDtype(silicon);
  if (flags.dtype !== undefined) {
    if (!(DTYPES as readonly string[]).includes(flags.dtype)) {
      throw new InputError(`--dtype: expected one of ${DTYPES.join(', ')}, got "${flags.dtype}"`);
    }
    dtype = flags.dtype as Dtype;
  }
  const promptTokens = flags.promptTokens ?? DEFAULT_PROMPT_TOKENS;
  const outputTokens = flags.outputTokens ?? DEFAULT_OUTPUT_TOKENS;
  const tp = flags.tp ?? sensibleTp(model, silicon, efficiency, dtype, promptTokens + outputTokens / 2);
  if (tp < 1 || tp > silicon.maxTp) throw new InputError(`--tp: ${silicon.id} supports 1 to ${silicon.maxTp}, got ${tp}`);
  const kvFree = stackRow?.kvMemory === 'free' ? kvFreeMemory(model, tp, TRTLLM_DEFAULT_MAX_NUM_TOKENS, stackRow) : undefined;
  return {
    name: `${model.id}@${silicon.id}${flags.stack === undefined ? '' : `/${flags.stack}`}`, kvFree, model, silicon, efficiency, tp, dtype, kvDtype: kvDtypeFor(dtype),
    kvFraction: KV_FRACTION, blockTokens: BLOCK_TOKENS, maxBatch: flags.maxBatch ?? DEFAULT_MAX_BATCH,
    promptTokens, outputTokens, usdPerChipHour: silicon.usdPerChipHour,
    stack, perfError: perfErrorOf(catalog, silicon, resolved, undefined),
  };
}

/**
 * A stack no profile or KV rule names would silently fall back to generic, so a typo would print
 * the generic numbers under another name: refuse it, naming the stacks that exist.
 */
function checkStackName(catalog: Catalog, stack: string): void {
  const known = knownStacks(catalog);
  if (known.has(stack) || known.has(stackFamily(stack))) return;
  throw new InputError(`--stack: unknown stack "${stack}" (known: ${[...known].sort().join(', ')}; a version such as trtllm-0.17 falls back to its family)`);
}

/** Every row of every configuration (csv's columns), header first, and the input's warnings (each once). */
function explainAll(file: string | undefined, flags: ExplainFlags): { rows: string[][]; warnings: string[] } {
  if (flags.stack !== undefined && file === undefined) checkStackName(loadCatalog(), flags.stack);
  let configs: Config[];
  const warnings: string[] = [];
  if (file !== undefined) {
    if (flags.model || flags.silicon || flags.all) throw new InputError('explain: give either a scenario file or --model/--silicon or --all, not both');
    configs = configsFromScenario(file, flags, warnings);
  } else if (flags.all) {
    const catalog = loadCatalog();
    configs = [];
    for (const m of catalog.models.keys()) for (const s of catalog.silicon.keys()) configs.push(configFor(catalog, m, s, flags, warnings));
  } else {
    if (!flags.model || !flags.silicon) throw new InputError('explain: give a scenario file, or --model and --silicon, or --all');
    configs = [configFor(loadCatalog(), flags.model, flags.silicon, flags, warnings)];
  }
  return { rows: [HEADER, ...configs.map(explainRow)], warnings: [...new Set(warnings)] };
}

/** The rows `explain` prints, header first: csv's every column, the table's without the sentences it prints below. */
export function explainRows(file: string | undefined, flags: ExplainFlags): string[][] {
  const { rows } = explainAll(file, flags);
  return flags.format === 'csv' ? rows : tableColumns(rows);
}

function tableColumns(rows: string[][]): string[][] {
  const keep = HEADER.map((h, i) => (BELOW_TABLE.includes(h) ? -1 : i)).filter((i) => i >= 0);
  return rows.map((r) => keep.map((i) => r[i]));
}

/**
 * What the table leaves out, below it: each distinct perf note (what a configuration's step times
 * rest on: profile, fitted or assumed, the error band) and what each fitted profile was fitted to,
 * wrapped to `width`.
 */
export function profileNotes(rows: string[][], width: number): string {
  const [header, ...body] = rows;
  const at = (name: string) => header.indexOf(name);
  const notes = [...new Set(body.map((r) => r[at('perf_note')]).filter((n) => n !== ''))];
  const fitted = new Map<string, string>();
  for (const r of body) if (r[at('fitted_to')] !== '') fitted.set(r[at('profile')], r[at('fitted_to')]);
  let out = '\nwhat the step times rest on (as run.json perf[] records; docs/fidelity.md#efficiency-profiles):\n';
  for (const n of notes) out += wrap(n, width);
  for (const [profile, to] of fitted) out += wrap(`profile ${profile} fitted to ${to}`, width);
  return out;
}

/** `- text` broken at spaces into lines of at most `width` characters (a longer word alone), indented 2, continued at 4. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '  -';
  for (const word of text.split(' ')) {
    if (line.trim() !== '-' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `    ${word}`;
    } else line = `${line} ${word}`;
  }
  lines.push(line);
  return lines.map((l) => `${l}\n`).join('');
}

export function explainCommand(file: string | undefined, flags: ExplainFlags): void {
  if (flags.format !== 'table' && flags.format !== 'csv') throw new InputError(`--format: expected table or csv, got "${flags.format}"`);
  const { rows: all, warnings } = explainAll(file, flags);
  // As run, validate and plan do: the input's warnings (a stack with no profile of its own, ...) on stderr.
  reportWarnings(warnings, false);
  if (flags.format === 'csv') {
    for (const r of all) process.stdout.write(csvRow(r));
    return;
  }
  const rows = tableColumns(all);
  process.stdout.write(explainTable(rows, tableWidth()));
  process.stdout.write(profileNotes(all, tableWidth()));
  if (file === undefined && flags.dtype === undefined) process.stdout.write(wrap(DEFAULT_DTYPE_NOTE, tableWidth()));
  if (explainTable(rows, Infinity) !== explainTable(rows, tableWidth())) {
    process.stderr.write(`fleetsim: explain: turned on its side to fit ${tableWidth()} columns; --format csv gives one row per configuration\n`);
  }
}

/** The terminal's width, or 100 columns when stdout is not a terminal (a pager, a file). */
function tableWidth(): number {
  return process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : 100;
}

/**
 * The rows as a table of one line per configuration when that fits `width` columns; otherwise
 * (18 columns are ~290 characters) turned on its side, a line per field and a column per
 * configuration, as many configurations side by side as fit, further ones in blocks below.
 */
export function explainTable(rows: string[][], width: number): string {
  const table = (cells: string[][]) => {
    const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => r[i].length)));
    return cells.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  };
  const wide = table(rows);
  if (Math.max(...wide.map((l) => l.length)) <= width) return wide.map((l) => l + '\n').join('');
  const [header, ...body] = rows;
  const keyWidth = Math.max(...header.map((h) => h.length));
  const blocks: string[] = [];
  for (let at = 0; at < body.length; ) {
    // Widest group starting here that fits (at least one configuration, however wide).
    let n = 1;
    let used = keyWidth + 2 + Math.max(...body[at].map((c) => c.length));
    while (at + n < body.length) {
      const next = Math.max(...body[at + n].map((c) => c.length));
      if (used + 2 + next > width) break;
      used += 2 + next;
      n++;
    }
    const group = body.slice(at, at + n);
    // A field empty for every configuration shown (a note none of them has) is left out.
    const fields = header.map((h, i) => [h, ...group.map((r) => r[i])]).filter((f) => f.slice(1).some((c) => c !== ''));
    blocks.push(table(fields).join('\n') + '\n');
    at += n;
  }
  return blocks.join('\n');
}
