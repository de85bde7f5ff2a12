/**
 * Every report column, defined once: name (the CSV header, snake_case with its unit as suffix),
 * and meaning. A quantity that appears in several files (summary, pnl, timeseries, plan, sweep,
 * explain) is defined once in QUANTITIES and has that one name and meaning everywhere; a file adds
 * only a note on which rows carry it (test/one-name.test.ts checks). docs/reports.md's column
 * tables are generated from these (`npm run docs:tables`), and the golden-file tests pin the order.
 * Append new columns at the end; a rename is a contract change and goes into CHANGELOG.md.
 */

export interface ColumnDoc {
  name: string;
  /** What the quantity is: the same text in every file that has the column. */
  meaning: string;
  /** Which rows of this file carry it, or how they split it (docs show it after the meaning). */
  note?: string;
}

const col = (name: string, meaning: string, note?: string): ColumnDoc => (note === undefined ? { name, meaning } : { name, meaning, note });

/** Quantities written by more than one report: one name, one meaning. */
export const QUANTITIES = {
  deployment: 'deployment name',
  model: 'model id',
  silicon: 'silicon id',
  vendor: 'model developer (the `vendor` of the model in data/models.csv)',
  tenant: 'tenant',
  chips: 'chips (replicas × tensor_parallel)',
  dtype: 'weight format (bf16, fp8, int8, …)',
  requests_served: 'requests that got an answer and are billed: `completed` plus `failed_over`',
  requests_throttled: 'turned away at arrival for being over their workload\'s or tenant\'s `quota`: never queued, never billed (docs/quotas.md)',
  requests_expired: 'batch-tier requests not started within their `batch.window`: never billed (docs/quotas.md#batch-tier)',
  batch_revenue_usd: 'of revenue_usd, what the batch tier\'s requests were billed (at their discount); they run only on replicas no other request wanted, so this is idle capacity turned into revenue (docs/quotas.md#batch-tier)',
  input_tokens: 'prompt tokens of the requests served (billed), cached ones included',
  output_tokens: 'generated tokens of the requests served (billed)',
  cached_input_tokens: 'of input_tokens, prompt tokens the replica\'s prefix cache served (billed at the cached-input price; docs/prefix-caching.md)',
  prefix_hit_pct: 'cached_input_tokens / input_tokens × 100: the prefix cache\'s token hit rate (empty when no input tokens)',
  cost_usd: 'compute cost: chip-time at the busy rate while running iterations and the idle rate otherwise (docs/economics.md)',
  idle_cost_usd: 'part of cost_usd for capacity no request used: per deployment and period, cost × (1 − capacity used) (docs/economics.md#attribution-rule)',
  busy_pct: 'busy time: replica-time spent running iterations / replica-time, % (a replica running a batch of one is busy)',
  capacity_used_pct: 'capacity used: the replica-time the output tokens served would take at their saturated rate (each workload\'s tokens at the rate of its own mean lengths: src/perf/saturation.ts, explain\'s max_output_tokens_per_s_per_chip) / the replica-time there was, %; can pass 100 where prefix caching beats the rate\'s full prefill (docs/economics.md#attribution-rule)',
  revenue_usd: 'billed to tenants for the requests served (tokens and per-request fees)',
  vendor_payout_usd: 'revenue share paid to the model developer',
  gross_margin_usd: 'revenue − vendor payout − cost',
  gross_margin_pct: 'gross margin / revenue × 100 (empty when revenue is 0)',
  energy_kwh: 'facility energy: chip power at TDP for busy replica-time and idle_w otherwise, × PUE',
  emissions_kg_co2e: 'energy_kwh × the facility grid intensity, kg CO2e (empty when the facility gives no grid intensity)',
  cost_usd_per_mtok_output: 'cost_usd per million output tokens served: cost_usd / (output_tokens / 10⁶) (empty when no output tokens)',
  cost_usd_per_mtok_input: 'cost_usd per million input tokens served: cost_usd / (input_tokens / 10⁶), the whole cost over prompt tokens, not a prefill share (empty when no input tokens)',
  cost_usd_per_mtok_blended: 'cost_usd per million tokens of either kind: cost_usd / ((input_tokens + output_tokens) / 10⁶) (empty when no tokens)',
  note: 'why a row has no figures, or the limit it hit (empty when none)',
  cost_usd_per_mtok_output_low: 'cost_usd_per_mtok_output at the low end of the step-time model\'s cross-validated throughput error band: each deployment\'s cost × (1 + its cv_err_p10_pct / 100), what the same load costs on a fleet sized to it if the chips are that much faster than predicted (docs/fidelity.md#error-on-every-prediction); input and blended cost per Mtok scale by the same ratio; empty when a deployment with cost has no band (no measurement: Maia, Cobalt; or a measured or overridden profile) or there are no output tokens',
  cost_usd_per_mtok_output_high: 'the same at the high end of the band: each deployment\'s cost × (1 + its cv_err_p90_pct / 100); 80% of held-out predictions fell between low and high; empty when the low end is',
  reasoning_tokens: 'of output_tokens, hidden reasoning (thinking) tokens: generated before the visible answer and billed as output, never returned to the user (workload `reasoning_tokens`); visible output = output_tokens − reasoning_tokens',
  perf_basis: 'what the step times rest on: `calibrated` (fitted to measurements of that chip), `kind-default` (predicted from the chip\'s specs with its kind\'s profile, or an assumed or overridden row), `measured-profile` (the deployment\'s own step-time profile); several joined by `+`; per deployment in run.json `perf`',
} as const;

