/**
 * What a scenario may mean but probably does not: inputs that are valid yet quietly change the answer.
 * The loader reports each on the scenario (`warnings`, located like errors); the CLI prints them on
 * stderr and `--strict` makes them exit 2. Three kinds:
 *   - an outage that lasts past the horizon (the run ends with the deployment still down);
 *   - a weight dtype the silicon has no matmul datapath for (FP8 on Cobalt runs at the bf16 peak);
 *   - a model whose deployments cannot keep up with its workloads' mean demand, by the same
 *     saturated step-time model `explain` uses (src/perf/saturation.ts), before anything is simulated;
 *   - a `stack:` with no efficiency profile for the silicon (the generic one stands in), one no
 *     data file names at all (a typo), or one that does not run on the silicon's vendor.
 */
import { isKnownStack, knownStacks, resolveStack, stackFamily, type Catalog, type ResolvedEfficiency, type Silicon } from '../catalog/catalog.js';
import { closestIds } from '../errors.js';
import { saturatedReplica, type StepTimes } from '../perf/saturation.js';
import type { ArrivalConfig } from '../workload/arrivals.js';
import type { Dtype } from './schema.js';

export type Warn = (path: (string | number)[], message: string) => void;

const COLUMN: Partial<Record<Dtype, { field: keyof Silicon; column: string }[]>> = {
  fp8: [{ field: 'fp8Tflops', column: 'fp8_tflops' }],
  int8: [{ field: 'int8Tops', column: 'int8_tops' }, { field: 'fp8Tflops', column: 'fp8_tflops' }],
  fp4: [{ field: 'fp4Tflops', column: 'fp4_tflops' }],
  mx9: [{ field: 'fp8Tflops', column: 'fp8_tflops' }, { field: 'int8Tops', column: 'int8_tops' }],
  mx6: [{ field: 'fp4Tflops', column: 'fp4_tflops' }],
  mx4: [{ field: 'fp4Tflops', column: 'fp4_tflops' }],
};

/**
 * The datapath a dtype's matmuls need, when the chip lacks it (null when it has it, or when the
 * dtype is 16-bit or int4, which serving stacks dequantise into a wider datapath by design).
 */
export function missingDatapath(silicon: Silicon, dtype: Dtype): string | null {
  const needs = COLUMN[dtype];
  if (!needs) return null;
  const has = (x: number) => Number.isFinite(x) && x > 0;
  if (needs.some((n) => has(silicon[n.field] as number))) return null;
  return needs.map((n) => n.column).join(' or ');
}

export function dtypeWarning(silicon: Silicon, dtype: Dtype, at: (string | number)[], warn: Warn): void {
  const missing = missingDatapath(silicon, dtype);
  if (missing === null) return;
  warn(
    at,
    `${silicon.id} has no ${dtype} hardware (${missing} empty in its catalog row): ${dtype} matmuls are modelled at a wider ` +
      `datapath's peak (bf16 ${silicon.bf16Tflops} TFLOPS at worst), only the weights' bytes shrink; a real stack may not run ${dtype} there at all`,
  );
}

/** Mean arrivals per second over [0, horizonS); null for closed loops, which only send what the fleet serves. */
export function meanArrivalRate(a: ArrivalConfig, horizonS: number, trace: { rows: number; spanS: number } | null): number | null {
  switch (a.process) {
    case 'poisson':
      return a.ratePerS;
    case 'diurnal': {
      // The hourly multipliers integrated over the horizon from the start hour.
      let sum = 0;
      let t = 0;
      const start = a.startHourOffset ?? 0;
      while (t < horizonS) {
        const hour = Math.floor(start + t / 3600);
        const end = Math.min(horizonS, (hour + 1 - start) * 3600);
        sum += a.hourly[((hour % 24) + 24) % 24] * (end - t);
        t = end;
      }
      return (a.ratePerS * sum) / horizonS;
    }
    case 'trace':
      if (!trace || !(trace.spanS > 0)) return null;
      return (trace.rows / trace.spanS) * (a.speedup ?? 1) * (a.scale ?? 1);
    case 'closed':
      return null;
  }
}

export interface Demand {
  workload: string;
  ratePerS: number;
  promptTokens: number;
  outputTokens: number;
}

