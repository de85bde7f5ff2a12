/**
 * Every report column, defined once: name (the CSV header, snake_case with its unit as suffix),
 * and meaning. docs/reports.md's column tables are generated from these (`npm run docs:tables`), and the
 * golden-file tests pin the order. Append new columns at the end; never reorder or rename.
 */

export interface ColumnDoc {
  name: string;
  meaning: string;
}

const col = (name: string, meaning: string): ColumnDoc => ({ name, meaning });

export const SUMMARY_COLUMNS = [
  col('scope', '`total`, `deployment`, `model`, `silicon`, `model_silicon`, `tenant` or `workload`'),
  col('key', 'the deployment, model, silicon, `model/silicon`, tenant or workload name (`all` for total; `(idle capacity)` for fleet time no request used)'),
  col('requests_arrived', 'requests that ended in this scope (sum of the five fates below)'),
  col('requests_completed', 'served by their own model'),
  col('requests_failed_over', 'served by a fallback model, or moved off a failed deployment; counted where they completed'),
  col('requests_rejected', 'turned away: no deployment up, queue full, or too long for any KV cache'),
  col('requests_timed_out', 'waited longer than the workload `timeout` before starting'),
  col('requests_lost', 'in flight on a failed deployment with nowhere to go'),
  col('input_tokens', 'prompt tokens of completed requests (billed)'),
  col('output_tokens', 'generated tokens of completed requests (billed)'),
  col('output_tokens_per_s', 'output_tokens / billed run time'),
  col('ttft_p50_s', 'time to first token, median, seconds (requests arriving after warmup); empty when the scope measured no request'),
  col('ttft_p90_s', 'time to first token, 90th percentile, seconds; empty when the scope measured no request'),
  col('ttft_p99_s', 'time to first token, 99th percentile, seconds; empty when the scope measured no request'),
  col('tpot_p50_s', 'time per output token after the first, median, seconds; empty when the scope measured no request'),
  col('tpot_p99_s', 'time per output token, 99th percentile, seconds; empty when the scope measured no request'),
  col('e2e_p50_s', 'arrival to last token, median, seconds; empty when the scope measured no request'),
  col('e2e_p99_s', 'arrival to last token, 99th percentile, seconds; empty when the scope measured no request'),
  col('slo_attainment_pct', 'requests arriving after warmup that completed within their TTFT, TPOT and E2E targets, % of those that arrived (empty when none arrived after warmup)'),
  col('chips', 'chips in the scope\'s deployments (empty for tenant and workload)'),
  col('chip_hours', 'chips × billed run time, hours (tenant, workload: busy chip-hours attributed)'),
  col('utilization_pct', 'busy replica-time / replica-time of the scope\'s deployments (tenant, workload: of the whole fleet)'),
  col('energy_kwh', 'facility energy: chip power at TDP for busy replica-time and idle_w otherwise, × PUE (tenant, workload: busy energy attributed; `(idle capacity)`: idle energy)'),
  col('cost_usd', 'compute cost: busy cost attributed plus, for fleet scopes, idle cost'),
  col('revenue_usd', 'billed to tenants for completed requests'),
  col('vendor_payout_usd', 'revenue share paid to the model developer'),
  col('gross_margin_usd', 'revenue − vendor payout − cost'),
  col('gross_margin_pct', 'gross margin / revenue × 100 (empty when revenue is 0)'),
  col('cost_per_mtok_usd', 'cost_usd per million output tokens (empty when the scope has no output tokens)'),
  col('idle_cost_usd', 'part of cost_usd for capacity no request used'),
  col('preemptions', 'KV-cache preemptions (recomputations) on the scope\'s deployments (empty for tenant and workload)'),
  col('emissions_kg_co2e', 'energy_kwh × the facility grid intensity, kg CO2e (empty when the facility gives no grid intensity)'),
  col('ttft_mean_s', 'time to first token, exact mean over the requests the percentiles cover, seconds; empty when the scope measured no request'),
  col('tpot_mean_s', 'time per output token after the first, exact mean over requests of each request\'s (E2E − TTFT) / (output tokens − 1), seconds (requests of one output token have no TPOT); empty when none'),
  col('e2e_mean_s', 'arrival to last token, exact mean, seconds; empty when the scope measured no request'),
  col('itl_mean_s', 'inter-token latency, token-weighted: Σ (E2E − TTFT) / Σ (output tokens − 1) over the requests tpot_mean_s covers, seconds (vLLM\'s mean ITL; long outputs weigh more than in tpot_mean_s); empty when none'),
  col('cached_input_tokens', 'of input_tokens, prompt tokens the replica\'s prefix cache served (billed at the cached-input price; docs/prefix-caching.md)'),
  col('prefix_hit_pct', 'cached_input_tokens / input_tokens × 100: the prefix cache\'s token hit rate (empty when no input tokens)'),
] as const;