type Quantity = keyof typeof QUANTITIES;
/** A column of a shared quantity: its one meaning, and this file's note. */
const q = (name: Quantity, note?: string): ColumnDoc => col(name, QUANTITIES[name], note);

export const SUMMARY_COLUMNS = [
  col('scope', '`total`, `deployment`, `model`, `vendor`, `silicon`, `model_silicon`, `tenant` or `workload`'),
  col('key', 'the deployment, model, vendor, silicon, `model/silicon`, tenant or workload name (`all` for total; `(idle capacity)` for fleet time no request used)'),
  col('requests_arrived', 'requests that ended in this scope (sum of the five fates below, and of requests_throttled and requests_expired where those columns are appended)'),
  col('requests_completed', 'served by their own model'),
  col('requests_failed_over', 'served by a fallback model, or moved off a failed deployment; counted where they completed'),
  col('requests_rejected', 'turned away: no deployment up, queue full, or too long for any KV cache'),
  col('requests_timed_out', 'waited longer than the workload `timeout` before starting'),
  col('requests_lost', 'in flight on a failed deployment with nowhere to go'),
  q('input_tokens'),
  q('output_tokens'),
  col('output_tokens_per_s', 'output_tokens / billed run time'),
  col('ttft_p50_s', 'time to first token, median, seconds (requests arriving after warmup); empty when the scope measured no request'),
  col('ttft_p90_s', 'time to first token, 90th percentile, seconds; empty when the scope measured no request'),
  col('ttft_p99_s', 'time to first token, 99th percentile, seconds; empty when the scope measured no request'),
  col('tpot_p50_s', 'time per output token after the first, median, seconds; empty when the scope measured no request'),
  col('tpot_p99_s', 'time per output token, 99th percentile, seconds; empty when the scope measured no request'),
  col('e2e_p50_s', 'arrival to last token, median, seconds; empty when the scope measured no request'),
  col('e2e_p99_s', 'arrival to last token, 99th percentile, seconds; empty when the scope measured no request'),
  col('slo_attainment_pct', 'requests arriving after warmup that completed within their TTFT, TPOT and E2E targets, % of those that arrived (empty when none arrived after warmup)'),
  q('chips', 'of the scope\'s deployments (autoscaled: the most billed at once; empty for tenant and workload)'),
  col('chip_hours', 'chips × billed run time, hours (autoscaled deployments: the chip-time provisioned, warm-up and draining included; tenant, workload: the chip-hours of the capacity their tokens took, as their cost_usd; `(idle capacity)`: the rest)'),
  q('busy_pct', 'of the scope\'s deployments over the billed run, autoscaled ones\' replica-time as provisioned; tenant, workload: their busy share of the whole fleet\'s replica-time; `(idle capacity)`: 0'),
  q('energy_kwh', 'tenant, workload: busy energy attributed; `(idle capacity)`: idle energy'),
  q('cost_usd', 'fleet scopes: all of their deployments\' cost; tenant, workload: the cost of the capacity their tokens took (docs/economics.md#attribution-rule); `(idle capacity)`: the rest, the idle cost'),
  q('revenue_usd'),
  q('vendor_payout_usd'),
  q('gross_margin_usd'),
  q('gross_margin_pct'),
  q('cost_usd_per_mtok_output'),
  q('idle_cost_usd'),
  col('preemptions', 'KV-cache preemptions (recomputations) on the scope\'s deployments (empty for tenant and workload)'),
  q('emissions_kg_co2e'),
  col('ttft_mean_s', 'time to first token, exact mean over the requests the percentiles cover, seconds; empty when the scope measured no request'),
  col('tpot_mean_s', 'time per output token after the first, exact mean over requests of each request\'s (E2E − TTFT) / (output tokens − 1), seconds (requests of one output token have no TPOT); empty when none'),
  col('e2e_mean_s', 'arrival to last token, exact mean, seconds; empty when the scope measured no request'),
  col('itl_mean_s', 'inter-token latency, token-weighted: Σ (E2E − TTFT) / Σ (output tokens − 1) over the requests tpot_mean_s covers, seconds (vLLM\'s mean ITL; long outputs weigh more than in tpot_mean_s); empty when none'),
  q('cached_input_tokens'),
  q('prefix_hit_pct'),
  q('requests_served'),
  q('cost_usd_per_mtok_input'),
  q('cost_usd_per_mtok_blended'),
  q('capacity_used_pct', 'of the scope\'s deployments over the billed run; tenant, workload: the replica-time their output tokens took over the whole fleet\'s; `(idle capacity)`: 0'),
  q('cost_usd_per_mtok_output_low', 'deployments summed one by one (their errors taken to move together: the wider band)'),
  q('cost_usd_per_mtok_output_high'),
  q('perf_basis', 'of the scope\'s deployments'),
] as const;

