/**
 * Scenario loading in two passes: shape (YAML/JSON against the zod schema), then cross-references
 * against the catalog (unknown ids, weights that don't fit, missing files). Every error names the
 * file, the line and column, and the dotted field path.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { editDistance, InputError, unknownIdHint } from '../errors.js';
import { loadCatalog, resolveEfficiency, resolveStack, type Catalog, type ResolvedEfficiency, type Efficiency, type Model, type Price, type Silicon } from '../catalog/catalog.js';
import { kvFreeMemory, RooflinePerf } from '../perf/roofline.js';
import { ProfilePerf, loadProfile } from '../perf/profile.js';
import { PRIORITIES, scenarioJsonSchema, scenarioSchema, type Dtype, type SchedulerKind, type ScenarioInput } from './schema.js';
import type { ArrivalConfig } from '../workload/arrivals.js';
import { meanLength, meanSquare, type LengthConfig } from '../workload/lengths.js';
import { capacityBasis, capacityWarning, dtypeWarning, stackWarnings, meanArrivalRate, type CapacityBasis, type Demand, type Warn } from './warnings.js';
import { formatDuration } from './units.js';
import type { PrefixConfig } from '../workload/prefix.js';
import type { DurationConfig, SessionConfig } from '../workload/sessions.js';
import { readTraceColumns, validateTrace } from '../workload/trace.js';
import { MOONCAKE_HASH_BLOCK_TOKENS, openTrace, traceFormatOf } from '../workload/mooncake.js';
import { busyUsdPerChipHour, resolveCost, type DeploymentCost } from '../economics/cost.js';
import { resolveFacility, type Facility } from '../economics/facility.js';
import { priceKey, type TokenPrice } from '../economics/billing.js';
import { perfErrorOf, type PerfBasis, type PerfError } from './perf-error.js';

/** TensorRT-LLM's max_num_tokens when a deployment does not batch in-flight (trtllm-build's default, 8192). */
const TRTLLM_DEFAULT_MAX_NUM_TOKENS = 8192;

// Prices are economics' own type; re-exported for the modules that read them off a scenario.
export { priceKey, type TokenPrice };

export interface Deployment {
  index: number;
  name: string;
  model: Model;
  silicon: Silicon;
  efficiency: Efficiency;
  /** The stack named (`generic` when not) and how its profile was found (run.json perf_basis). */
  stack: string;
  efficiencyResolved: ResolvedEfficiency;
  perfBasis: PerfBasis;
  /** The cross-validated error its throughput predictions carry (src/scenario/perf-error.ts). */
  perfError: PerfError;
  replicas: number;
  tensorParallel: number;
  dtype: Dtype;
  maxBatch: number;
  /** Waiting requests per replica beyond which arrivals are turned away; Infinity when unbounded. */
  maxQueuePerReplica: number;
  scheduler: SchedulerKind;
  chunkTokens: number;
  blockTokens: number;
  /** scheduler disaggregated: the first `prefillReplicas` replicas prefill, the rest decode; else 0. */
  prefillReplicas: number;
  /** Whether its replicas keep a prefix cache (src/serving/prefix-cache.ts). */
  prefixCaching: boolean;
  /** `kv_offload:` resolved: the host tier's KV blocks per replica and seconds to copy one to the GPU (src/serving/host-tier.ts), or null. */
  kvOffload: { gb: number; gbps: number; blocks: number; sPerBlock: number } | null;
  perf: RooflinePerf;
  usdPerChipHour: number;
  /** Where the chip-hour price came from, for the report's assumption list. */
  priceProvenance: string;
  /** Cost model (rental or TCO) resolved to busy and idle rates; src/economics/cost.ts. */
  cost: DeploymentCost;
  /** `autoscale:`, or null for a fixed fleet. With it, `replicas` is `max` (the slots the fleet holds). */
  autoscale: Autoscale | null;
  /** `failures:` (random replica failures, src/serving/faults.ts), or null. */
  failures: Failures | null;
  /**
   * The saturated rate (src/perf/saturation.ts) at its traffic's mean lengths (explain's figure) and
   * at each workload's own, the basis of capacity_used_pct and of the ledger's attribution
   * (src/scenario/warnings.ts capacityBasis).
   */
  capacity: CapacityBasis;
}

/** Random replica failures: mean time between failures and to repair, seconds; repair exponential or constant. */
export interface Failures {
  mtbfS: number;
  mttrS: number;
  repair: 'exponential' | 'constant';
}

/** A deployment's autoscaling policy, resolved (src/serving/autoscaler.ts). */
export interface Autoscale {
  min: number;
  max: number;
  /** Replicas serving at the start (the file's `replicas`). */
  initial: number;
  metric: 'utilization' | 'queue_per_replica' | 'ttft_p90';
  target: number;
  /** From a scale-up decision to the new replica serving: provisioning plus weight loading. */
  scaleUpDelayS: number;
  /** A scale-down waits until every recommendation over this window was below the current count. */
  scaleDownDelayS: number;
  intervalS: number;
}

/**
 * ASSUMPTIONS for the default scale_up_delay, absent a measurement of the user's platform: a VM or
 * node with its container ready in 120 s, then the weights streamed into HBM at 2 GB/s per
 * replica. Published cold-start breakdowns put node provisioning at 60-120 s and weight loading
 * from object storage at 100-300 s for multi-GB models (docs/autoscaling.md names them); NVIDIA's
 * Run:ai Model Streamer and Anyscale report several times faster loading with tuned readers.
 */
export const PROVISION_S = 120;
export const WEIGHT_LOAD_BYTES_PER_S = 2e9;

/** Where a deployment's step times come from: a measured step-time profile, a fitted row of its own silicon, or its kind's default. */
export type { PerfBasis, PerfError } from './perf-error.js';

export interface Slo {
  ttftS: number;
  tpotS: number;
  e2eS: number;
}

export interface Workload {
  index: number;
  name: string;
  tenant: string;
  model: string;
  fallback: string[];
  arrival: ArrivalConfig;
  /** null: lengths come from the arrival trace's rows. */
  promptTokens: LengthConfig | null;
  outputTokens: LengthConfig | null;
  /** Hidden reasoning tokens per request (`reasoning_tokens`), or null; each draw is capped at reasoningBudget (Infinity: no budget). */
  reasoningTokens: LengthConfig | null;
  reasoningBudget: number;
  slo: Slo;
  timeoutS: number;
  /** Share of prompt tokens billed at the cached-input price. */
  cachedPromptFraction: number;
  /** Shared prompt prefixes (`prefix:`), or null. */
  prefix: PrefixConfig | null;
  /** The id of its prefix group 0 among all workloads' groups (the groups of earlier workloads come first). */
  prefixSegmentBase: number;
  /** Multi-turn conversations (`session:`), or null. */
  session: SessionConfig | null;
  /** Rate limits (`quota:`) of the workload and of its tenant (`tenants[].quota`, shared by the tenant's workloads), or null. */
  quota: QuotaConfig | null;
  tenantQuota: QuotaConfig | null;
  /** Queue class (`priority:`): 0 interactive, 1 standard (the default), 2 batch (and every batch-tier workload). */
  priority: number;
  /** Batch tier (`batch:`): how long its requests may wait to start, and the share off its price; null for other workloads. */
  batch: { windowS: number; discount: number } | null;
}

/** A token bucket's limits per minute; Infinity where the key is not given. */
export interface QuotaConfig {
  requestsPerMin: number;
  tokensPerMin: number;
}

