/** docs/reports.md's column tables, generated from columns.ts so the two cannot drift apart (test/docs.test.ts). */
import { EXPLAIN_COLUMNS, PLAN_COLUMNS, PNL_COLUMNS, PNL_BATCH_COLUMNS, PNL_QUOTA_COLUMNS, PNL_REASONING_COLUMNS, REQUEST_COLUMNS, REQUEST_REASONING_COLUMNS, REQUEST_SESSION_COLUMNS, SUMMARY_BATCH_COLUMNS, SUMMARY_COLUMNS, SUMMARY_FAULT_COLUMNS, SUMMARY_OFFLOAD_COLUMNS, SUMMARY_QUOTA_COLUMNS, SUMMARY_REASONING_COLUMNS, TIMESERIES_AUTOSCALE_COLUMNS, TIMESERIES_COLUMNS, type ColumnDoc } from './columns.js';

function table(title: string, cols: readonly ColumnDoc[]): string {
  const rows = cols.map((c) => `| \`${c.name}\` | ${(c.note ? `${c.meaning} (here: ${c.note})` : c.meaning).replace(/\|/g, '\\|')} |`);
  return [`### ${title}`, '', '| column | meaning |', '|---|---|', ...rows, ''].join('\n');
}

export function columnsMarkdown(): string {
  return [
    table('summary.csv', SUMMARY_COLUMNS),
    table('summary.csv (and sweep.csv), appended when the scenario sets a quota ([quotas](quotas.md))', SUMMARY_QUOTA_COLUMNS),
    table('summary.csv (and sweep.csv), appended after those when a workload has a batch tier ([batch tier](quotas.md#batch-tier))', SUMMARY_BATCH_COLUMNS),
    table('summary.csv (and sweep.csv), appended after those when the scenario takes single replicas down ([failures](failures.md))', SUMMARY_FAULT_COLUMNS),
    table('summary.csv (and sweep.csv), appended after those when a workload has reasoning tokens ([reasoning tokens](#reasoning-tokens))', SUMMARY_REASONING_COLUMNS),
    table('summary.csv (and sweep.csv), appended last when a deployment has a host KV tier ([host offload](prefix-caching.md#host-offload))', SUMMARY_OFFLOAD_COLUMNS),
    table('timeseries.csv (one row per report interval and deployment)', TIMESERIES_COLUMNS),
    table('timeseries.csv, appended when a deployment autoscales ([autoscaling](autoscaling.md))', TIMESERIES_AUTOSCALE_COLUMNS),
    table('pnl.csv (one row per period, tenant, model and silicon)', PNL_COLUMNS),
    table('pnl.csv, appended when the scenario sets a quota ([quotas](quotas.md))', PNL_QUOTA_COLUMNS),
    table('pnl.csv, appended after those when a workload has a batch tier ([batch tier](quotas.md#batch-tier))', PNL_BATCH_COLUMNS),
    table('pnl.csv, appended after those when a workload has reasoning tokens', PNL_REASONING_COLUMNS),
    table('requests.csv (with --requests; one row per request, in the order they ended, ties in event order)', REQUEST_COLUMNS),
    table('requests.csv, appended when a workload has reasoning tokens', REQUEST_REASONING_COLUMNS),
    table('requests.csv, appended after those when a workload has sessions ([sessions](prefix-caching.md#multi-turn-sessions))', REQUEST_SESSION_COLUMNS),
    table('plan.csv (fleetsim plan; one row per candidate fleet simulated)', PLAN_COLUMNS),
    table('explain (fleetsim explain --format csv; one row per configuration, no simulation)', EXPLAIN_COLUMNS),
  ].join('\n');
}