/**
 * Appended to summary.csv (and sweep.csv) and pnl.csv only when the scenario sets a `quota`
 * (docs/quotas.md), so other scenarios' files are unchanged; they are fates, and requests_arrived
 * counts them.
 */
export const SUMMARY_QUOTA_COLUMNS = [
  q('requests_throttled', 'booked on the first deployment of the workload\'s model, as rejections are'),
] as const;
export const PNL_QUOTA_COLUMNS = [
  q('requests_throttled', 'that arrived in the period'),
] as const;

/** Appended (after the quota column, when both) only when a workload has a batch tier (docs/quotas.md#batch-tier). */
export const SUMMARY_BATCH_COLUMNS = [
  q('requests_expired', 'booked on the deployment whose replica found them expired'),
  q('batch_revenue_usd', 'tenant, workload: their batch-tier requests\'; fleet scopes: on their deployments; `(idle capacity)`: all of it, the `(idle capacity)` cost the batch tier turned into revenue'),
] as const;
export const PNL_BATCH_COLUMNS = [
  q('requests_expired', 'found expired in the period'),
  q('batch_revenue_usd', 'tenant rows: their batch-tier requests\'; `(idle capacity)` rows: all batch-tier revenue of the period, model and silicon, the idle capacity the batch tier turned into revenue'),
] as const;

/**
 * Appended (after the quota and batch columns, before reasoning's) only when the scenario takes
 * single replicas down: a partial incident or deployment `failures` (docs/failures.md).
 */
export const SUMMARY_FAULT_COLUMNS = [
  col('replica_failures', 'random replica failures (deployment `failures`: mtbf, mttr) that began in the run (docs/failures.md); empty for tenant and workload'),
  col('replica_hours_down', 'replica-hours single replicas were down in a partial incident or a random failure (whole-deployment outages not counted); down replicas stay billed, at the idle rate; empty for tenant and workload'),
] as const;

/**
 * Appended last, only when a deployment has a host tier (`kv_offload`, docs/prefix-caching.md#host-offload),
 * so the files of runs without one are unchanged. prefix_hit_pct counts both tiers.
 */
export const SUMMARY_OFFLOAD_COLUMNS = [
  col('offload_hit_tokens', 'of cached_input_tokens, those found in the host tier (kv_offload) and copied back to the GPU'),
  col('prefix_hit_host_pct', 'offload_hit_tokens / input_tokens × 100: the host tier\'s share of prefix_hit_pct (empty when no input tokens)'),
] as const;