export interface Incident {
  atS: number;
  durationS: number;
  deployment: number;
  kind: 'outage';
  /**
   * A partial outage (docs/failures.md): `replicas` N takes the N highest-numbered replicas
   * serving at its start, `replica` i the deployment's replica i; null for the whole deployment.
   */
  partial: { count: number; index: number | null } | null;
}

export interface Scenario {
  file: string;
  name: string;
  startMs: number;
  horizonS: number;
  warmupS: number;
  seed: number;
  reportIntervalS: number;
  engine: 'collapsed' | 'step';
  deployments: Deployment[];
  workloads: Workload[];
  routing: ScenarioInput['routing'];
  incidents: Incident[];
  catalog: Catalog;
  /** Price of (tenant, model): tenant override, else scenario model price, else catalog list price. */
  prices: Map<string, TokenPrice>;
  /** sha256 of the scenario text and the catalog it resolved against. */
  hash: string;
  /** Assumed (not sourced) figures this run depends on, for run.json and the CLI. */
  assumptions: string[];
  /** Valid input that probably does not mean what it says (src/scenario/warnings.ts), one located line each. */
  warnings: string[];
  /** PUE, electricity price and grid intensity for energy, TCO and emissions. */
  facility: Facility;
}


type Path = (string | number)[];

/** Maps a field path to its line and column in the source text. */
export class Locator {
  constructor(
    readonly file: string,
    private readonly doc: Document | null,
    private readonly lines: LineCounter | null,
  ) {}

  at(path: Path, message: string): InputError {
    const dotted = formatPath(path);
    if (!this.doc || !this.lines) return new InputError(message, { file: this.file, path: dotted });
    // Walk up until a node with a position exists (an absent key points at its parent).
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const { line, col } = this.lines.linePos(node.range[0]);
        return new InputError(message, { file: this.file, line, col, path: dotted });
      }
    }
    return new InputError(message, { file: this.file, path: dotted });
  }

  /** Position of a map key (for unknown keys, point at the key itself). */
  atKey(parent: Path, key: string, message: string): InputError {
    const dotted = formatPath([...parent, key]);
    const map = this.doc?.getIn(parent, true) as { items?: { key: unknown }[] } | undefined;
    const pair = map?.items?.find((it) => isNode(it.key) && (it.key as { value?: unknown }).value === key);
    if (pair && isNode(pair.key) && pair.key.range && this.lines) {
      const { line, col } = this.lines.linePos(pair.key.range[0]);
      return new InputError(message, { file: this.file, line, col, path: dotted });
    }
    return this.at([...parent, key], message);
  }
}

function formatPath(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number') return String(value); // keeps Infinity and NaN readable
  return JSON.stringify(value) ?? String(value);
}

type JsonNode = { properties?: Record<string, JsonNode>; items?: JsonNode; anyOf?: JsonNode[]; oneOf?: JsonNode[]; allOf?: JsonNode[] };

/** The nodes a path reaches in the scenario's JSON Schema, through arrays and every branch of a union. */
function schemaNodesAt(path: readonly (string | number)[]): JsonNode[] {
  let nodes: JsonNode[] = [scenarioJsonSchema() as JsonNode];
  const spread = (n: JsonNode): JsonNode[] => [n, ...[...(n.anyOf ?? []), ...(n.oneOf ?? []), ...(n.allOf ?? [])].flatMap(spread)];
  for (const p of path) {
    nodes = nodes.flatMap(spread).flatMap((n) => {
      const next = typeof p === 'number' ? n.items : n.properties?.[p];
      return next === undefined ? [] : [next];
    });
  }
  return nodes.flatMap(spread);
}

type SchemaNode = JsonNode & { const?: unknown };

/** The discriminator of a union branch: its one property with a `const` (process: closed, dist: constant). */
function branchTag(n: SchemaNode): [key: string, value: unknown] | null {
  const tag = Object.entries(n.properties ?? {}).find(([, v]) => (v as SchemaNode).const !== undefined);
  return tag ? [tag[0], (tag[1] as SchemaNode).const] : null;
}

/**
 * What an analyst needs after `unknown key "x"`: the closest known key, or the keys allowed there.
 * In a union such as `arrival` the keys allowed are the branch the map's own tag picks
 * (`process: closed`), so a key of another branch (`rate` belongs to poisson) is said to be
 * that, instead of "did you mean" the key itself.
 */
function knownKeysHint(path: readonly (string | number)[], key: string, map: unknown): string {
  const nodes = schemaNodesAt(path) as SchemaNode[];
  const values = map !== null && typeof map === 'object' ? (map as Record<string, unknown>) : {};
  const mine = nodes.find((n) => {
    const tag = branchTag(n);
    return tag !== null && values[tag[0]] === tag[1];
  });
  if (mine) {
    const [tagKey, tagValue] = branchTag(mine)!;
    const elsewhere = nodes.filter((n) => n !== mine && n.properties?.[key] !== undefined && branchTag(n)?.[0] === tagKey).map((n) => String(branchTag(n)![1]));
    const own = Object.keys(mine.properties ?? {}).filter((k) => k !== tagKey);
    if (elsewhere.length > 0) {
      return ` for ${tagKey}: ${String(tagValue)} ("${key}" belongs to ${tagKey}: ${elsewhere.join(' or ')}; ${String(tagValue)} takes ${own.join(', ')})`;
    }
    return closestKeyHint(key, own);
  }
  return closestKeyHint(key, [...new Set(nodes.flatMap((n) => Object.keys(n.properties ?? {})))]);
}

/** ` (did you mean "x"?)` for a near miss among `known` (never the key itself), else the keys allowed. */
function closestKeyHint(key: string, knownKeys: string[]): string {
  const known = knownKeys.filter((k) => k !== key);
  if (known.length === 0) return '';
  const distance = editDistance;
  const [closest] = [...known].sort((a, b) => distance(key, a) - distance(key, b) || a.localeCompare(b));
  if (distance(key, closest) <= Math.max(1, Math.floor(key.length / 3))) return ` (did you mean "${closest}"?)`;
  return `; expected one of: ${known.join(', ')}`;
}