export interface Server {
  name: string;
  replicas: number;
  maxBatch: number;
  perf: StepTimes;
}

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toPrecision(2));

/** explain's lengths for a configuration with no workload. */
export const DEFAULT_PROMPT_TOKENS = 1000;
export const DEFAULT_OUTPUT_TOKENS = 200;

/** Rate-weighted mean lengths of demands: the mix the deployments would see (explain's defaults for none). */
export function meanLengths(demands: readonly Demand[]): { promptTokens: number; outputTokens: number } {
  const rate = demands.reduce((s, d) => s + d.ratePerS, 0);
  if (!(rate > 0)) return { promptTokens: DEFAULT_PROMPT_TOKENS, outputTokens: DEFAULT_OUTPUT_TOKENS };
  return {
    promptTokens: demands.reduce((s, d) => s + d.ratePerS * d.promptTokens, 0) / rate,
    outputTokens: demands.reduce((s, d) => s + d.ratePerS * d.outputTokens, 0) / rate,
  };
}

/** What a deployment could serve: the basis of capacity_used_pct and of idle cost (docs/economics.md). */
export interface CapacityBasis {
  /** Mean prompt and output tokens the rate assumes. */
  promptTokens: number;
  outputTokens: number;
  /** Saturated output tokens per second of one replica at those lengths. */
  outputTokensPerSPerReplica: number;
  /**
   * Per workload (by index): one replica's saturated output tokens/s at that workload's own mean
   * lengths (outputTokensPerSPerReplica where its lengths are unknown). A workload's output tokens
   * over this rate are the replica-seconds of capacity they used, whatever else shares the replica:
   * the ledger's attribution and capacity_used_pct add these up (docs/economics.md#attribution-rule).
   */
  workloadOutputTokensPerSPerReplica: Float64Array;
  /** Per workload: the mean lengths that rate is at (the blended ones where its own are unknown; run.json `perf[].capacity`). */
  workloadPromptTokens: Float64Array;
  workloadOutputTokens: Float64Array;
}

/**
 * The saturated rate of one replica at the demands' mean lengths: the same figure the capacity
 * warning sums and `explain` prints as max_output_tokens_per_s_per_chip (× tensor parallelism).
 */
export function capacityBasis(perf: StepTimes, maxBatch: number, demands: readonly Demand[], workloadDemands: readonly (Demand | null)[]): CapacityBasis {
  const { promptTokens, outputTokens } = meanLengths(demands);
  const blended = saturatedReplica(perf, maxBatch, promptTokens, outputTokens).outputTokensPerS;
  const own = Float64Array.from(workloadDemands, (w) => (w === null ? blended : saturatedReplica(perf, maxBatch, w.promptTokens, w.outputTokens).outputTokensPerS));
  return {
    promptTokens,
    outputTokens,
    outputTokensPerSPerReplica: blended,
    workloadOutputTokensPerSPerReplica: own,
    workloadPromptTokens: Float64Array.from(workloadDemands, (w) => w?.promptTokens ?? promptTokens),
    workloadOutputTokens: Float64Array.from(workloadDemands, (w) => w?.outputTokens ?? outputTokens),
  };
}

/** Warns when a model's deployments, saturated, complete fewer requests per second than its workloads send. */
export function capacityWarning(model: string, servers: Server[], demands: Demand[], at: (string | number)[], warn: Warn): void {
  const rate = demands.reduce((s, d) => s + d.ratePerS, 0);
  if (!(rate > 0)) return;
  const { promptTokens: P, outputTokens: O } = meanLengths(demands);
  let capacity = 0;
  let tokS = 0;
  for (const s of servers) {
    if (s.replicas === 0) continue;
    const sat = saturatedReplica(s.perf, s.maxBatch, P, O);
    capacity += s.replicas * sat.requestsPerS;
    tokS += s.replicas * sat.outputTokensPerS;
  }
  if (rate <= capacity) return;
  const names = servers.map((s) => s.name).join(', ');
  const short = capacity > 0 ? `${fmt((100 * (rate - capacity)) / capacity)}% more than they can serve` : 'and they can serve none';
  warn(
    at,
    `${model}'s workloads (${demands.map((d) => d.workload).join(', ')}) send ${fmt(rate)} requests/s on average, but its deployments ` +
      `(${names}) complete at most ${fmt(capacity)} requests/s (${fmt(tokS)} output tokens/s) when saturated, by the step-time model at ` +
      `the mean ${fmt(P)} prompt and ${fmt(O)} output tokens: ${short}; queues will grow for the whole run ` +
      '(add replicas, or size the fleet with `fleetsim plan`)',
  );
}