export const TIMESERIES_COLUMNS = [
  col('interval_start', 'ISO 8601 UTC start of the report interval'),
  col('interval_start_s', 'seconds from the scenario start'),
  col('interval_s', 'interval length, seconds'),
  q('deployment'),
  q('model'),
  q('silicon'),
  col('queue_depth', 'requests waiting at the interval end, all replicas'),
  col('batch_size', 'requests in running batches at the interval end, all replicas'),
  col('kv_used_pct', 'KV-cache blocks in use at the interval end, % of capacity'),
  q('busy_pct', 'during the interval'),
  col('arrivals', 'requests routed to the deployment during the interval'),
  q('requests_served', 'that finished during the interval'),
  q('input_tokens', 'of requests that finished during the interval'),
  q('output_tokens', 'of requests that finished during the interval'),
  q('cost_usd', 'of the interval: chips × time × (busy rate for the busy share, idle rate for the rest)'),
  q('revenue_usd', 'of requests that finished during the interval'),
  q('cached_input_tokens'),
  q('prefix_hit_pct'),
  col('interval_start_utc', 'interval_start as spreadsheets read a date-time: UTC, `2026-01-01 00:17:00` (milliseconds added when not whole)'),
  q('capacity_used_pct', 'during the interval (output tokens of requests that finished in it)'),
] as const;

/** Appended to timeseries.csv only when a deployment autoscales (docs/autoscaling.md), so fixed fleets' files are unchanged. */
export const TIMESERIES_AUTOSCALE_COLUMNS = [
  col('replicas_serving', 'replicas taking requests at the interval end, less those a partial incident or random failure holds down (a whole-deployment outage is not subtracted: a fixed deployment counts its replicas, outages included)'),
  col('replicas_provisioning', 'replicas provisioning or loading weights at the interval end: billed, not serving (0 for a fixed deployment)'),
] as const;

/**
 * Appended (after the quota and batch columns, when those are) only when a workload has
 * `reasoning_tokens` (docs/reports.md#reasoning-tokens), so the files of runs without reasoning are
 * unchanged: to summary.csv (and sweep.csv) these, to pnl.csv and requests.csv reasoning_tokens.
 */
export const SUMMARY_REASONING_COLUMNS = [
  q('reasoning_tokens'),
  col('cost_usd_per_mtok_visible_output', 'cost_usd per million visible output tokens: cost_usd / ((output_tokens − reasoning_tokens) / 10⁶), what an answer the user reads costs once its thinking is paid for (empty when none)'),
] as const;
export const PNL_REASONING_COLUMNS = [q('reasoning_tokens', 'that finished in the period')] as const;
export const REQUEST_REASONING_COLUMNS = [q('reasoning_tokens', 'this request\'s hidden tokens (included in its output_tokens)')] as const;
/**
 * Appended to requests.csv (after reasoning_tokens, when both) only when a workload has `session:`
 * (docs/prefix-caching.md#multi-turn-sessions), so other scenarios' files are unchanged.
 */
export const REQUEST_SESSION_COLUMNS = [
  col('session_id', 'the conversation the request is a turn of: its number among its workload\'s conversations, 0-based in the order they opened (with `workload`, a conversation\'s key); empty outside a session workload'),
  col('turn', 'the request\'s turn in its conversation, 1 for the first; empty outside a session workload'),
] as const;

/** requests.csv's columns: reasoning_tokens appended when a workload has reasoning, then the session columns when one has sessions. */
export const requestColumns = (reasoning: boolean, sessions: boolean): readonly ColumnDoc[] => [
  ...REQUEST_COLUMNS,
  ...(reasoning ? REQUEST_REASONING_COLUMNS : []),
  ...(sessions ? REQUEST_SESSION_COLUMNS : []),
];

export const PNL_COLUMNS = [
  col('period', 'calendar day (YYYY-MM-DD, UTC) from the scenario start; month (YYYY-MM) for horizons over 62 days'),
  q('tenant', '`(idle capacity)` for the cost of capacity no request used'),
  q('model'),
  q('vendor'),
  q('silicon'),
  q('requests_served', 'that finished in the period'),
  q('input_tokens'),
  q('output_tokens'),
  q('revenue_usd'),
  q('vendor_payout_usd'),
  col('platform_revenue_usd', 'revenue − vendor payout'),
  q('cost_usd', 'tenant rows: the cost of the capacity their tokens took (docs/economics.md#attribution-rule); `(idle capacity)` rows: the rest, the idle cost'),
  q('gross_margin_usd'),
  q('gross_margin_pct'),
  q('idle_cost_usd', 'non-zero only on `(idle capacity)` rows'),
  q('energy_kwh', 'of the busy replica-time attributed to the row (idle rows: of the idle time)'),
  q('emissions_kg_co2e'),
  q('cached_input_tokens'),
  q('prefix_hit_pct'),
] as const;

