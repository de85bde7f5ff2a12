/**
 * What each chart of report.html shows, computed here from the CSVs (not in the browser) so the
 * numbers can be checked against the files by a test and the page's script only draws. Every
 * y value is a CSV cell or a sum of CSV cells (money summed in integer cents); the one derived
 * rate, throughput, is output_tokens / interval_s of the same row.
 */
import { PLAN_COLUMNS, PNL_COLUMNS, REQUEST_COLUMNS, SUMMARY_BATCH_COLUMNS, SUMMARY_COLUMNS, SUMMARY_QUOTA_COLUMNS, TIMESERIES_AUTOSCALE_COLUMNS, TIMESERIES_COLUMNS, type ColumnDoc } from '../report/columns.js';
import { column, type ReportDir, type Table } from './read.js';

export interface Point {
  x: number;
  y: number;
  /** Shown in the tooltip (a plan's fleet). */
  label?: string;
}

export interface Dataset {
  label: string;
  /** One value per label (category charts) or points (numeric x). null = empty cell. */
  data: (number | null)[] | Point[];
  /** Drawn dashed (a p50 beside its p99). */
  dashed?: boolean;
  /** Palette index when several datasets share a colour (one deployment's p50 and p99). */
  colorIndex?: number;
  /** 95% interval per label, drawn as a shaded band (sweeps with replications). */
  band?: { lo: (number | null)[]; hi: (number | null)[] };
}

export interface ChartSpec {
  id: string;
  section: string;
  title: string;
  /** One sentence: what the chart shows and where its numbers come from. */
  note: string;
  kind: 'bar' | 'line' | 'scatter';
  /** Category labels of the x axis (bar charts, sweeps); absent for numeric x. */
  labels?: string[];
  xTitle: string;
  yTitle: string;
  datasets: Dataset[];
}

/**
 * A column the views name, checked against the shared definitions when this module loads: a rename
 * in src/report/columns.ts that the views miss fails every report test at once instead of
 * drawing an empty chart.
 */
function named(cols: readonly ColumnDoc[] | readonly (readonly [string, string])[], name: string): string {
  const all = cols.map((c) => (Array.isArray(c) ? (c as readonly string[])[0] : (c as ColumnDoc).name));
  if (!all.includes(name)) throw new Error(`report view: column ${name} is not in the column definitions`);
  return name;
}

const S = {
  scope: named(SUMMARY_COLUMNS, 'scope'),
  key: named(SUMMARY_COLUMNS, 'key'),
};
const T = {
  start: named(TIMESERIES_COLUMNS, 'interval_start_s'),
  length: named(TIMESERIES_COLUMNS, 'interval_s'),
  deployment: named(TIMESERIES_COLUMNS, 'deployment'),
  queue: named(TIMESERIES_COLUMNS, 'queue_depth'),
  batch: named(TIMESERIES_COLUMNS, 'batch_size'),
  busy: named(TIMESERIES_COLUMNS, 'busy_pct'),
  outTok: named(TIMESERIES_COLUMNS, 'output_tokens'),
  serving: named(TIMESERIES_AUTOSCALE_COLUMNS, 'replicas_serving'),
  provisioning: named(TIMESERIES_AUTOSCALE_COLUMNS, 'replicas_provisioning'),
};
const P = {
  period: named(PNL_COLUMNS, 'period'),
  revenue: named(PNL_COLUMNS, 'revenue_usd'),
  payout: named(PNL_COLUMNS, 'vendor_payout_usd'),
  cost: named(PNL_COLUMNS, 'cost_usd'),
  margin: named(PNL_COLUMNS, 'gross_margin_usd'),
  groups: [named(PNL_COLUMNS, 'tenant'), named(PNL_COLUMNS, 'model'), named(PNL_COLUMNS, 'vendor'), named(PNL_COLUMNS, 'silicon')],
};
const R = {
  arrival: named(REQUEST_COLUMNS, 'arrival_s'),
  fate: named(REQUEST_COLUMNS, 'fate'),
  deployment: named(REQUEST_COLUMNS, 'deployment'),
  ttft: named(REQUEST_COLUMNS, 'ttft_s'),
  e2e: named(REQUEST_COLUMNS, 'e2e_s'),
  outTok: named(REQUEST_COLUMNS, 'output_tokens'),
};
const PL = {
  model: named(PLAN_COLUMNS, 'model'),
  fleet: named(PLAN_COLUMNS, 'fleet'),
  usdPerHour: named(PLAN_COLUMNS, 'usd_per_hour'),
  ttft: named(PLAN_COLUMNS, 'worst_ttft_p99_s'),
  attainment: named(PLAN_COLUMNS, 'worst_slo_attainment_pct'),
  feasible: named(PLAN_COLUMNS, 'feasible'),
};

