/**
 * The scenario file's shape: the single source of truth for its keys, units and defaults.
 * Types come from it (`ScenarioInput`), the loader validates with it, and docs/scenarios.md's key tables
 * documents it. Keys are snake_case as users write them; unknown keys are errors.
 */
import * as z from 'zod';
import { parseDurationS, parseRatePerS } from './units.js';

function unit(parse: (v: unknown) => number, description: string) {
  return z.union([z.number(), z.string()]).describe(description).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** `250ms`, `2s`, `5m`, `1h`, `7d`, or a number of seconds. */
export const duration = unit(parseDurationS, 'a duration such as 250ms, 2s, 5m, 1h or 7d, or a number of seconds');
/** `20/s`, `1200/min`, `2e6/day`, or a number per second. */
export const rate = unit(parseRatePerS, 'a rate such as 20/s, 1200/min or 2e6/day, or a number per second');

const positive = z.number().positive();
const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();
const id = z.string().min(1);
const fraction = z.number().min(0).max(1);

/** A token-length distribution; `extra` keys go on every variant (reasoning's `budget`). */
const lengthDistWith = <T extends z.ZodRawShape>(extra: T) =>
  z.discriminatedUnion('dist', [
    z.object({ dist: z.literal('constant'), value: positiveInt, ...extra }).strict(),
    z.object({ dist: z.literal('uniform'), min: positiveInt, max: positiveInt, ...extra }).strict(),
    z.object({ dist: z.literal('lognormal'), median: positive, p99: positive, max: positiveInt.optional(), ...extra }).strict(),
    z.object({ dist: z.literal('empirical'), file: id, column: z.enum(['prompt', 'output']).optional(), ...extra }).strict(),
  ]);
const lengthDist = lengthDistWith({});
/** Hidden thinking tokens per request; `budget` caps a draw (a thinking budget cuts the reasoning short). */
const reasoningDist = lengthDistWith({ budget: positiveInt.optional() });

/** A count drawn per conversation (turns), like a token length without the file-backed form. */
const countDist = z.discriminatedUnion('dist', [
  z.object({ dist: z.literal('constant'), value: positiveInt }).strict(),
  z.object({ dist: z.literal('uniform'), min: positiveInt, max: positiveInt }).strict(),
  z.object({ dist: z.literal('lognormal'), median: positive, p99: positive, max: positiveInt.optional() }).strict(),
]);

/** A pause drawn per turn (think time), in duration units. */
const pauseDist = z.discriminatedUnion('dist', [
  z.object({ dist: z.literal('constant'), value: duration }).strict(),
  z.object({ dist: z.literal('uniform'), min: duration, max: duration }).strict(),
  z.object({ dist: z.literal('exponential'), mean: duration }).strict(),
  z.object({ dist: z.literal('lognormal'), median: duration, p99: duration, max: duration.optional() }).strict(),
]);

const arrival = z.discriminatedUnion('process', [
  z
    .object({
      process: z.literal('poisson'),
      rate,
      /** Stop after this many arrivals (a benchmark's request count); default: until the horizon. */
      requests: positiveInt.optional(),
    })
    .strict(),
  z
    .object({
      process: z.literal('diurnal'),
      rate,
      hourly: z.array(nonNegative).length(24),
    })
    .strict(),
  z
    .object({
      process: z.literal('trace'),
      file: id,
      /** azure: Azure's CSV (TIMESTAMP,ContextTokens,GeneratedTokens); mooncake: Mooncake's JSON lines with hash_ids. Default: mooncake for a .jsonl file, else azure. */
      format: z.enum(['azure', 'mooncake']).optional(),
      /** mooncake: prompt tokens per hash id (Mooncake's traces: 512). */
      hash_block_tokens: positiveInt.optional(),
      speedup: positive.default(1),
      scale: positive.default(1),
      loop: z.boolean().default(false),
      offset: duration.default(0),
    })
    .strict(),
  z
    .object({
      process: z.literal('closed'),
      /** Users, each with one request outstanding at a time (vLLM benchmark_serving --max-concurrency). */
      concurrency: positiveInt,
      /** Pause between a user's request ending and its next request. */
      think_time: duration.default(0),
      /** Total requests sent over the run; without it users keep sending until the horizon. */
      requests: positiveInt.optional(),
    })
    .strict(),
]);

const slo = z
  .object({
    ttft: duration.optional(),
    tpot: duration.optional(),
    e2e: duration.optional(),
  })
  .strict();

export const SCHEDULERS = ['continuous', 'chunked', 'static', 'disaggregated'] as const;
/** mx9/mx6/mx4: Microsoft MX block formats (shared exponent per block), Maia's native datatypes. */
export const DTYPES = ['bf16', 'fp16', 'fp8', 'int8', 'int4', 'fp4', 'mx9', 'mx6', 'mx4'] as const;

const cost = z
  .object({
    model: z.enum(['rental', 'tco']).default('rental'),
    usd_per_chip_hour: nonNegative.optional(),
    discount: fraction.default(0),
    /** rental: reserved capacity, priced at an assumed discount off on-demand (src/economics/cost.ts). */
    commitment: z.enum(['none', '1y', '3y']).optional(),
    /** tco: per chip; defaults from data/silicon.csv. */
    capex_usd: nonNegative.optional(),
    lifetime_years: positive.optional(),
    overhead_fraction: nonNegative.optional(),
  })
  .strict();

/**
 * `autoscale:` on a deployment: replicas follow demand between min and max (src/serving/autoscaler.ts,
 * docs/autoscaling.md). Defaults are Kubernetes HPA's: a 15 s sync period and a 300 s scale-down
 * stabilization window; scale_up_delay defaults from the weights' size (an assumption, load.ts).
 */
export const AUTOSCALE_METRICS = ['utilization', 'queue_per_replica', 'ttft_p90'] as const;
const autoscale = z
  .object({
    min: positiveInt,
    max: positiveInt,
    metric: z.enum(AUTOSCALE_METRICS).default('queue_per_replica'),
    target: positive,
    scale_up_delay: duration.optional(),
    scale_down_delay: duration.default(300),
    interval: duration.default(15),
  })
  .strict();

const deployment = z
  .object({
    name: id,
    model: id,
    silicon: id,
    replicas: z.number().int().nonnegative(),
    tensor_parallel: positiveInt.default(1),
    dtype: z.enum(DTYPES).default('bf16'),
    kv_dtype: z.enum(DTYPES).optional(),
    /** MoE: the routed experts' weight format when it differs from `dtype` (gpt-oss ships MXFP4 experts, BF16 elsewhere). */
    expert_dtype: z.enum(DTYPES).optional(),
    max_batch: positiveInt.default(256),
    max_queue: positiveInt.optional(),
    scheduler: z.enum(SCHEDULERS).default('continuous'),
    chunk_tokens: positiveInt.default(512),
    kv_fraction: z.number().gt(0).max(1).default(0.9),
    block_tokens: positiveInt.default(16),
    /** MoE with tensor_parallel > 1: experts spread over the chips (all-to-all) instead of each expert sharded over all of them. */
    expert_parallel: z.boolean().default(false),
    /** Measured step-time CSV replacing the roofline's times (src/perf/profile.ts documents the format). */
    profile: id.optional(),
    /** Serving software (e.g. `trtllm`, `vllm-0.6`): picks the (silicon, stack) efficiency profile; `generic` when not named. */
    stack: id.default('generic'),
    /** scheduler: disaggregated — how many of `replicas` only prefill; the rest only decode. */
    prefill_replicas: positiveInt.optional(),
    /** Keep shared prompt prefixes' KV blocks for later requests (vLLM automatic prefix caching); default: the scenario's `prefix_caching`. */
    prefix_caching: z.boolean().optional(),
    /**
     * Host-memory KV tier under the prefix cache (docs/prefix-caching.md#host-offload; vLLM CPU offloading, LMCache, SGLang HiCache):
     * blocks the GPU cache evicts move here, `gb` per replica, and come back at `gbps` (host-to-GPU GB/s per replica) when a prompt finds them.
     */
    kv_offload: z.object({ gb: z.number(), gbps: z.number() }).strict().optional(),
    cost: cost.default({ model: 'rental', discount: 0 }),
    /** Replicas follow demand between min and max; `replicas` is then the count at the start. */
    autoscale: autoscale.optional(),
    /** Random replica failures (docs/failures.md): each replica fails independently, time to failure exponential with mean `mtbf`, down for a repair of mean `mttr`. */
    failures: z
      .object({
        mtbf: duration,
        mttr: duration,
        /** Repair time: exponential with mean mttr, or exactly mttr. */
        repair: z.enum(['exponential', 'constant']).default('exponential'),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * `quota:` on a workload or a tenant (Azure OpenAI-style rate limits, src/serving/quota.ts): token
 * buckets holding one minute's allowance, refilled continuously; a request over either limit is
 * `throttled`. Tokens counted at admission: prompt + output tokens (docs/quotas.md).
 */
const quota = z
  .object({
    requests_per_min: positive.optional(),
    tokens_per_min: positive.optional(),
  })
  .strict();

/** `priority:` on a workload: each replica's queue serves interactive, then standard, then batch (FIFO within a class). */
export const PRIORITIES = ['interactive', 'standard', 'batch'] as const;

const workload = z
  .object({
    name: id,
    tenant: id,
    model: id,
    fallback: z.array(id).default([]),
    arrival,
    prompt_tokens: lengthDist.optional(),
    output_tokens: lengthDist.optional(),
    /** Hidden reasoning tokens generated before the visible output, billed as output, not returned. */
    reasoning_tokens: reasoningDist.optional(),
    slo: slo.default({}),
    timeout: duration.optional(),
    /** Share of prompt tokens served from the prompt cache, billed at cached_input_usd_per_mtok. */
    cached_prompt_fraction: fraction.default(0),
    /** Shared prompt prefixes: with probability `share` a request's prompt starts with one of `groups` prefixes of `tokens` tokens, chosen uniformly. */
    prefix: z
      .object({
        tokens: positiveInt,
        groups: positiveInt.default(1),
        share: fraction.default(1),
      })
      .strict()
      .optional(),
    /** Multi-turn conversations: each arrival opens one of `turns` turns; turn k resends the history and adds prompt_tokens new tokens, `think_time` after turn k-1 completed. */
    session: z
      .object({
        turns: countDist,
        think_time: pauseDist.default({ dist: 'constant', value: 0 }),
        /** Agentic sessions: after each completed turn but the last, a tool call of this duration before the think time. */
        tool_time: pauseDist.optional(),
        /** Agentic sessions: tokens the tool call's output adds to the context before the next turn's new tokens. */
        tool_output_tokens: countDist.optional(),
      })
      .strict()
      .optional(),
    /** Rate limits of this workload's requests; over them a request is `throttled` (docs/quotas.md). */
    quota: quota.optional(),
    /** Queue class: interactive before standard before batch at every replica; under KV pressure the lowest class is preempted first. */
    priority: z.enum(PRIORITIES).optional(),
    /** Batch tier (src/serving/batch-tier.ts): requests wait up to `window` for capacity no other request wants, billed at (1 - discount) x price; unstarted by then they are `expired`. */
    batch: z
      .object({
        window: duration.default(86400),
        discount: fraction.default(0.5),
      })
      .strict()
      .optional(),
  })
  .strict();

/** `tenants[]`: settings of a tenant across all its workloads (its quota is shared by them). */
const tenant = z
  .object({
    name: id,
    quota: quota.optional(),
  })
  .strict();

const price = z
  .object({
    model: id,
    tenant: id.optional(),
    input_usd_per_mtok: nonNegative,
    output_usd_per_mtok: nonNegative,
    cached_input_usd_per_mtok: nonNegative.optional(),
    vendor_share: fraction.optional(),
    /** Platform fee per completed request, kept by the platform (not shared with the vendor). */
    fee_usd_per_request: nonNegative.optional(),
  })
  .strict();

const routing = z
  .object({
    policy: z.enum(['round-robin', 'least-outstanding', 'prefix-aware', 'power-of-two']).default('least-outstanding'),
    /** prefix-aware: how many outstanding requests a cache hit on the whole prompt is worth (an assumption; README). */
    prefix_weight: nonNegative.default(4),
    failover: z.enum(['on-outage', 'on-outage-or-overload', 'never']).default('on-outage'),
  })
  .strict();

const incident = z
  .object({
    at: duration,
    duration,
    deployment: id,
    kind: z.enum(['outage']).default('outage'),
    /** A partial outage: this many of the deployment's replicas go down (the highest-numbered ones serving at the start; docs/failures.md), the rest keep serving. Default: all. */
    replicas: positiveInt.optional(),
    /** A partial outage of one named replica: its 0-based index within the deployment. */
    replica: z.number().int().nonnegative().optional(),
  })
  .strict();

/** Catalog rows a scenario adds or overrides, keyed by id; fields as in data/*.csv. */
const catalogRows = z.array(z.record(z.string(), z.union([z.string(), z.number()])));

const catalogOverrides = z
  .object({
    silicon: catalogRows.optional(),
    models: catalogRows.optional(),
    prices: catalogRows.optional(),
    efficiency: catalogRows.optional(),
  })
  .strict();

/** `sweep:` — dotted path (e.g. `workloads[0].arrival.rate`) to the values it takes; `2x` multiplies the file's value. */
const sweep = z.record(z.string().min(1), z.array(z.union([z.number(), z.string(), z.boolean()])).min(1));

const planCandidate = z
  .object({
    model: id,
    silicon: z.array(id).min(1),
    /** Default: the smallest power of two whose chips hold the weights with room for KV cache. */
    tensor_parallel: positiveInt.optional(),
    /** These four default to the scenario's first deployment of the model (src/plan/plan.ts). */
    dtype: z.enum(DTYPES).optional(),
    kv_dtype: z.enum(DTYPES).optional(),
    scheduler: z.enum(SCHEDULERS).optional(),
    max_batch: positiveInt.optional(),
    max_replicas: positiveInt.default(64),
  })
  .strict();

/** `plan:` — SLO targets every workload must meet and the fleets `fleetsim plan` may choose from. */
const plan = z
  .object({
    targets: z
      .object({
        ttft_p99: duration.optional(),
        tpot_p99: duration.optional(),
        attainment_pct: z.number().min(0).max(100).default(99),
      })
      .strict(),
    candidates: z.array(planCandidate).min(1),
    /** Also try the cheapest single-silicon fleet with replicas of another kind mixed in. */
    mixes: z.boolean().default(true),
    /** N+1: a fleet counts as meeting the targets only if it still meets them with any one replica down (docs/failures.md#n1-planning). */
    n_plus: z.number().int().min(0).max(1).default(0),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: id,
    description: z.string().optional(),
    // RFC 3339 and YAML allow a space between date and time (`2026-03-01 09:00:00Z`); zod wants a `T`.
    start: z
      .preprocess((v) => (typeof v === 'string' ? v.replace(/^(\d{4}-\d{2}-\d{2})[ \t]+(?=\d)/, '$1T') : v), z.iso.datetime({ offset: true }))
      .default('2026-01-01T00:00:00Z'),
    horizon: duration,
    warmup: duration.default(0),
    seed: z.number().int().nonnegative().default(1),
    report_interval: duration.optional(),
    engine: z.enum(['collapsed', 'step']).default('collapsed'),
    /** Prefix caching on every deployment that does not set its own (vLLM V1 enables it by default). */
    prefix_caching: z.boolean().default(true),
    catalog: catalogOverrides.optional(),
    deployments: z.array(deployment).min(1),
    workloads: z.array(workload).min(1),
    pricing: z.array(price).default([]),
    tenants: z.array(tenant).default([]),
    routing: routing.default({ policy: 'least-outstanding', failover: 'on-outage', prefix_weight: 4 }),
    incidents: z.array(incident).default([]),
    /** Where the chips run: a region row of data/facility.csv, with overrides. */
    facility: z
      .object({
        region: id.optional(),
        pue: positive.optional(),
        usd_per_kwh: nonNegative.optional(),
        kg_co2e_per_kwh: nonNegative.optional(),
      })
      .strict()
      .optional(),
    sweep: sweep.optional(),
    plan: plan.optional(),
  })
  .strict();

export type ScenarioInput = z.output<typeof scenarioSchema>;
export type DeploymentInput = ScenarioInput['deployments'][number];
export type WorkloadInput = ScenarioInput['workloads'][number];
export type Dtype = (typeof DTYPES)[number];
export type PlanInput = NonNullable<ScenarioInput['plan']>;
export type SchedulerKind = (typeof SCHEDULERS)[number];

/**
 * The scenario schema as JSON Schema (draft 2020-12) of what users write, for editor completion
 * and validation (e.g. yaml-language-server). Durations and rates are strings or numbers there; the
 * unit check itself happens in fleetsim.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(scenarioSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'fleetsim scenario',
  };
}