export const REQUEST_COLUMNS = [
  col('request_id', 'arrival order, 0-based (with --requests-sample, only the sampled ids appear)'),
  col('workload', 'workload name'),
  q('tenant'),
  q('deployment', 'where the request ended'),
  q('model', 'that served (or last tried) it'),
  col('fate', '`completed`, `failed_over`, `rejected`, `timed_out`, `lost`, `throttled` (over a quota, docs/quotas.md) or `expired` (a batch-tier request not started within its window)'),
  col('arrival_time', 'ISO 8601 UTC arrival time'),
  col('arrival_s', 'arrival, seconds from the scenario start'),
  col('ttft_s', 'time to first token, seconds (empty unless completed)'),
  col('e2e_s', 'arrival to end, seconds'),
  col('prompt_tokens', 'prompt length, tokens'),
  q('output_tokens', 'this request\'s output length (what it generated, when served)'),
  col('arrival_time_utc', 'arrival_time as spreadsheets read a date-time: UTC, `2026-01-01 00:17:00.250`'),
] as const;

/** plan.csv: one row per candidate fleet the search simulated (src/cli/plan.ts writes them). */
export const PLAN_COLUMNS = [
  q('model', 'the fleet serves'),
  col('fleet', 'replicas per silicon, e.g. `h100-sxm x3 + maia-200 x1`'),
  col('replicas', 'replicas in the fleet'),
  q('chips', 'of the fleet'),
  col('usd_per_hour', 'fleet cost per hour at the deployments\' chip-hour prices'),
  q('dtype', 'of every replica'),
  col('kv_dtype', 'KV-cache format'),
  col('scheduler', 'batching policy'),
  col('max_batch', 'most requests in one replica\'s running batch'),
  col('other_settings', 'the other deployment keys the fleet took from the scenario, `key=value` separated by `; ` (empty: defaults)'),
  col('settings_from', 'where the settings came from: `deployment NAME` (the scenario\'s first deployment of the model), `+ plan KEY,...` for the keys the candidate overrides'),
  q('cost_usd_per_mtok_output', 'of the fleet\'s simulated run'),
  col('worst_ttft_p99_s', 'the highest time-to-first-token 99th percentile of the model\'s workloads, seconds'),
  col('worst_tpot_p99_s', 'the highest time-per-output-token 99th percentile of the model\'s workloads, seconds'),
  col('worst_slo_attainment_pct', 'the lowest SLO attainment of the model\'s workloads, %'),
  col('feasible', '`yes` when every workload meets every plan target'),
  col('rank', '1 = cheapest feasible fleet for the model; empty when infeasible'),
  q('note', 'why a silicon kind cannot serve, or the search bound hit'),
  col('assumptions', 'what the fleet\'s price and performance rest on that is not sourced: assumed chip-hour prices, silicon with no measurement (performance from datasheet specs, with the error that applies); `; `-separated'),
  q('cost_usd_per_mtok_input', 'of the fleet\'s simulated run'),
  q('cost_usd_per_mtok_blended', 'of the fleet\'s simulated run'),
  q('cost_usd_per_mtok_output_low', 'of the fleet, each deployment weighted by its share of the fleet\'s chip-hour price'),
  q('cost_usd_per_mtok_output_high'),
  q('perf_basis', 'of the fleet\'s deployments'),
] as const;