/** Latency columns (ttft/tpot/e2e percentiles, means), found in the definitions so new ones appear. */
const LATENCY = /^(ttft|tpot|e2e)_(p\d+|mean)_s$/;
/** The fates are the summary's `requests_*` columns other than the total and the served (completed + failed over). */
const FATE_COLUMNS = SUMMARY_COLUMNS.map((c) => c.name).filter((n) => n.startsWith('requests_') && n !== 'requests_arrived' && n !== 'requests_served');
/** Fates appended only with quotas or a batch tier (src/report/columns.ts). */
const APPENDED_FATES = [...SUMMARY_QUOTA_COLUMNS, ...SUMMARY_BATCH_COLUMNS].map((c) => c.name).filter((n) => n.startsWith('requests_'));
const MONEY = [P.revenue, P.payout, P.cost, P.margin];
const MONEY_LABEL: Record<string, string> = { [P.revenue]: 'revenue', [P.payout]: 'vendor payout', [P.cost]: 'compute cost', [P.margin]: 'gross margin' };

/** A CSV cell as a number; empty (not applicable) as null. */
export function cellNumber(text: string): number | null {
  return text === '' ? null : Number(text);
}

/** Money cells are cents exactly; summing cents as integers keeps sums to the cent. */
const cents = (text: string) => (text === '' ? 0 : Math.round(Number(text) * 100));