function shapeError(issue: z.core.$ZodIssue, loc: Locator, input: unknown): InputError {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    let map: unknown = input;
    for (const p of path) map = map == null ? undefined : (map as Record<string | number, unknown>)[p];
    return loc.atKey(path, key, `unknown key "${key}"${knownKeysHint(path, key, map)}`);
  }
  let value: unknown = input;
  for (const p of path) value = value == null ? undefined : (value as Record<string | number, unknown>)[p];
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return loc.at(path, `${issue.message}`);
  }
  if (value === undefined) {
    return loc.at(path, issue.code === 'invalid_type' ? `missing required key (expected ${issue.expected})` : 'missing required key');
  }
  // A closed loop's concurrency is users, not a rate: `2.5/s` or `2.5` is probably an offered load.
  if (path[path.length - 1] === 'concurrency' && path.includes('arrival') && !(typeof value === 'number' && Number.isInteger(value))) {
    const n = typeof value === 'string' ? Number(value.trim()) : value;
    const asRate = typeof value === 'string' && value.includes('/') ? value.trim() : typeof n === 'number' && Number.isFinite(n) && !Number.isInteger(n) ? `${n}/s` : null;
    const hint = asRate !== null ? ' (for an offered rate use process: poisson, rate: ' + asRate + ')' : typeof value === 'string' && Number.isInteger(n) ? ' (a number, unquoted)' : '';
    return loc.at(path, `expected a whole number of users, e.g. concurrency: 16, got ${describe(value)}${hint}`);
  }
  if (issue.code === 'invalid_value') {
    return loc.at(path, `expected one of ${issue.values.map((v) => describe(v)).join(', ')}, got ${describe(value)}`);
  }
  if (issue.code === 'custom') return loc.at(path, issue.message);
  if (typeof value === 'number' && !Number.isFinite(value)) return loc.at(path, `expected a finite number, got ${value}`);
  if ((issue.code === 'too_big' || issue.code === 'too_small') && issue.origin === 'number' && typeof value === 'number') {
    const big = issue.code === 'too_big';
    const bound = Number(big ? issue.maximum : issue.minimum);
    const relation = big ? (issue.inclusive ? 'at most' : 'below') : issue.inclusive ? 'at least' : 'above';
    return loc.at(path, `expected a number ${relation} ${bound}, got ${value}${big && bound === 1 && value <= 100 ? ` (if a share is meant, ${value}% is ${value / 100})` : ''}`);
  }
  if (issue.code === 'invalid_type' && issue.expected === 'number' && typeof value === 'string' && /^\s*[\d.]+\s*%\s*$/.test(value)) {
    return loc.at(path, `expected a number, got ${describe(value)} (if a share is meant, ${value.trim()} is ${parseFloat(value) / 100})`);
  }
  const key = path[path.length - 1];
  if (issue.code === 'invalid_type' && issue.expected === 'object' && typeof key === 'string' && DISTRIBUTION_KEYS.has(key) && typeof value !== 'object') {
    return loc.at(path, `expected a distribution such as { dist: constant, value: ${typeof value === 'number' ? value : 1} }, got ${describe(value)}`);
  }
  return loc.at(path, `${issue.message}, got ${describe(value)}`);
}

/** Keys whose value is a distribution (`{ dist: … }`, src/scenario/schema.ts): a bare value gets an example. */
const DISTRIBUTION_KEYS = new Set(['prompt_tokens', 'output_tokens', 'reasoning_tokens', 'turns', 'think_time', 'tool_time', 'tool_output_tokens']);

/** Parses scenario text (YAML or JSON) into a plain object, not yet validated, and its Locator. */
/**
 * JSON is read by the YAML parser (a superset), which accepts what JSON does not (trailing commas,
 * comments) and then reports the wrong thing; a .json file gets JSON's own error and position.
 */
function checkJson(text: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : 0;
    const before = text.slice(0, offset).split('\n');
    throw new InputError(`malformed JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}`, {
      file,
      line: before.length,
      col: before[before.length - 1].length + 1,
    });
  }
}

/**
 * Limits on a scenario file's size and nesting. The bundled scenarios are under 8 KB and 6 levels
 * deep; the caps are far above any real scenario and far below what would exhaust memory or the stack.
 */
export const MAX_SCENARIO_BYTES = 4 * 1024 * 1024;
export const MAX_SCENARIO_DEPTH = 32;

/** yaml's own limit on alias expansion (its default, stated): 100 per alias, which stops alias bombs. */
const MAX_ALIAS_COUNT = 100;

/** Where the first alias (`*name`) of the document is: the likely cause of an alias-count error. */
function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** The dotted path of the first value nested deeper than {@link MAX_SCENARIO_DEPTH}, or null. */
function tooDeep(value: unknown, path: Path = []): Path | null {
  if (path.length > MAX_SCENARIO_DEPTH) return path;
  if (value === null || typeof value !== 'object') return null;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const deep = tooDeep(v, [...path, k]);
    if (deep) return deep;
  }
  return null;
}

export function parseScenarioRaw(text: string, file: string): { raw: Record<string, unknown>; loc: Locator } {
  if (text.length > MAX_SCENARIO_BYTES) {
    throw new InputError(
      `scenario file is ${(text.length / 1048576).toFixed(1)} MB; at most ${MAX_SCENARIO_BYTES / 1048576} MB is accepted (long request lists belong in a trace file)`,
      { file },
    );
  }
  const lines = new LineCounter();
  if (file.toLowerCase().endsWith('.json')) checkJson(text, file);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    throw new InputError(`malformed YAML/JSON: ${(err as Error).message.split('\n')[0]}`, { file });
  }
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    const { line, col } = lines.linePos(err.pos[0]);
    const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
    throw new InputError(`malformed YAML/JSON: ${message}`, { file, line, col });
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws (a ReferenceError for an alias bomb) from its conversion to JS: still the file's fault.
    const message = (err as Error).message.split('\n')[0];
    const alias = /alias/i.test(message);
    const { line, col } = lines.linePos(alias ? firstAliasOffset(doc) : 0);
    throw new InputError(`${alias ? 'YAML aliases expand too far' : 'cannot read YAML'}: ${message}`, { file, line, col });
  }
  const loc = new Locator(file, doc, lines);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('expected a mapping of scenario keys (name, horizon, deployments, workloads, ...)', {
      file,
      line: 1,
      col: 1,
    });
  }
  const deep = tooDeep(raw);
  if (deep) throw loc.at(deep, `nested more than ${MAX_SCENARIO_DEPTH} levels deep; no scenario key needs that`);
  return { raw: raw as Record<string, unknown>, loc };
}

/** Validates a raw scenario object (possibly edited by `--set` or a sweep) against the schema. */
export function validateShape(raw: unknown, loc: Locator): ScenarioInput {
  // jitless: zod would otherwise compile a parser per object shape (new Function) on first use,
  // which costs a one-parse command like `validate` about 10 ms and a run per point nothing useful.
  const parsed = scenarioSchema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    // A misspelt key also leaves a required key missing: report the typo, which is the cause.
    const issues = parsed.error.issues;
    const first = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
    throw shapeError(first, loc, raw);
  }
  return parsed.data;
}

/** Parses scenario text (YAML or JSON) into the validated input shape. */
export function parseScenarioText(text: string, file: string): { input: ScenarioInput; loc: Locator } {
  const { raw, loc } = parseScenarioRaw(text, file);
  return { input: validateShape(raw, loc), loc };
}

/**
 * SLO targets past what any interactive service promises (a minute to the first token, a second a
 * token) are most often milliseconds written without a unit, which read as seconds: say so.
 */
const SLO_PLAUSIBLE_S = { ttft: 60, tpot: 1 } as const;

function sloUnitWarning(slo: { ttft?: number; tpot?: number }, at: (...p: Path) => Path, warn: Warn): void {
  for (const key of ['ttft', 'tpot'] as const) {
    const s = slo[key];
    if (s === undefined || s < SLO_PLAUSIBLE_S[key]) continue;
    warn(at('slo', key), `a target of ${formatDuration(s)} is unusually long; a number without a unit is seconds (write ${s}ms for milliseconds)`);
  }
}

/** A scenario file read but not resolved: sweeps and plans edit `raw` copies, then resolve each. */
export interface ScenarioSource {
  file: string;
  text: string;
  baseDir: string;
  raw: Record<string, unknown>;
  loc: Locator;
}

export function readScenarioSource(path: string): ScenarioSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read scenario file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      file: path,
    });
  }
  const { raw, loc } = parseScenarioRaw(text, path);
  return { file: path, text, baseDir: dirname(resolve(path)), raw, loc };
}

export interface ResolveOverrides {
  seed?: number;
  horizonS?: number;
  /** Describes edits made to the raw object (e.g. `--set` pairs); hashed with the text so edited runs differ. */
  edits?: string;
}