/** `fleetsim explain --format csv`: one row per configuration, from the step-time model alone (no simulation). */
export const EXPLAIN_COLUMNS = [
  q('deployment', '`model@silicon` for --model/--silicon and --all'),
  q('model'),
  q('silicon'),
  col('tp', 'tensor parallelism: chips per replica'),
  q('dtype'),
  col('weight_gb', 'weights per replica, GB'),
  col('kv_bytes_per_token', 'KV-cache bytes per token (all layers, per replica)'),
  col('kv_capacity_tokens', 'tokens the replica\'s KV cache holds'),
  col('mean_prompt_tokens', 'mean prompt length the full-load figures assume'),
  col('mean_output_tokens', 'mean output length the full-load figures assume'),
  col('max_batch_fit', 'requests of the mean context (prompt + half the output) that max_batch and the KV cache allow in one batch'),
  col('prefill_tokens_per_s', 'prefill speed of one mean prompt alone, tokens per second'),
  col('decode_step_b1_s', 'one decode step at batch 1, seconds'),
  col('decode_step_b32_s', 'one decode step at batch 32 (or max_batch_fit when smaller), seconds'),
  col('decode_step_bmax_s', 'one decode step at max_batch_fit, seconds'),
  col('max_output_tokens_per_s_per_chip', 'saturated output tokens per second per chip (src/perf/saturation.ts): the rate a replica kept full approaches'),
  col('cost_usd_per_mtok_output_full_load', 'cost_usd_per_mtok_output of a replica kept at that saturated rate, at the deployment\'s busy chip-hour price'),
  q('note'),
  col('cost_usd_per_mtok_input_full_load', 'cost_usd_per_mtok_input at the saturated rate (input tokens: output rate × mean prompt / mean output)'),
  col('cost_usd_per_mtok_blended_full_load', 'cost_usd_per_mtok_blended at the saturated rate'),
  col('stack', 'the deployment\'s serving stack (`stack:`, or --stack; `generic` when not named)'),
  col('profile', 'the data/efficiency.csv row the step times use (`h100-sxm@trtllm`: silicon h100-sxm, stack trtllm; `gpu`: the kind\'s generic row), as run.json `perf[].profile`'),
  q('perf_basis', 'of this deployment, as run.json `perf[].perf_basis`'),
  col('profile_basis', 'that row\'s `basis`: `fitted` (by `fleetsim calibrate`, to the rows `fitted_to` names) or `assumed` (no measurement, or overridden in the scenario)'),
  col('cv_rows', 'held-out throughput predictions behind the row\'s cross-validated error band (empty: no band, the error is unknown)'),
  col('cv_mape_pct', 'their mean |error|, %'),
  col('cv_err_p10_pct', '10th percentile of their signed error (predicted − measured) / measured, %'),
  col('cv_err_p90_pct', '90th percentile of the same, %: 80% of held-out predictions fell between the two'),
  col('fitted_to', 'the measurement rows the profile was fitted to (empty when assumed); the table prints it below, not as a column'),
  col('perf_note', 'what the prediction rests on and how wrong it may be, as run.json `perf[].note`; the table prints it below, not as a column'),
] as const;

export const names = (cols: readonly ColumnDoc[]) => cols.map((c) => c.name);

/** Which column groups a scenario's summary and pnl append: the quota column, the batch tier's, faults', reasoning's, the host tier's (summary only). */
export interface Appended {
  quotas: boolean;
  batch: boolean;
  faults: boolean;
  reasoning: boolean;
  offload: boolean;
}

/** summary.csv's columns: requests_throttled appended when the scenario sets a quota, then the batch tier's, faults', reasoning's, the host tier's. */
export const summaryColumns = (a: Appended): readonly ColumnDoc[] => [
  ...SUMMARY_COLUMNS,
  ...(a.quotas ? SUMMARY_QUOTA_COLUMNS : []),
  ...(a.batch ? SUMMARY_BATCH_COLUMNS : []),
  ...(a.faults ? SUMMARY_FAULT_COLUMNS : []),
  ...(a.reasoning ? SUMMARY_REASONING_COLUMNS : []),
  ...(a.offload ? SUMMARY_OFFLOAD_COLUMNS : []),
];
export const pnlColumns = (a: Appended): readonly ColumnDoc[] => [
  ...PNL_COLUMNS,
  ...(a.quotas ? PNL_QUOTA_COLUMNS : []),
  ...(a.batch ? PNL_BATCH_COLUMNS : []),
  ...(a.reasoning ? PNL_REASONING_COLUMNS : []),
];

/** The groups a written header carries (fleetsim report reads them back). */
export const appendedIn = (header: readonly string[]): Appended => ({
  quotas: header.includes('requests_throttled'),
  batch: header.includes('requests_expired'),
  faults: header.includes('replica_failures'),
  reasoning: header.includes('reasoning_tokens'),
  offload: header.includes('offload_hit_tokens'),
});