function distinct(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** The x unit of charts over time: minutes for short runs, hours up to three days, then days. */
export function timeUnit(lastStartS: number): { perS: number; name: string } {
  if (lastStartS <= 2 * 3600) return { perS: 60, name: 'minutes' };
  if (lastStartS <= 72 * 3600) return { perS: 3600, name: 'hours' };
  return { perS: 86400, name: 'days' };
}

function runCharts(r: ReportDir): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const summary = r.summary;
  if (summary) {
    const sc = column(summary, S.scope);
    const deployments = summary.rows.filter((row) => row[sc] === 'deployment');
    const labels = deployments.map((row) => row[column(summary, S.key)]);
    for (const metric of ['ttft', 'tpot', 'e2e']) {
      const cols = summary.header.filter((h) => LATENCY.exec(h)?.[1] === metric);
      charts.push({
        id: `latency-${metric}`,
        section: 'Latency and throughput',
        title: `${metric.toUpperCase()} by deployment`,
        note: `${metric.toUpperCase()} percentiles of each deployment over the run (summary.csv, requests arriving after warmup); an empty bar is a deployment that measured no request.`,
        kind: 'bar',
        labels,
        xTitle: 'deployment',
        yTitle: 'seconds',
        datasets: cols.map((c) => ({ label: c, data: deployments.map((row) => cellNumber(row[column(summary, c)])) })),
      });
    }
  }
  const ts = r.timeseries;
  if (ts) {
    const dep = column(ts, T.deployment);
    const names = distinct(ts.rows.map((row) => row[dep]));
    const unit = timeUnit(Math.max(0, ...ts.rows.map((row) => Number(row[column(ts, T.start)]))));
    const series = (id: string, title: string, note: string, yTitle: string, y: (row: string[]) => number | null, section: string): ChartSpec => ({
      id,
      section,
      title,
      note,
      kind: 'line',
      xTitle: `${unit.name} from the scenario start (interval start)`,
      yTitle,
      datasets: names.map((name) => ({
        label: name,
        data: ts.rows
          .filter((row) => row[dep] === name)
          .map((row) => ({ x: Number(row[column(ts, T.start)]) / unit.perS, y: y(row) ?? NaN })),
      })),
    });
    charts.push(
      series(
        'throughput',
        'Output throughput over time',
        'Output tokens per second of each deployment per report interval (timeseries.csv output_tokens / interval_s).',
        'output tokens / s',
        (row) => Number(row[column(ts, T.outTok)]) / Number(row[column(ts, T.length)]),
        'Latency and throughput',
      ),
      series('queue', 'Queue depth over time', 'Requests waiting at the end of each interval, per deployment (timeseries.csv queue_depth): a queue that builds is demand above capacity.', 'requests waiting', (row) => cellNumber(row[column(ts, T.queue)]), 'Queues and replicas'),
      series('batch', 'Running batch over time', 'Requests in running batches at the end of each interval, per deployment (timeseries.csv batch_size), summed over its replicas.', 'requests in batches', (row) => cellNumber(row[column(ts, T.batch)]), 'Queues and replicas'),
      series('busy', 'Replicas busy over time', 'Share of replica-time spent running iterations in each interval (timeseries.csv busy_pct): 100% is every replica busy all interval.', '% of replica-time', (row) => cellNumber(row[column(ts, T.busy)]), 'Queues and replicas'),
    );
    // The replica counts are in timeseries.csv only when a deployment autoscales (fixed fleets' files are unchanged).
    if (ts.header.includes(T.serving)) {
      const start = column(ts, T.start);
      const count = (name: string, c: number) =>
        ts.rows.filter((row) => row[dep] === name).map((row) => ({ x: Number(row[start]) / unit.perS, y: cellNumber(row[c]) ?? NaN }));
      charts.push({
        id: 'replicas',
        section: 'Queues and replicas',
        title: 'Replicas over time',
        note: 'Replicas serving (solid) and provisioning (dashed: billed, not yet serving) at the end of each interval, per deployment (timeseries.csv replicas_serving, replicas_provisioning).',
        kind: 'line',
        xTitle: `${unit.name} from the scenario start (interval start)`,
        yTitle: 'replicas',
        datasets: names.flatMap((name, d) => [
          { label: `${name} serving`, colorIndex: d, data: count(name, column(ts, T.serving)) },
          { label: `${name} provisioning`, colorIndex: d, dashed: true, data: count(name, column(ts, T.provisioning)) },
        ]),
      });
    }
  }
  charts.push(...latencyOverTime(r));
  const fates = fatesOverTime(r);
  if (fates) charts.push(fates);
  else if (summary) {
    const sc = column(summary, S.scope);
    const deployments = summary.rows.filter((row) => row[sc] === 'deployment');
    charts.push({
      id: 'fates',
      section: 'Request fates',
      title: 'Request fates by deployment',
      note: 'How requests ended, per deployment (summary.csv requests_* columns); run with --requests for fates over time.',
      kind: 'bar',
      labels: deployments.map((row) => row[column(summary, S.key)]),
      xTitle: 'deployment',
      yTitle: 'requests',
      datasets: [...FATE_COLUMNS, ...APPENDED_FATES.filter((c) => summary.header.includes(c))].map((c) => ({ label: c, data: deployments.map((row) => cellNumber(row[column(summary, c)])) })),
    });
  }
  const pnl = r.pnl;
  if (pnl) {
    const groupNames = ['tenant', 'model', 'vendor', 'silicon'];
    P.groups.forEach((g, i) => charts.push(moneyBy(pnl, g, `money-${groupNames[i]}`, `Money by ${groupNames[i]}`, 'Money')));
    charts.push(moneyBy(pnl, P.period, 'pnl-period', 'P&L by period', 'P&L by period'));
  }
  return charts;
}

/** Sums of pnl.csv's money columns per value of `group`, in order of first appearance. */
export function moneyByGroup(pnl: Table, group: string): { labels: string[]; centsByColumn: Record<string, number[]> } {
  const g = column(pnl, group);
  const labels = distinct(pnl.rows.map((row) => row[g]));
  const at = new Map(labels.map((l, i) => [l, i]));
  const centsByColumn: Record<string, number[]> = {};
  for (const m of MONEY) {
    const c = column(pnl, m);
    const sums = new Array<number>(labels.length).fill(0);
    for (const row of pnl.rows) sums[at.get(row[g])!] += cents(row[c]);
    centsByColumn[m] = sums;
  }
  return { labels, centsByColumn };
}

function moneyBy(pnl: Table, group: string, id: string, title: string, section: string): ChartSpec {
  const { labels, centsByColumn } = moneyByGroup(pnl, group);
  return {
    id,
    section,
    title,
    note:
      group === P.period
        ? 'Revenue, vendor payout, compute cost and gross margin per calendar period (sums of pnl.csv rows, to the cent).'
        : `Revenue, vendor payout, compute cost and gross margin per ${group} (sums of pnl.csv rows, to the cent; \`(idle capacity)\` carries unused capacity's cost).`,
    kind: 'bar',
    labels,
    xTitle: group,
    yTitle: 'USD',
    datasets: MONEY.map((m) => ({ label: MONEY_LABEL[m], data: centsByColumn[m].map((c) => c / 100) })),
  };
}

