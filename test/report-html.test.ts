/**
 * report.html's numbers are the CSVs' numbers: every chart value is checked against the cells it
 * comes from (money by tenant, model and silicon against summary.csv's scopes, a second file), and
 * bad input exits 2 naming the file.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { fleetsim, SMALL_SCENARIO, tempDir } from './helpers/cli.js';
import { SUMMARY_COLUMNS, names } from '../src/report/columns.js';

type Row = Record<string, string>;
const readCsv = (path: string): Row[] => parse(readFileSync(path), { columns: true }) as Row[];
const num = (s: string) => (s === '' ? null : Number(s));

interface Point { x: number; y: number | null; label?: string }
interface Spec {
  id: string;
  labels?: string[];
  datasets: { label: string; data: (number | null)[] | Point[]; band?: { lo: (number | null)[]; hi: (number | null)[] } }[];
}
function specs(dir: string): Map<string, Spec> {
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  const list = JSON.parse(/<script type="application\/json" id="fleetsim-charts">([\s\S]*?)<\/script>/.exec(html)![1]) as Spec[];
  return new Map(list.map((s) => [s.id, s]));
}
const series = (s: Spec, label: string) => s.datasets.find((d) => d.label === label)!.data;

describe('fleetsim report', () => {
  let dir: string;
  let run: string;
  let sweep: string;
  let plan: string;
  beforeAll(() => {
    dir = tempDir();
    writeFileSync(join(dir, 'small.yaml'), SMALL_SCENARIO + 'sweep:\n  "workloads[0].arrival.rate": [0.5x, 1x, 2x]\n');
    run = join(dir, 'run');
    sweep = join(dir, 'sweep');
    plan = join(dir, 'plan');
    for (const args of [
      ['run', join(dir, 'small.yaml'), '--out', run, '--requests', '-q'],
      ['sweep', join(dir, 'small.yaml'), '--out', sweep, '--replications', '2', '--horizon', '2m', '--html', '-q'],
      ['plan', 'scenarios/silicon-mix-plan.yaml', '--out', plan, '--horizon', '2m', '--html', '-q'],
    ]) {
      const r = fleetsim(args);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const r = fleetsim(['report', run]);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('report.html');
  }, 120_000);

  it('writes one self-contained file: no external script, style, link or image', () => {
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(http|sourceMappingURL/);
    expect(html).toContain('Chart.js v');
  });

  it('is deterministic: the same CSVs give the same bytes', () => {
    const before = readFileSync(join(run, 'report.html'));
    expect(fleetsim(['report', run, '-q']).status).toBe(0);
    expect(readFileSync(join(run, 'report.html')).equals(before)).toBe(true);
  });

  it('charts latency percentiles per deployment as summary.csv has them', () => {
    const rows = readCsv(join(run, 'summary.csv')).filter((r) => r.scope === 'deployment');
    const s = specs(run);
    for (const metric of ['ttft', 'tpot', 'e2e']) {
      const spec = s.get(`latency-${metric}`)!;
      expect(spec.labels).toEqual(rows.map((r) => r.key));
      const cols = names(SUMMARY_COLUMNS).filter((c) => c.startsWith(`${metric}_`) && c.endsWith('_s'));
      expect(spec.datasets.map((d) => d.label)).toEqual(cols);
      for (const c of cols) expect(series(spec, c)).toEqual(rows.map((r) => num(r[c])));
    }
  });

  it('charts throughput, queue depth, batch and busy share per deployment per interval as timeseries.csv has them', () => {
    const rows = readCsv(join(run, 'timeseries.csv'));
    const s = specs(run);
    for (const dep of new Set(rows.map((r) => r.deployment))) {
      const mine = rows.filter((r) => r.deployment === dep);
      const ys = (id: string) => (series(s.get(id)!, dep) as Point[]).map((p) => p.y);
      expect(ys('throughput')).toEqual(mine.map((r) => Number(r.output_tokens) / Number(r.interval_s)));
      expect(ys('queue')).toEqual(mine.map((r) => Number(r.queue_depth)));
      expect(ys('batch')).toEqual(mine.map((r) => Number(r.batch_size)));
      expect(ys('busy')).toEqual(mine.map((r) => Number(r.busy_pct)));
      // Minutes for a 5-minute run.
      expect((series(s.get('queue')!, dep) as Point[]).map((p) => p.x)).toEqual(mine.map((r) => Number(r.interval_start_s) / 60));
    }
  });

  it('charts replicas serving and provisioning over time when a deployment autoscales, and leaves the chart out for a fixed fleet', () => {
    expect(specs(run).has('replicas')).toBe(false);
    const auto = join(dir, 'autoscale');
    const r = fleetsim(['run', 'scenarios/diurnal-autoscale.yaml', '--out', auto, '--horizon', '3h', '--html', '-q']);
    expect(r.status).toBe(0);
    const rows = readCsv(join(auto, 'timeseries.csv'));
    const spec = specs(auto).get('replicas')!;
    let moved = false;
    for (const dep of new Set(rows.map((row) => row.deployment))) {
      const mine = rows.filter((row) => row.deployment === dep);
      const ys = (label: string) => (series(spec, label) as Point[]).map((p) => p.y);
      expect(ys(`${dep} serving`)).toEqual(mine.map((row) => Number(row.replicas_serving)));
      expect(ys(`${dep} provisioning`)).toEqual(mine.map((row) => Number(row.replicas_provisioning)));
      moved ||= new Set(mine.map((row) => row.replicas_serving)).size > 1;
    }
    // The scenario's fleet scales down from 12 overnight, so the chart has something to show.
    expect(moved).toBe(true);
  }, 60_000);

  it('charts TTFT, TPOT and E2E p50/p99 over time per deployment as exact percentiles of requests.csv', () => {
    const req = readCsv(join(run, 'requests.csv')).filter((r) => r.ttft_s !== '');
    const starts = [...new Set(readCsv(join(run, 'timeseries.csv')).map((r) => Number(r.interval_start_s)))];
    const s = specs(run);
    const rank = (xs: number[], q: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.ceil(q * xs.length) - 1] : null);
    const value = { ttft: (r: Row) => Number(r.ttft_s), e2e: (r: Row) => Number(r.e2e_s), tpot: (r: Row) => (Number(r.e2e_s) - Number(r.ttft_s)) / (Number(r.output_tokens) - 1) };
    let compared = 0;
    for (const m of ['ttft', 'tpot', 'e2e'] as const) {
      const spec = s.get(`latency-${m}-time`)!;
      for (const dep of new Set(req.map((r) => r.deployment))) {
        for (const q of [50, 99]) {
          const got = (series(spec, `${dep} p${q}`) as Point[]).map((p) => p.y);
          const want = starts.map((t0, b) => {
            const inBin = req.filter((r) => r.deployment === dep && Number(r.arrival_s) >= t0 && (b + 1 === starts.length || Number(r.arrival_s) < starts[b + 1]));
            return rank((m === 'tpot' ? inBin.filter((r) => Number(r.output_tokens) > 1) : inBin).map(value[m]), q / 100);
          });
          expect(got, `${m} ${dep} p${q}`).toEqual(want);
          compared += want.filter((w) => w !== null).length;
        }
      }
    }
    expect(compared).toBeGreaterThan(20);
  });

  it('charts fates over time that add up to summary.csv\'s fates, with the outage\'s failover visible', () => {
    const total = readCsv(join(run, 'summary.csv')).find((r) => r.scope === 'total')!;
    const spec = specs(run).get('fates')!;
    const sum = (label: string) => (series(spec, label) as Point[]).reduce((a, p) => a + (p.y ?? 0), 0);
    for (const d of spec.datasets) expect(sum(d.label), d.label).toBe(Number(total[`requests_${d.label}`]));
    expect(sum('failed_over')).toBeGreaterThan(0);
    // Requests per interval, by arrival, from requests.csv directly.
    const req = readCsv(join(run, 'requests.csv'));
    const firstMinute = req.filter((r) => Number(r.arrival_s) < 60 && r.fate === 'completed').length;
    expect((series(spec, 'completed') as Point[])[0].y).toBe(firstMinute);
  });

  it('charts money by tenant, model and silicon equal to summary.csv\'s scopes, and by vendor and period to pnl.csv\'s sums', () => {
    const summary = readCsv(join(run, 'summary.csv'));
    const pnl = readCsv(join(run, 'pnl.csv'));
    const s = specs(run);
    const money = { revenue: ['revenue_usd', 'revenue_usd'], 'vendor payout': ['vendor_payout_usd', 'vendor_payout_usd'], 'compute cost': ['cost_usd', 'cost_usd'], 'gross margin': [null, 'gross_margin_usd'] } as const;
    for (const scope of ['tenant', 'model', 'silicon']) {
      const spec = s.get(`money-${scope}`)!;
      const rows = summary.filter((r) => r.scope === scope);
      expect([...spec.labels!].sort()).toEqual(rows.map((r) => r.key).sort());
      for (const [label, [summaryCol]] of Object.entries(money)) {
        if (!summaryCol) continue;
        const byKey = new Map(rows.map((r) => [r.key, Number(r[summaryCol])]));
        expect(series(spec, label), `${scope} ${label}`).toEqual(spec.labels!.map((k) => byKey.get(k)));
      }
    }
    for (const [group, id] of [['vendor', 'money-vendor'], ['period', 'pnl-period'], ['tenant', 'money-tenant']] as const) {
      const spec = s.get(id)!;
      for (const [label, [, pnlCol]] of Object.entries(money)) {
        const cents = spec.labels!.map((k) => pnl.filter((r) => r[group] === k).reduce((a, r) => a + Math.round(Number(r[pnlCol]) * 100), 0));
        expect(series(spec, label), `${group} ${label}`).toEqual(cents.map((c) => c / 100));
      }
    }
  });

  it('charts each sweep metric against the swept value with summary_ci.csv\'s 95% band', () => {
    const rows = readCsv(join(sweep, 'sweep.csv')).filter((r) => r.scope === 'total');
    const ci = readCsv(join(sweep, 'summary_ci.csv')).filter((r) => r.scope === 'total');
    const s = specs(sweep);
    const path = 'workloads[0].arrival.rate';
    for (const m of names(SUMMARY_COLUMNS).filter((c) => c !== 'scope' && c !== 'key')) {
      const spec = s.get(`sweep-${m}`)!;
      expect(spec.labels).toEqual(rows.map((r) => r[path]));
      expect(spec.datasets[0].data).toEqual(rows.map((r) => num(r[m])));
      const band = spec.datasets[0].band;
      const mine = ci.filter((r) => r.metric === m && r.ci95_half_width !== '');
      if (mine.length === 0) continue;
      expect(band, m).toBeDefined();
      for (const [i, r] of rows.entries()) {
        const c = mine.find((x) => x.point === r.point);
        if (!c) continue;
        expect(band!.lo[i]).toBe(Number(c.estimate) - Number(c.ci95_half_width));
        expect(band!.hi[i]).toBe(Number(c.estimate) + Number(c.ci95_half_width));
      }
    }
    expect([...s.values()].some((x) => x.datasets[0].band)).toBe(true);
  });

  it('charts cost against the SLO for every candidate fleet of plan.csv', () => {
    const rows = readCsv(join(plan, 'plan.csv'));
    const s = specs(plan);
    for (const model of new Set(rows.map((r) => r.model))) {
      const spec = s.get(`plan-${model}-ttft`)!;
      const mine = rows.filter((r) => r.model === model && r.usd_per_hour !== '' && r.worst_ttft_p99_s !== '');
      const points = [...(series(spec, 'feasible') as Point[]), ...(series(spec, 'infeasible') as Point[])];
      expect(points.length).toBe(mine.length);
      for (const r of mine) {
        expect(points).toContainEqual({ x: Number(r.worst_ttft_p99_s), y: Number(r.usd_per_hour), label: r.fleet });
      }
      expect((series(spec, 'feasible') as Point[]).length).toBe(mine.filter((r) => r.feasible === 'yes').length);
    }
  });

  it('refuses a directory without reports, naming it, with exit 2', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = fleetsim(['report', empty]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^fleetsim: error: ${empty}: holds no fleetsim reports`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fleetsim(['report', join(dir, 'missing')]).status).toBe(2);
  });

  it('refuses reports of an older column set, naming the file, with exit 2', () => {
    const old = join(dir, 'old');
    mkdirSync(old);
    const summary = readFileSync(join(run, 'summary.csv'), 'utf8');
    // An older version lacked the newest column: drop the last column of every line.
    const newest = names(SUMMARY_COLUMNS).at(-1)!;
    writeFileSync(join(old, 'summary.csv'), summary.split('\n').map((l) => l.split(',').slice(0, -1).join(',')).join('\n'));
    const r = fleetsim(['report', old]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${join(old, 'summary.csv')}:1: columns are not this fleetsim version's (missing ${newest})`);
    expect(existsSync(join(old, 'report.html'))).toBe(false);
  });

  it('refuses --html with --shard (a shard has no report to show)', () => {
    const r = fleetsim(['sweep', join(dir, 'small.yaml'), '--out', join(dir, 'shard'), '--shard', '1/2', '--html']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--html');
  });
});