/**
 * Validates and resolves a raw scenario object, typically an edited copy of `source.raw`.
 * Errors point at the original file's lines, which is where an edited key lives too.
 */
export function resolveFromInput(source: ScenarioSource, raw: unknown, overrides: ResolveOverrides = {}): Scenario {
  const input = validateShape(raw, source.loc);
  const text = overrides.edits ? `${source.text}\u0000${overrides.edits}` : source.text;
  return resolveScenario(input, source.loc, source.baseDir, text, overrides);
}

function priceFromCatalog(p: Price): TokenPrice {
  return {
    inputUsdPerMtok: p.inputUsdPerMtok,
    outputUsdPerMtok: p.outputUsdPerMtok,
    cachedInputUsdPerMtok: Number.isFinite(p.cachedInputUsdPerMtok) ? p.cachedInputUsdPerMtok : p.inputUsdPerMtok,
    vendorShare: p.vendorShare,
    feeUsdPerRequest: 0,
    provenance: p.source ? `catalog: ${p.source}` : `catalog assumption: ${p.assumption}`,
  };
}

/** Loads and fully validates a scenario file. */
export function loadScenario(path: string, overrides: { seed?: number; horizonS?: number } = {}): Scenario {
  const source = readScenarioSource(path);
  return resolveFromInput(source, source.raw, overrides);
}