/** Requests per fate per report interval, by arrival time, from requests.csv (absent without --requests). */
function fatesOverTime(r: ReportDir): ChartSpec | undefined {
  const rq = r.requests;
  const ts = r.timeseries;
  if (!rq || !ts) return undefined;
  const starts = distinct(ts.rows.map((row) => row[column(ts, T.start)])).map(Number).sort((a, b) => a - b);
  if (starts.length === 0) return undefined;
  const fate = column(rq, R.fate);
  const arrival = column(rq, R.arrival);
  const unit = timeUnit(starts[starts.length - 1]);
  const fateNames = distinct(rq.rows.map((row) => row[fate])).sort();
  const counts = fateNames.map(() => new Array<number>(starts.length).fill(0));
  const fateIndex = new Map(fateNames.map((f, i) => [f, i]));
  for (const row of rq.rows) counts[fateIndex.get(row[fate])!][binOf(starts, Number(row[arrival]))]++;
  return {
    id: 'fates',
    section: 'Request fates',
    title: 'Request fates over time',
    note: 'Requests by how they ended, binned by the report interval they arrived in (requests.csv): failed_over, rejected and lost rise where an outage hits.',
    kind: 'line',
    xTitle: `${unit.name} from the scenario start (interval start)`,
    yTitle: 'requests arrived',
    datasets: fateNames.map((f, i) => ({ label: f, data: starts.map((s, b) => ({ x: s / unit.perS, y: counts[i][b] })) })),
  };
}