/**
 * What is wrong with naming `stack` for a deployment on `silicon` whose profile resolved to
 * `resolved` (messages without a location; the loader puts them at the deployment's `stack`,
 * `explain --stack` at the flag):
 *   - no data file knows the stack (not in data/efficiency.csv, data/stacks.csv or the scenario's
 *     catalog), so both the profile and the KV rule fall back to generic: a typo, probably;
 *   - no efficiency row for the stack on this silicon or its kind: another stack's profile stands in;
 *   - the stack does not run on the silicon's vendor (data/stacks.csv silicon_vendors).
 */
/** `the h100-sxm profile (stack generic)`: the efficiency row a deployment's stack resolved to. */
function profileUsed(resolved: ResolvedEfficiency): string {
  const e = resolved.efficiency;
  return `the ${e.stack === 'generic' ? e.silicon : `${e.silicon}@${e.stack}`} profile (stack ${e.stack})`;
}

export function stackWarnings(catalog: Catalog, silicon: Silicon, stack: string, resolved: ResolvedEfficiency): string[] {
  if (stack === 'generic') return [];
  const out: string[] = [];
  const family = stackFamily(stack);
  const known = knownStacks(catalog);
  const used = profileUsed(resolved);
  if (!isKnownStack(known, stack)) {
    const near = closestIds(stack, known);
    out.push(
      `unknown stack "${stack}": neither data/efficiency.csv nor data/stacks.csv names it${family !== stack ? ` or its family ${family}` : ''}, so ${used} ` +
        `and the generic KV-memory rule are used${near.length > 0 ? ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)` : ''}; known: ${[...known].sort().join(', ')}`,
    );
  } else {
    const fallback = stackFallbackWarning(catalog, silicon, stack, resolved);
    if (fallback !== null) out.push(fallback);
  }
  const foreign = foreignStack(catalog, silicon, stack);
  if (foreign !== null) out.push(`${foreign}: no real deployment could serve it so; the numbers are ${used}`);
  return out;
}

/**
 * `no efficiency profile for stack vllm on h100-sxm ...` when a stack a data file knows has no
 * efficiency row on the silicon or its kind, so another stack's profile stands in (`fidelity` and
 * `calibrate` give it for measurement rows too); null otherwise, and for generic or an unknown stack.
 */
export function stackFallbackWarning(catalog: Catalog, silicon: Silicon, stack: string, resolved: ResolvedEfficiency): string | null {
  const family = stackFamily(stack);
  if (stack === 'generic' || !resolved.stackFallback || !isKnownStack(knownStacks(catalog), stack)) return null;
  return (
    `no efficiency profile for stack ${stack}${family !== stack ? ` (or ${family})` : ''} on ${silicon.id} or its kind ${silicon.kind} in data/efficiency.csv: ` +
    `${profileUsed(resolved)} is used instead, so the numbers are not ${family}'s` +
    `${catalog.stacks.has(family) || catalog.stacks.has(stack) ? ` (its KV-memory rule, data/stacks.csv, does apply)` : ''}`
  );
}

/**
 * `stack trtllm runs on NVIDIA silicon only (...), not on maia-200 (a Microsoft accelerator)` when
 * data/stacks.csv's silicon_vendors says the stack does not run on the silicon's vendor; else null.
 */
export function foreignStack(catalog: Catalog, silicon: Silicon, stack: string): string | null {
  const row = resolveStack(catalog, stack);
  const vendors = row.siliconVendors.split(';').map((v) => v.trim()).filter((v) => v !== '');
  if (row.stack === 'generic' || vendors.length === 0 || vendors.some((v) => v.toLowerCase() === silicon.vendor.toLowerCase())) return null;
  const a = /^[aeiou]/i.test(silicon.vendor) ? 'an' : 'a';
  return `stack ${stack} runs on ${vendors.join(' or ')} silicon only (data/stacks.csv silicon_vendors), not on ${silicon.id} (${a} ${silicon.vendor} ${silicon.kind})`;
}