export const TIMESERIES_COLUMNS = [
  col('interval_start', 'ISO 8601 UTC start of the report interval'),
  col('interval_start_s', 'seconds from the scenario start'),
  col('interval_s', 'interval length, seconds'),
  col('deployment', 'deployment name'),
  col('model', 'model id'),
  col('silicon', 'silicon id'),
  col('queue_depth', 'requests waiting at the interval end, all replicas'),
  col('batch_size', 'requests in running batches at the interval end, all replicas'),
  col('kv_used_pct', 'KV-cache blocks in use at the interval end, % of capacity'),
  col('busy_pct', 'replica-time spent running iterations during the interval, %'),
  col('arrivals', 'requests routed to the deployment during the interval'),
  col('completions', 'requests completed during the interval'),
  col('input_tokens', 'prompt tokens of requests completed during the interval'),
  col('output_tokens', 'output tokens of requests completed during the interval'),
  col('cost_usd', 'compute cost of the interval: chips × time × (busy rate for the busy share, idle rate for the rest)'),
  col('revenue_usd', 'revenue of requests completed during the interval (tokens and per-request fees)'),
  col('cached_input_tokens', 'of input_tokens, those served from the prefix cache'),
  col('prefix_hit_pct', 'cached_input_tokens / input_tokens × 100 (empty when no input tokens)'),
  col('interval_start_utc', 'interval_start as spreadsheets read a date-time: UTC, `2026-01-01 00:17:00` (milliseconds added when not whole)'),
] as const;

export const PNL_COLUMNS = [
  col('period', 'calendar day (YYYY-MM-DD, UTC) from the scenario start; month (YYYY-MM) for horizons over 62 days'),
  col('tenant', 'tenant; `(idle capacity)` for the cost of capacity no request used'),
  col('model', 'model id'),
  col('vendor', 'model developer'),
  col('silicon', 'silicon id'),
  col('requests_completed', 'requests completed (including failed over) in the period'),
  col('input_tokens', 'prompt tokens billed'),
  col('output_tokens', 'output tokens billed'),
  col('revenue_usd', 'billed revenue'),
  col('vendor_payout_usd', 'revenue share paid to the model developer'),
  col('platform_revenue_usd', 'revenue − vendor payout'),
  col('compute_cost_usd', 'busy cost attributed to the tenant (idle rows: idle cost)'),
  col('gross_margin_usd', 'platform revenue − compute cost'),
  col('gross_margin_pct', 'gross margin / revenue × 100 (empty when revenue is 0)'),
  col('idle_cost_usd', 'part of compute_cost_usd for capacity no request used (non-zero only on `(idle capacity)` rows)'),
  col('energy_kwh', 'facility energy of the busy replica-time attributed to the row (idle rows: of the idle time)'),
  col('emissions_kg_co2e', 'energy_kwh × the facility grid intensity, kg CO2e (empty when no grid intensity is given)'),
  col('cached_input_tokens', 'of input_tokens, those served from the prefix cache (billed at the cached-input price)'),
  col('prefix_hit_pct', 'cached_input_tokens / input_tokens × 100 (empty when no input tokens)'),
] as const;

export const REQUEST_COLUMNS = [
  col('request_id', 'arrival order, 0-based (with --requests-sample, only the sampled ids appear)'),
  col('workload', 'workload name'),
  col('tenant', 'tenant'),
  col('deployment', 'deployment where the request ended'),
  col('model', 'model that served (or last tried) it'),
  col('fate', '`completed`, `failed_over`, `rejected`, `timed_out` or `lost`'),
  col('arrival_time', 'ISO 8601 UTC arrival time'),
  col('arrival_s', 'arrival, seconds from the scenario start'),
  col('ttft_s', 'time to first token, seconds (empty unless completed)'),
  col('e2e_s', 'arrival to end, seconds'),
  col('prompt_tokens', 'prompt length, tokens'),
  col('output_tokens', 'output length, tokens'),
  col('arrival_time_utc', 'arrival_time as spreadsheets read a date-time: UTC, `2026-01-01 00:17:00.250`'),
] as const;

export const names = (cols: readonly ColumnDoc[]) => cols.map((c) => c.name);