/** Nearest-rank percentile of ascending `sorted` (q in (0, 1]); null for none. */
export function nearestRank(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

/**
 * TTFT, TPOT and E2E p50 and p99 per deployment per report interval, from requests.csv (absent
 * without --requests): exact nearest-rank percentiles of the requests served that arrived in the
 * interval. TPOT is (e2e_s − ttft_s) / (output_tokens − 1) of requests of two or more tokens.
 */
function latencyOverTime(r: ReportDir): ChartSpec[] {
  const rq = r.requests;
  const ts = r.timeseries;
  if (!rq || !ts) return [];
  const starts = distinct(ts.rows.map((row) => row[column(ts, T.start)])).map(Number).sort((a, b) => a - b);
  if (starts.length === 0) return [];
  const unit = timeUnit(starts[starts.length - 1]);
  const [dep, arrival, ttft, e2e, out] = [R.deployment, R.arrival, R.ttft, R.e2e, R.outTok].map((n) => column(rq, n));
  const deployments = distinct(ts.rows.map((row) => row[column(ts, T.deployment)]));
  const depIndex = new Map(deployments.map((d, i) => [d, i]));
  const metrics = ['ttft', 'tpot', 'e2e'] as const;
  // samples[metric][deployment][bin]
  const samples = metrics.map(() => deployments.map(() => starts.map((): number[] => [])));
  for (const row of rq.rows) {
    if (row[ttft] === '') continue;
    const d = depIndex.get(row[dep]);
    if (d === undefined) continue;
    const b = binOf(starts, Number(row[arrival]));
    const t = Number(row[ttft]);
    const e = Number(row[e2e]);
    const n = Number(row[out]);
    samples[0][d][b].push(t);
    if (n > 1) samples[1][d][b].push((e - t) / (n - 1));
    samples[2][d][b].push(e);
  }
  return metrics.map((m, mi) => ({
    id: `latency-${m}-time`,
    section: 'Latency and throughput',
    title: `${m.toUpperCase()} over time`,
    note: `${m.toUpperCase()} p50 (dashed) and p99 of the requests each deployment served, by the report interval they arrived in (exact percentiles of requests.csv${m === 'tpot' ? ': (e2e_s − ttft_s) / (output_tokens − 1)' : ''}).`,
    kind: 'line',
    xTitle: `${unit.name} from the scenario start (interval start)`,
    yTitle: 'seconds',
    datasets: deployments.flatMap((name, d) =>
      [0.5, 0.99].map((q) => ({
        label: `${name} p${Math.round(q * 100)}`,
        dashed: q === 0.5,
        colorIndex: d,
        data: starts.map((s, b) => {
          const sorted = samples[mi][d][b].sort((x, y) => x - y);
          return { x: s / unit.perS, y: nearestRank(sorted, q) ?? NaN };
        }),
      })),
    ),
  }));
}

/** Index of the last interval start <= t (arrivals are never before 0). */
export function binOf(starts: readonly number[], t: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The x label of a sweep point: its swept values, `path=value` when more than one path. */
function pointLabels(t: Table, paths: readonly string[]): Map<string, string> {
  const labels = new Map<string, string>();
  for (const row of t.rows) {
    const values = paths.map((_, i) => row[1 + i]);
    labels.set(row[0], paths.length === 1 ? values[0] : paths.map((p, i) => `${p}=${values[i]}`).join(', '));
  }
  return labels;
}

function sweepCharts(r: ReportDir): ChartSpec[] {
  const sw = r.sweep;
  if (!sw) return [];
  const sc = column(sw, S.scope);
  const totals = sw.rows.filter((row) => row[sc] === 'total');
  const labelOf = pointLabels(sw, r.sweepPaths);
  const labels = totals.map((row) => labelOf.get(row[0])!);
  const ci = new Map<string, [number, number]>();
  if (r.summaryCi) {
    const t = r.summaryCi;
    const [scope, metric, estimate, half] = ['scope', 'metric', 'estimate', 'ci95_half_width'].map((n) => column(t, n));
    for (const row of t.rows) {
      if (row[scope] !== 'total' || row[estimate] === '' || row[half] === '') continue;
      ci.set(`${row[0]}|${row[metric]}`, [Number(row[estimate]) - Number(row[half]), Number(row[estimate]) + Number(row[half])]);
    }
  }
  const xTitle = r.sweepPaths.join(', ') || 'point';
  const metrics = SUMMARY_COLUMNS.map((c) => c.name).filter((n) => n !== S.scope && n !== S.key);
  return metrics.map((m) => {
    const c = column(sw, m);
    const hasBand = totals.some((row) => ci.has(`${row[0]}|${m}`));
    return {
      id: `sweep-${m}`,
      section: 'Sweep',
      title: m,
      note: hasBand
        ? `${m} of the whole fleet at each swept value (sweep.csv, mean over replications) with its 95% confidence band (summary_ci.csv).`
        : `${m} of the whole fleet at each swept value (sweep.csv); run with --replications 2 or more for a 95% band.`,
      kind: 'line',
      labels,
      xTitle,
      yTitle: m,
      datasets: [
        {
          label: m,
          data: totals.map((row) => cellNumber(row[c])),
          band: hasBand
            ? { lo: totals.map((row) => ci.get(`${row[0]}|${m}`)?.[0] ?? null), hi: totals.map((row) => ci.get(`${row[0]}|${m}`)?.[1] ?? null) }
            : undefined,
        },
      ],
    };
  });
}

function planCharts(r: ReportDir): ChartSpec[] {
  const pl = r.plan;
  if (!pl) return [];
  const [model, fleet, usd, ttft, att, feasible] = [PL.model, PL.fleet, PL.usdPerHour, PL.ttft, PL.attainment, PL.feasible].map((n) => column(pl, n));
  const charts: ChartSpec[] = [];
  for (const m of distinct(pl.rows.map((row) => row[model]))) {
    const rows = pl.rows.filter((row) => row[model] === m && row[usd] !== '');
    for (const [x, what, xTitle] of [
      [ttft, 'TTFT p99', 'worst workload TTFT p99, s'],
      [att, 'SLO attainment', 'worst workload SLO attainment, %'],
    ] as const) {
      const points = (ok: boolean): Point[] =>
        rows.filter((row) => (row[feasible] === 'yes') === ok && row[x] !== '').map((row) => ({ x: Number(row[x]), y: Number(row[usd]), label: row[fleet] }));
      charts.push({
        id: `plan-${m}-${x === ttft ? 'ttft' : 'attainment'}`,
        section: 'Plan',
        title: `${m}: cost against ${what}`,
        note: `Each candidate fleet the search simulated for ${m}: its cost per hour against its worst workload's ${what} (plan.csv); feasible fleets meet every target.`,
        kind: 'scatter',
        xTitle,
        yTitle: 'USD per hour',
        datasets: [
          { label: 'feasible', data: points(true) },
          { label: 'infeasible', data: points(false) },
        ],
      });
    }
  }
  return charts;
}

/** Every chart the directory's reports support, in page order. */
export function chartsFor(r: ReportDir): ChartSpec[] {
  const all = [...runCharts(r), ...sweepCharts(r), ...planCharts(r)];
  // The page groups charts by section (in order of first appearance); so does this list.
  const sections = [...new Set(all.map((c) => c.section))];
  return sections.flatMap((s) => all.filter((c) => c.section === s));
}