function resolveScenario(
  input: ScenarioInput,
  loc: Locator,
  baseDir: string,
  text: string,
  overrides: { seed?: number; horizonS?: number },
): Scenario {
  const catalog = loadCatalog(input.catalog, (path, message) => loc.at(path, message));
  const assumptions = new Set<string>();
  const warnings: string[] = [];
  const warn: Warn = (path, message) => warnings.push(loc.at(path, message).format());
  const note = (what: string, p: { source: string; assumption: string }) => {
    if (p.assumption) assumptions.add(`${what}: ${p.assumption}`);
  };

  const horizonS = overrides.horizonS ?? input.horizon;
  if (!(horizonS > 0)) throw loc.at(['horizon'], 'expected a positive duration');
  if (input.warmup >= horizonS) throw loc.at(['warmup'], 'warmup must be shorter than the horizon');
  const facility = resolveFacility(input.facility, (k, m) => loc.at(['facility', k], m));
  if (facility.assumption) assumptions.add(`facility ${facility.region}: ${facility.assumption}`);

  const names = new Set<string>();
  const deployments: Deployment[] = input.deployments.map((d, i) => {
    const at = (...p: Path) => ['deployments', i, ...p];
    if (names.has(d.name)) throw loc.at(at('name'), `duplicate deployment name "${d.name}"`);
    names.add(d.name);
    const model = catalog.models.get(d.model);
    if (!model) throw loc.at(at('model'), `unknown model "${d.model}"${unknownIdHint(d.model, catalog.models.keys())}`);
    const silicon = catalog.silicon.get(d.silicon);
    if (!silicon) {
      throw loc.at(at('silicon'), `unknown silicon "${d.silicon}"${unknownIdHint(d.silicon, catalog.silicon.keys())}`);
    }
    const resolved = resolveEfficiency(catalog, silicon, d.stack);
    if (!resolved) throw loc.at(at('silicon'), `no efficiency factors for silicon "${silicon.id}" (nor its kind ${silicon.kind}) in the catalog`);
    const efficiency = resolved.efficiency;
    if (d.tensor_parallel > silicon.maxTp) {
      throw loc.at(at('tensor_parallel'), `${silicon.id} supports tensor_parallel up to ${silicon.maxTp}, got ${d.tensor_parallel}`);
    }
    const kvDtype: Dtype = d.kv_dtype ?? (d.dtype === 'bf16' || d.dtype === 'fp16' ? d.dtype : 'fp8');
    // A stack that sizes the KV cache from free memory (TensorRT-LLM) gets kv_fraction of what its
    // weights, activations and reserve leave; activations scale with max_num_tokens: chunk_tokens
    // with in-flight (chunked) batching, else trtllm-build's default.
    const stackRow = resolveStack(catalog, d.stack);
    const kvFree = stackRow.kvMemory === 'free'
      ? kvFreeMemory(model, d.tensor_parallel, d.scheduler === 'chunked' ? d.chunk_tokens : TRTLLM_DEFAULT_MAX_NUM_TOKENS, stackRow)
      : undefined;
    const perfInputs = {
      kvFree,
      model,
      silicon,
      efficiency,
      tensorParallel: d.tensor_parallel,
      dtype: d.dtype,
      kvDtype,
      kvFraction: d.kv_fraction,
      blockTokens: d.block_tokens,
      expertParallel: d.expert_parallel,
      expertDtype: d.expert_dtype,
    };
    if (d.expert_dtype !== undefined && !(model.experts > 1 && model.expertParamsB > 0)) {
      throw loc.at(at('expert_dtype'), `expert_dtype applies only to MoE models; ${model.id} is dense`);
    }
    let perf: RooflinePerf;
    if (d.profile !== undefined) {
      try {
        perf = new ProfilePerf(perfInputs, loadProfile(resolve(baseDir, d.profile)));
      } catch (err) {
        if (err instanceof InputError && err.location.line === undefined) throw loc.at(at('profile'), err.message);
        throw err;
      }
    } else perf = new RooflinePerf(perfInputs);
    let prefillReplicas = 0;
    if (d.scheduler === 'disaggregated') {
      prefillReplicas = d.prefill_replicas ?? Math.max(1, Math.floor(d.replicas / 2));
      if (d.replicas < 2 || prefillReplicas >= d.replicas) {
        throw loc.at(at(d.prefill_replicas === undefined ? 'replicas' : 'prefill_replicas'),
          `scheduler disaggregated needs at least one prefill and one decode replica: prefill_replicas (${prefillReplicas}) must be below replicas (${d.replicas})`);
      }
    } else if (d.prefill_replicas !== undefined) {
      throw loc.at(at('prefill_replicas'), 'prefill_replicas applies only to scheduler: disaggregated');
    }
    let autoscale: Autoscale | null = null;
    if (d.autoscale !== undefined) {
      const a = d.autoscale;
      if (a.min > a.max) throw loc.at(at('autoscale', 'min'), `min (${a.min}) must not exceed max (${a.max})`);
      if (d.replicas < a.min || d.replicas > a.max) {
        throw loc.at(at('replicas'), `with autoscale, replicas (the count at the start) must be within min..max (${a.min}..${a.max}), got ${d.replicas}`);
      }
      if (d.scheduler === 'disaggregated') throw loc.at(at('autoscale'), 'autoscale does not apply to scheduler: disaggregated (its pools are sized by prefill_replicas)');
      if (!(a.interval > 0)) throw loc.at(at('autoscale', 'interval'), 'expected a positive duration');
      let scaleUpDelayS = a.scale_up_delay;
      if (scaleUpDelayS === undefined) {
        scaleUpDelayS = PROVISION_S + perf.weightBytes / WEIGHT_LOAD_BYTES_PER_S;
        assumptions.add(
          `deployment ${d.name} autoscale: scale_up_delay ${scaleUpDelayS.toFixed(0)} s = ${PROVISION_S} s provisioning + ` +
            `${(perf.weightBytes / 1e9).toFixed(1)} GB of weights at ${WEIGHT_LOAD_BYTES_PER_S / 1e9} GB/s (assumed; docs/autoscaling.md)`,
        );
      }
      autoscale = {
        min: a.min,
        max: a.max,
        initial: d.replicas,
        metric: a.metric,
        target: a.target,
        scaleUpDelayS,
        scaleDownDelayS: a.scale_down_delay,
        intervalS: a.interval,
      };
    }
    let failures: Failures | null = null;
    if (d.failures !== undefined) {
      const fl = d.failures;
      if (!(fl.mtbf > 0)) throw loc.at(at('failures', 'mtbf'), 'expected a positive duration (mean time between failures)');
      if (!(fl.mttr > 0)) throw loc.at(at('failures', 'mttr'), 'expected a positive duration (mean time to repair)');
      if (d.scheduler === 'disaggregated') throw loc.at(at('failures'), 'failures do not apply to scheduler: disaggregated (its prefill and decode pools are not modelled failing apart)');
      failures = { mtbfS: fl.mtbf, mttrS: fl.mttr, repair: fl.repair };
    }
    let kvOffload: Deployment['kvOffload'] = null;
    if (d.kv_offload !== undefined) {
      const { gb, gbps } = d.kv_offload;
      if (!(gb > 0) || !Number.isFinite(gb)) throw loc.at(at('kv_offload', 'gb'), `expected a positive number of GB of host memory per replica, got ${gb}`);
      if (!(gbps > 0) || !Number.isFinite(gbps)) throw loc.at(at('kv_offload', 'gbps'), `expected a positive host-to-GPU bandwidth in GB/s, got ${gbps}`);
      if (!(d.prefix_caching ?? input.prefix_caching)) throw loc.at(at('kv_offload'), 'kv_offload holds the prefix cache\'s evicted blocks: it needs prefix_caching on (the deployment\'s or the scenario\'s)');
      const bytesPerBlock = perf.kvBytesPerToken * d.block_tokens;
      const blocks = Math.floor((gb * 1e9) / bytesPerBlock);
      if (blocks < 1) throw loc.at(at('kv_offload', 'gb'), `${gb} GB holds no KV block (${(bytesPerBlock / 1e6).toFixed(2)} MB per block of ${d.block_tokens} tokens)`);
      kvOffload = { gb, gbps, blocks, sPerBlock: bytesPerBlock / (gbps * 1e9) };
    }
    if (perf.kvCapacityBlocks === 0) {
      // Both in GB of 1e9 bytes, as the weights are (memory_gb is binary).
      const memGb = kvFree
        ? `${(perf.weightsAndKvBytes / 1e9).toFixed(1)} GB left by stack ${d.stack}'s reserve and activations`
        : `${(perf.weightsAndKvBytes / 1e9).toFixed(1)} GB usable at kv_fraction ${d.kv_fraction}`;
      throw loc.at(
        at('tensor_parallel'),
        `${model.id} weights (${(perf.weightBytes / 1e9).toFixed(1)} GB in ${d.dtype}) do not fit ${d.tensor_parallel} x ${silicon.id} ` +
          `(${memGb}) with room for KV cache: raise tensor_parallel or use a smaller dtype`,
      );
    }
    if (kvFree) {
      note(`stack ${stackRow.stack}`, stackRow);
      assumptions.add(
        `deployment ${d.name} stack ${d.stack}: KV cache = kv_fraction ${d.kv_fraction} x memory free after weights, ` +
          `${(kvFree.activationBytes / 1e9).toFixed(2)} GB of activations and ${(kvFree.reservedBytes / 1e9).toFixed(2)} GB reserved ` +
          `(${(perf.kvCapacityTokens * perf.kvBytesPerToken / 1e9).toFixed(1)} GB, ${perf.kvCapacityTokens} tokens; data/stacks.csv)`,
      );
    }
    for (const w of stackWarnings(catalog, silicon, d.stack, resolved)) warn(at('stack'), w);
    dtypeWarning(silicon, d.dtype, at('dtype'), warn);
    if (d.expert_dtype !== undefined && d.expert_dtype !== d.dtype) dtypeWarning(silicon, d.expert_dtype, at('expert_dtype'), warn);
    note(`silicon ${silicon.id}`, silicon);
    note(`model ${model.id}`, model);
    const effName = efficiency.stack === 'generic' ? efficiency.silicon : `${efficiency.silicon}@${efficiency.stack}`;
    note(`efficiency ${effName}`, efficiency);
    const perfError = perfErrorOf(catalog, silicon, resolved, d.profile);
    if (!perfError.hasBand || !perfError.siliconMeasured) assumptions.add(`deployment ${d.name} performance: ${perfError.note}`);
    const cost = resolveCost(d.cost, silicon, facility, (k, m) => loc.at(at('cost', k), m));
    for (const n of cost.notes) assumptions.add(`deployment ${d.name} cost: ${n}`);
    // The busy rate is the marginal price of a chip-hour, which is what routing and planning compare.
    const usdPerChipHour = busyUsdPerChipHour(cost);
    const priceProvenance =
      cost.model === 'tco' ? 'tco (capex, power, overhead)' : d.cost.usd_per_chip_hour !== undefined ? 'scenario' : silicon.source;
    return {
      index: i,
      name: d.name,
      model,
      silicon,
      efficiency,
      stack: d.stack,
      efficiencyResolved: resolved,
      perfBasis: perfError.basis,
      perfError,
      replicas: autoscale === null ? d.replicas : autoscale.max,
      tensorParallel: d.tensor_parallel,
      dtype: d.dtype,
      maxBatch: d.max_batch,
      maxQueuePerReplica: d.max_queue ?? Infinity,
      scheduler: d.scheduler,
      chunkTokens: d.chunk_tokens,
      blockTokens: d.block_tokens,
      prefillReplicas,
      prefixCaching: d.prefix_caching ?? input.prefix_caching,
      kvOffload,
      perf,
      usdPerChipHour,
      priceProvenance,
      cost,
      autoscale,
      failures,
      // Set once the workloads' mean lengths are known (below).
      capacity: { promptTokens: NaN, outputTokens: NaN, outputTokensPerSPerReplica: NaN, workloadOutputTokensPerSPerReplica: new Float64Array(0), workloadPromptTokens: new Float64Array(0), workloadOutputTokens: new Float64Array(0) },
    };
  });
  const servedModels = new Set(deployments.map((d) => d.model.id));

  const workloadNames = new Set<string>();
  // Many tenants often draw lengths from the same trace: each file is read once per load, not once
  // per workload and column (40 workloads on one trace took 0.7 s to load).
  const checkedTraces = new Map<string, ReturnType<typeof validateTrace>>();
  // One trace file read two ways (formats, hash block sizes) is two traces.
  const traceKey = (abs: string, format: 'azure' | 'mooncake', hashBlockTokens: number) => `${format}:${hashBlockTokens}:${abs}`;
  const traceColumns = new Map<string, { prompt: Int32Array; output: Int32Array }>();
  let prefixSegments = 0;
  const quotaOf = (qIn: { requests_per_min?: number; tokens_per_min?: number } | undefined, p: Path): QuotaConfig | null => {
    if (qIn === undefined) return null;
    if (qIn.requests_per_min === undefined && qIn.tokens_per_min === undefined) {
      throw loc.at(p, 'expected requests_per_min, tokens_per_min or both');
    }
    return { requestsPerMin: qIn.requests_per_min ?? Infinity, tokensPerMin: qIn.tokens_per_min ?? Infinity };
  };
  const tenantQuotas = new Map<string, QuotaConfig | null>();
  input.tenants.forEach((t, i) => {
    if (tenantQuotas.has(t.name)) throw loc.at(['tenants', i, 'name'], `duplicate tenant "${t.name}"`);
    if (!input.workloads.some((w) => w.tenant === t.name)) throw loc.at(['tenants', i, 'name'], `no workload has tenant "${t.name}"`);
    tenantQuotas.set(t.name, quotaOf(t.quota, ['tenants', i, 'quota']));
  });
  const workloads: Workload[] = input.workloads.map((w, i) => {
    const at = (...p: Path) => ['workloads', i, ...p];
    if (workloadNames.has(w.name)) throw loc.at(at('name'), `duplicate workload name "${w.name}"`);
    workloadNames.add(w.name);
    if (!catalog.models.has(w.model)) throw loc.at(at('model'), `unknown model "${w.model}"${unknownIdHint(w.model, catalog.models.keys())}`);
    if (!servedModels.has(w.model)) throw loc.at(at('model'), `no deployment serves model "${w.model}"`);
    sloUnitWarning(w.slo, at, warn);
    w.fallback.forEach((m, j) => {
      if (!servedModels.has(m)) throw loc.at(at('fallback', j), `no deployment serves fallback model "${m}"`);
      if (m === w.model || w.fallback.indexOf(m) < j) {
        throw loc.at(at('fallback', j), `"${m}" is already ${m === w.model ? 'the workload\'s model' : 'an earlier fallback'}`);
      }
    });
    /** Runs `read` on a trace file; an error about the file as a whole is reported at `p`. */
    const readTrace = <T>(abs: string, p: Path, read: (file: string) => T): T => {
      try {
        return read(abs);
      } catch (err) {
        if (err instanceof InputError && err.location.line === undefined) throw loc.at(p, err.message);
        throw err;
      }
    };
    const traceFile = (f: string, p: Path, format: 'azure' | 'mooncake', hashBlockTokens: number) => {
      const abs = resolve(baseDir, f);
      const key = traceKey(abs, format, hashBlockTokens);
      if (!checkedTraces.has(key)) checkedTraces.set(key, readTrace(abs, p, (file) => validateTrace(file, (x) => openTrace(x, format, hashBlockTokens))));
      return abs;
    };
    let arrival: ArrivalConfig;
    const a = w.arrival;
    if (a.process === 'poisson') arrival = { process: 'poisson', ratePerS: a.rate, requests: a.requests ?? Infinity };
    else if (a.process === 'diurnal') {
      arrival = { process: 'diurnal', ratePerS: a.rate, hourly: a.hourly, startHourOffset: new Date(input.start).getUTCHours() };
    } else if (a.process === 'closed') {
      if (a.think_time === 0 && a.requests === undefined) {
        // Zero think time without a request count can spin at one instant when every request is
        // turned away (queue limit, a prompt larger than the KV cache): time would never advance.
        throw loc.at(at('arrival'), 'closed arrivals with think_time 0 need requests: (how many to send in all)');
      }
      arrival = { process: 'closed', concurrency: a.concurrency, thinkTimeS: a.think_time, requests: a.requests ?? Infinity };
    } else {
      const format = a.format ?? traceFormatOf(a.file);
      if (format === 'azure' && a.hash_block_tokens !== undefined) {
        throw loc.at(at('arrival', 'hash_block_tokens'), 'hash_block_tokens is for a trace with hash_ids (format: mooncake); an Azure trace has none');
      }
      const hashBlockTokens = a.hash_block_tokens ?? MOONCAKE_HASH_BLOCK_TOKENS;
      if (format === 'mooncake') {
        if (w.prompt_tokens !== undefined) {
          throw loc.at(at('prompt_tokens'), 'prompt_tokens and a Mooncake trace both set: the rows\' hash_ids describe their own input_length; drop prompt_tokens');
        }
        for (const key of ['prefix', 'session'] as const) {
          if (w[key] !== undefined) throw loc.at(at(key), `${key} and a Mooncake trace both set: the trace's hash_ids say which prompt blocks are shared; drop ${key}`);
        }
        if (w.cached_prompt_fraction > 0) {
          throw loc.at(at('cached_prompt_fraction'), 'cached_prompt_fraction and a Mooncake trace both set: the simulated cache decides from hash_ids which prompt tokens are billed as cached; drop cached_prompt_fraction');
        }
        for (const d of deployments) {
          if (d.prefixCaching && (d.model.id === w.model || w.fallback.includes(d.model.id)) && hashBlockTokens % d.blockTokens !== 0) {
            throw loc.at(at('arrival', 'hash_block_tokens'),
              `the trace's hash blocks of ${hashBlockTokens} tokens are not a whole number of deployment "${d.name}"'s KV blocks (block_tokens ${d.blockTokens}); set block_tokens to a divisor of ${hashBlockTokens}`);
          }
        }
      }
      arrival = {
        process: 'trace',
        ...(format === 'mooncake' ? { format, hashBlockTokens } : {}),
        file: traceFile(a.file, at('arrival', 'file'), format, hashBlockTokens),
        speedup: a.speedup,
        scale: a.scale,
        loop: a.loop,
        offsetS: a.offset,
      };
    }
    const lengths = (key: 'prompt_tokens' | 'output_tokens' | 'reasoning_tokens'): LengthConfig | null => {
      const cfg = w[key];
      if (!cfg) {
        if (arrival.process === 'trace' || key === 'reasoning_tokens') return null;
        throw loc.at(at(key), 'missing required key (a length distribution; only trace arrivals may leave it out)');
      }
      if (cfg.dist === 'empirical') {
        const abs = resolve(baseDir, cfg.file);
        let columns = traceColumns.get(abs);
        if (columns === undefined) {
          columns = readTrace(abs, at(key, 'file'), (file) => readTraceColumns(file, (x) => openTrace(x, traceFormatOf(x))));
          traceColumns.set(abs, columns);
        }
        const column = cfg.column ?? (key === 'prompt_tokens' ? 'prompt' : 'output');
        return { dist: 'empirical', values: columns[column] };
      }
      if (cfg.dist === 'uniform' && cfg.max < cfg.min) throw loc.at(at(key, 'max'), 'max must be at least min');
      if (cfg.dist === 'lognormal' && cfg.p99 < cfg.median) throw loc.at(at(key, 'p99'), 'p99 must be at least the median');
      if ('budget' in cfg) {
        // The sampler takes the distribution alone; the budget is applied by the simulation.
        const { budget: _budget, ...dist } = cfg;
        return dist as LengthConfig;
      }
      return cfg;
    };
    if (w.prefix !== undefined && w.cached_prompt_fraction > 0) {
      throw loc.at(at('cached_prompt_fraction'),
        'cached_prompt_fraction and prefix both set: with prefix the simulated cache decides which prompt tokens are billed as cached; drop cached_prompt_fraction');
    }
    let session: SessionConfig | null = null;
    if (w.session !== undefined) {
      if (arrival.process === 'closed') {
        throw loc.at(at('session'), 'session needs an open-loop arrival process (poisson, diurnal or trace): a conversation is its own closed loop');
      }
      if (w.cached_prompt_fraction > 0) {
        throw loc.at(at('cached_prompt_fraction'),
          'cached_prompt_fraction and session both set: with sessions the simulated cache decides which prompt tokens are billed as cached; drop cached_prompt_fraction');
      }
      for (const key of ['prompt_tokens', 'output_tokens'] as const) {
        if (w[key] === undefined) throw loc.at(at(key), 'missing required key (a session draws each turn\'s new tokens from it)');
      }
      const turns = w.session.turns;
      if (turns.dist === 'uniform' && turns.max < turns.min) throw loc.at(at('session', 'turns', 'max'), 'max must be at least min');
      if (turns.dist === 'lognormal' && turns.p99 < turns.median) throw loc.at(at('session', 'turns', 'p99'), 'p99 must be at least the median');
      type Pause = NonNullable<typeof w.session.tool_time>;
      /** A pause distribution in seconds, checked at session.KEY. */
      const pause = (key: 'think_time' | 'tool_time', t: Pause): DurationConfig => {
        if (t.dist === 'constant') return { dist: 'constant', valueS: t.value };
        if (t.dist === 'uniform') {
          if (t.max < t.min) throw loc.at(at('session', key, 'max'), 'max must be at least min');
          return { dist: 'uniform', minS: t.min, maxS: t.max };
        }
        if (t.dist === 'exponential') return { dist: 'exponential', meanS: t.mean };
        if (!(t.median > 0)) throw loc.at(at('session', key, 'median'), 'expected a positive duration');
        if (t.p99 < t.median) throw loc.at(at('session', key, 'p99'), 'p99 must be at least the median');
        if (t.max !== undefined && t.max < t.median) throw loc.at(at('session', key, 'max'), 'max must be at least the median');
        return { dist: 'lognormal', medianS: t.median, p99S: t.p99, maxS: t.max };
      };
      const toolOut = w.session.tool_output_tokens ?? null;
      if (toolOut?.dist === 'uniform' && toolOut.max < toolOut.min) throw loc.at(at('session', 'tool_output_tokens', 'max'), 'max must be at least min');
      if (toolOut?.dist === 'lognormal' && toolOut.p99 < toolOut.median) throw loc.at(at('session', 'tool_output_tokens', 'p99'), 'p99 must be at least the median');
      session = {
        turns,
        thinkTime: pause('think_time', w.session.think_time),
        toolTime: w.session.tool_time ? pause('tool_time', w.session.tool_time) : null,
        toolOutputTokens: toolOut,
      };
    }
    if (w.batch !== undefined) {
      const why = (key: string) => `a batch-tier workload (batch:) cannot set ${key}`;
      if (w.priority !== undefined && w.priority !== 'batch') throw loc.at(at('priority'), `${why(`priority ${w.priority}`)}: it is served only from capacity every other class leaves`);
      if (w.fallback.length > 0) throw loc.at(at('fallback'), `${why('fallback')}: its requests wait for their own model`);
      if (w.timeout !== undefined) throw loc.at(at('timeout'), `${why('timeout')}: batch.window is how long its requests may wait`);
      if (w.prefix !== undefined) throw loc.at(at('prefix'), `${why('prefix')}: batch requests bypass the prefix cache`);
      if (w.session !== undefined) throw loc.at(at('session'), `${why('session')}: batch requests are one-shot`);
      if (!(w.batch.window > 0)) throw loc.at(at('batch', 'window'), 'expected a positive duration');
      if (!deployments.some((d) => d.model.id === w.model && d.scheduler !== 'disaggregated' && d.replicas > 0)) {
        throw loc.at(at('batch'), `no deployment of "${w.model}" can serve the batch tier (disaggregated deployments do not take batch work)`);
      }
    }
    return {
      index: i,
      name: w.name,
      tenant: w.tenant,
      model: w.model,
      fallback: w.fallback,
      arrival,
      promptTokens: lengths('prompt_tokens'),
      outputTokens: lengths('output_tokens'),
      reasoningTokens: lengths('reasoning_tokens'),
      reasoningBudget: w.reasoning_tokens?.budget ?? Infinity,
      slo: { ttftS: w.slo.ttft ?? Infinity, tpotS: w.slo.tpot ?? Infinity, e2eS: w.slo.e2e ?? Infinity },
      timeoutS: w.timeout ?? Infinity,
      cachedPromptFraction: w.cached_prompt_fraction,
      prefix: w.prefix ?? null,
      prefixSegmentBase: (prefixSegments += w.prefix?.groups ?? 0) - (w.prefix?.groups ?? 0),
      session,
      quota: quotaOf(w.quota, at('quota')),
      tenantQuota: tenantQuotas.get(w.tenant) ?? null,
      priority: PRIORITIES.indexOf(w.priority ?? (w.batch !== undefined ? 'batch' : 'standard')),
      batch: w.batch === undefined ? null : { windowS: w.batch.window, discount: w.batch.discount },
    };
  });

  const prices = new Map<string, TokenPrice>();
  const modelPrices = new Map<string, TokenPrice>();
  for (const [model, p] of catalog.prices) modelPrices.set(model, priceFromCatalog(p));
  input.pricing.forEach((p, i) => {
    if (!catalog.models.has(p.model)) throw loc.at(['pricing', i, 'model'], `unknown model "${p.model}"${unknownIdHint(p.model, catalog.models.keys())}`);
    const base = modelPrices.get(p.model);
    const vendorShare = p.vendor_share ?? base?.vendorShare;
    if (vendorShare === undefined) {
      throw loc.at(['pricing', i, 'vendor_share'], `model "${p.model}" has no catalog price: give vendor_share`);
    }
    const price: TokenPrice = {
      inputUsdPerMtok: p.input_usd_per_mtok,
      outputUsdPerMtok: p.output_usd_per_mtok,
      cachedInputUsdPerMtok: p.cached_input_usd_per_mtok ?? p.input_usd_per_mtok,
      vendorShare,
      feeUsdPerRequest: p.fee_usd_per_request ?? base?.feeUsdPerRequest ?? 0,
      provenance: 'scenario',
    };
    if (p.tenant === undefined) modelPrices.set(p.model, price);
    else prices.set(priceKey(p.tenant, p.model), price);
  });
  for (const w of workloads) {
    for (const m of [w.model, ...w.fallback]) {
      const key = priceKey(w.tenant, m);
      if (prices.has(key)) continue;
      const p = modelPrices.get(m);
      if (!p) throw loc.at(['workloads', w.index, 'model'], `no price for model "${m}": add it under pricing`);
      prices.set(key, p);
      if (p.provenance.startsWith('catalog assumption')) assumptions.add(`price ${m}: ${p.provenance}`);
    }
  }

  const incidents: Incident[] = [];
  input.incidents.forEach((inc, i) => {
    const d = deployments.findIndex((x) => x.name === inc.deployment);
    if (d < 0) throw loc.at(['incidents', i, 'deployment'], `unknown deployment "${inc.deployment}"`);
    if (!(inc.duration > 0)) throw loc.at(['incidents', i, 'duration'], 'expected a positive duration');
    if (inc.at >= horizonS) {
      // A run cut short with --horizon simply ends before the incident; in the file itself it is a mistake.
      if (overrides.horizonS !== undefined) return;
      throw loc.at(['incidents', i, 'at'], `starts at or after the horizon (${horizonS} s)`);
    }
    const dep = deployments[d];
    let partial: Incident['partial'] = null;
    if (inc.replicas !== undefined || inc.replica !== undefined) {
      if (inc.replicas !== undefined && inc.replica !== undefined) throw loc.at(['incidents', i, 'replica'], 'give replicas (how many) or replica (which one), not both');
      if (dep.scheduler === 'disaggregated') {
        throw loc.at(['incidents', i, inc.replicas !== undefined ? 'replicas' : 'replica'], 'a partial outage does not apply to scheduler: disaggregated (take the whole deployment down)');
      }
      if (inc.replicas !== undefined && inc.replicas > dep.replicas) {
        // An autoscaled deployment's replicas are its autoscale.max slots.
        const most = dep.autoscale === null ? `the deployment's ${dep.replicas} replicas` : `the ${dep.replicas} replicas deployment ${dep.name} can scale to (autoscale.max)`;
        throw loc.at(['incidents', i, 'replicas'], `expected at most ${most}, got ${inc.replicas}`);
      }
      if (inc.replica !== undefined && inc.replica >= dep.replicas) {
        throw loc.at(['incidents', i, 'replica'], `expected a replica index 0..${dep.replicas - 1} of deployment ${dep.name}${dep.autoscale === null ? '' : ' (its autoscale.max slots)'}, got ${inc.replica}`);
      }
      partial = inc.replica !== undefined ? { count: 1, index: inc.replica } : { count: inc.replicas!, index: null };
    }
    incidents.push({ atS: inc.at, durationS: inc.duration, deployment: d, kind: inc.kind, partial });
    if (inc.at + inc.duration > horizonS) {
      warn(['incidents', i, 'duration'],
        `the outage of ${inc.deployment} (${formatDuration(inc.at)} + ${formatDuration(inc.duration)}) lasts past the horizon ` +
          `(${formatDuration(horizonS)}): the run ends with it still down, so no recovery is simulated or reported`);
    }
  });

  // Mean demand against what each model's deployments could serve saturated, before simulating.
  // The same means give each deployment the saturated rate its capacity used is measured against.
  const demandOf: (Demand | null)[] = workloads.map(() => null);
  const closedOf: (Demand | null)[] = workloads.map(() => null);
  for (const model of servedModels) {
    const demands: Demand[] = [];
    for (const w of workloads) {
      if (w.model !== model) continue;
      const trace = w.arrival.process === 'trace' ? checkedTraces.get(traceKey(w.arrival.file, w.arrival.format ?? 'azure', w.arrival.hashBlockTokens ?? MOONCAKE_HASH_BLOCK_TOKENS)) ?? null : null;
      const startsPerS = meanArrivalRate(w.arrival, horizonS, trace);
      const mean = (cfg: LengthConfig | null, key: 'promptTokens' | 'outputTokens') =>
        // 2,000 draws: within a few per cent, enough for a warning, and cheap on every load of a sweep or plan.
        cfg ? meanLength(cfg, `demand/${w.name}/${key}`, 2000) : trace && trace.rows > 0 ? trace[key] / trace.rows : NaN;
      // A shared prefix is prefilled once per replica where the model's deployments cache it (the
      // warning counts it as free there, an optimistic bound), on every request where they do not.
      const caches = deployments.some((d) => d.model.id === model && d.prefixCaching);
      const prefixTokens = w.prefix === null || caches ? 0 : w.prefix.tokens * w.prefix.share;
      const newTokens = mean(w.promptTokens, 'promptTokens');
      const visibleTokens = mean(w.outputTokens, 'outputTokens');
      // Reasoning is decoded like the answer. min(E[X], budget) bounds E[min(X, budget)] from above.
      const outputTokens =
        visibleTokens + (w.reasoningTokens ? Math.min(meanLength(w.reasoningTokens, `demand/${w.name}/reasoning`, 2000), w.reasoningBudget) : 0);
      if (startsPerS === null) {
        // A closed loop sends what is served: no rate to warn about, but its lengths still set the
        // capacity basis of a model served only by closed loops.
        if (Number.isFinite(newTokens + prefixTokens) && Number.isFinite(outputTokens)) {
          closedOf[w.index] = { workload: w.name, ratePerS: 1, promptTokens: newTokens + prefixTokens, outputTokens };
        }
        continue;
      }
      let ratePerS = startsPerS;
      let promptTokens = newTokens + prefixTokens;
      if (w.session !== null) {
        // Each start is E[T] turns. Turn k's prompt is the prefix, k turns' new tokens and k-1
        // outputs; the mean turn index over all turns is E[T(T+1)/2] / E[T]. Where the model's
        // deployments cache, the history is counted as found (optimistic, as the prefix above).
        const turns = meanLength(w.session.turns, `demand/${w.name}/turns`, 2000);
        const turnsSq = meanSquare(w.session.turns, `demand/${w.name}/turns`, 2000);
        const k = (turnsSq + turns) / (2 * turns);
        ratePerS = startsPerS * turns;
        // The history holds visible answers only (reasoning is dropped from it).
        const toolTokens = w.session.toolOutputTokens ? meanLength(w.session.toolOutputTokens, `demand/${w.name}/tool-output`, 2000) : 0;
        // A tool's output is new to the cache: every turn but a conversation's first prefills one.
        promptTokens = caches ? newTokens + ((turns - 1) / turns) * toolTokens : prefixTokens + k * newTokens + (k - 1) * (visibleTokens + toolTokens);
      }
      if (Number.isFinite(promptTokens) && Number.isFinite(outputTokens)) {
        demands.push({ workload: w.name, ratePerS, promptTokens, outputTokens });
        demandOf[w.index] = demands[demands.length - 1];
      }
    }
    const serving = deployments.filter((d) => d.model.id === model);
    const servers = serving.map((d) => ({ name: d.name, replicas: d.replicas, maxBatch: d.maxBatch, perf: d.perf }));
    capacityWarning(model, servers, demands, ['deployments', serving[0].index, 'replicas'], warn);
  }
  for (const d of deployments) {
    // Its model's workloads (rate-weighted); its closed loops (equally) when none has a rate; the
    // workloads naming it as a fallback when none has it as its model; explain's defaults otherwise.
    const own = workloads.filter((w) => w.model === d.model.id);
    const fallbackTo = workloads.filter((w) => w.fallback.includes(d.model.id));
    const pick = (ws: Workload[], of: (Demand | null)[]) => ws.map((w) => of[w.index]).filter((x): x is Demand => x !== null);
    const basis = [pick(own, demandOf), pick(own, closedOf), pick(fallbackTo, demandOf), pick(fallbackTo, closedOf)].find((x) => x.length > 0) ?? [];
    d.capacity = capacityBasis(d.perf, d.maxBatch, basis, workloads.map((w) => demandOf[w.index] ?? closedOf[w.index]));
  }

  const reportIntervalS = input.report_interval ?? Math.max(1, horizonS / 60);
  if (!(reportIntervalS > 0)) throw loc.at(['report_interval'], 'expected a positive duration');
  if (horizonS / reportIntervalS > 1e6) {
    throw loc.at(['report_interval'], `would write ${Math.ceil(horizonS / reportIntervalS)} intervals per deployment: use a longer interval`);
  }

  const hash = createHash('sha256');
  hash.update(text);
  for (const t of [catalog.silicon, catalog.models, catalog.prices, catalog.efficiency]) hash.update(JSON.stringify([...t.values()]));
  hash.update(JSON.stringify(facility));

  return {
    file: loc.file,
    name: input.name,
    startMs: Date.parse(input.start),
    horizonS,
    warmupS: input.warmup,
    seed: overrides.seed ?? input.seed,
    reportIntervalS,
    engine: input.engine,
    deployments,
    workloads,
    routing: input.routing,
    incidents,
    catalog,
    prices,
    hash: hash.digest('hex'),
    assumptions: [...assumptions].sort(),
    warnings,
    facility,
  };
}
