/**
 * Closed-loop arrivals (issue 16 item 1): `concurrency` users each send a request, wait for it to
 * end, think, and send the next. Checked against Little's law for the closed system (users =
 * throughput × (E2E + think)), the request count, the concurrency bound, determinism, the
 * step-by-step engine, requests turned away, and lengths drawn from a trace.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import type { RequestTable } from '../src/engine/requests.js';
import type { RequestLog } from '../src/metrics/recorder.js';
import { InputError } from '../src/errors.js';
import { formatDuration } from '../src/scenario/units.js';
import { fleetsim } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-closed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  seq: number;
  arrivalS: number;
  endS: number;
  fate: number;
  prompt: number;
  output: number;
}

class Log implements RequestLog {
  readonly rows: Row[] = [];
  record(rq: RequestTable, q: number, _d: number, fate: number, endS: number): void {
    this.rows.push({
      seq: rq.seq[q],
      arrivalS: rq.arrivalS[q],
      endS,
      fate,
      prompt: rq.promptTokens[q],
      output: rq.outputTokens[q],
    });
  }
}

function scenario(name: string, body: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `name: ${name}\nseed: 5\n${body}`);
  return path;
}

function run(path: string) {
  const log = new Log();
  const result = simulate(loadScenario(path), { requestLog: log });
  log.rows.sort((a, b) => a.seq - b.seq);
  return { result, rows: log.rows };
}

/** Most requests in flight at once, from arrival and end times (ends before arrivals at a tie). */
function peakInFlight(rows: Row[]): number {
  const events = rows.flatMap((r) => [
    [r.arrivalS, 1],
    [r.endS, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let peak = 0;
  for (const [, d] of events) {
    n += d;
    peak = Math.max(peak, n);
  }
  return peak;
}

const deployment = (extra = '') =>
  `deployments:\n  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, max_batch: 16${extra} }\n`;

describe('closed-loop arrivals', () => {
  it("hold Little's law: users = throughput × (mean E2E + think) within a 95% CI", () => {
    const users = 24;
    const thinkS = 2;
    const { rows } = run(
      scenario(
        'little',
        `horizon: 30m\n${deployment()}workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: ${users}, think_time: ${thinkS}s }
    prompt_tokens: { dist: lognormal, median: 800, p99: 4000 }
    output_tokens: { dist: lognormal, median: 200, p99: 1200 }
`,
      ),
    );
    // Batch means over time windows after a warm-up: in window b, throughput X_b = requests that
    // arrived in it / its length, and R_b their mean E2E; users_b = X_b × (R_b + think).
    const startS = 120;
    const windows = 30;
    const lengthS = (1800 - 60 - startS) / windows;
    const estimates: number[] = [];
    for (let b = 0; b < windows; b++) {
      const lo = startS + b * lengthS;
      const inWindow = rows.filter((r) => r.arrivalS >= lo && r.arrivalS < lo + lengthS);
      const meanE2eS = inWindow.reduce((s, r) => s + (r.endS - r.arrivalS), 0) / inWindow.length;
      estimates.push((inWindow.length / lengthS) * (meanE2eS + thinkS));
    }
    const mean = estimates.reduce((a, x) => a + x, 0) / windows;
    const sd = Math.sqrt(estimates.reduce((a, x) => a + (x - mean) ** 2, 0) / (windows - 1));
    const T_975_29 = 2.045;
    const half = (T_975_29 * sd) / Math.sqrt(windows);
    expect(Math.abs(mean - users)).toBeLessThanOrEqual(half);
    expect(half / users).toBeLessThan(0.05); // the CI is tight enough to mean something
    expect(rows.every((r) => r.fate === 0)).toBe(true);
    expect(peakInFlight(rows)).toBeLessThanOrEqual(users);
  });

  it('send exactly `requests`, never more than `concurrency` at once, and end with the last request', () => {
    const body = (engine: string) =>
      `horizon: 1h\nengine: ${engine}\n${deployment()}workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 20, requests: 300 }
    prompt_tokens: { dist: uniform, min: 100, max: 2000 }
    output_tokens: { dist: uniform, min: 10, max: 400 }
`;
    const a = run(scenario('count', body('collapsed')));
    expect(a.rows.length).toBe(300);
    expect(a.result.arrivals).toBe(300);
    expect(peakInFlight(a.rows)).toBe(20);
    const lastEndS = Math.max(...a.rows.map((r) => r.endS));
    expect(a.result.endS).toBe(lastEndS);
    expect(a.result.endS).toBeLessThan(3600);
    // With zero think time a user's next request arrives the instant its last one ended.
    const ends = new Set(a.rows.map((r) => r.endS));
    expect(a.rows.filter((r) => r.arrivalS > 0).every((r) => ends.has(r.arrivalS))).toBe(true);
    // Deterministic, and the step-by-step engine gives the same requests.
    expect(run(scenario('count2', body('collapsed'))).rows).toEqual(a.rows);
    const step = run(scenario('count-step', body('step')));
    expect(step.rows.length).toBe(300);
    for (let i = 0; i < 300; i++) {
      expect(step.rows[i].arrivalS).toBeCloseTo(a.rows[i].arrivalS, 9);
      expect(step.rows[i].endS).toBeCloseTo(a.rows[i].endS, 9);
    }
  });

  it('keep sending when requests are turned away (queue limit), and stop at the count', () => {
    const { rows, result } = run(
      scenario(
        'reject',
        `horizon: 1h\ndeployments:\n  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, max_batch: 2, max_queue: 1 }
workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 8, requests: 200 }
    prompt_tokens: { dist: constant, value: 500 }
    output_tokens: { dist: constant, value: 100 }
`,
      ),
    );
    expect(rows.length).toBe(200);
    expect(result.arrivals).toBe(200);
    expect(rows.some((r) => r.fate !== 0)).toBe(true);
    expect(rows.some((r) => r.fate === 0)).toBe(true);
  });

  it('draw lengths from a trace and run beside an open-loop workload', () => {
    const lines = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
    for (let i = 0; i < 50; i++) lines.push(`2024-01-01 00:00:${String(i).padStart(2, '0')}.0000000,${100 + 37 * i},${5 + 3 * i}`);
    writeFileSync(join(dir, 'lengths.csv'), lines.join('\n') + '\n');
    const { rows } = run(
      scenario(
        'trace-lengths',
        `horizon: 10m\n${deployment()}workloads:
  - name: closed
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 4, think_time: 500ms }
    prompt_tokens: { dist: empirical, file: lengths.csv }
    output_tokens: { dist: empirical, file: lengths.csv }
  - name: open
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 2/s }
    prompt_tokens: { dist: constant, value: 300 }
    output_tokens: { dist: constant, value: 50 }
`,
      ),
    );
    const closed = rows.filter((r) => r.prompt !== 300);
    expect(closed.length).toBeGreaterThan(100);
    expect(closed.every((r) => (r.prompt - 100) % 37 === 0 && r.prompt <= 100 + 37 * 49 && (r.output - 5) % 3 === 0)).toBe(true);
    expect(peakInFlight(closed)).toBeLessThanOrEqual(4);
    expect(rows.length - closed.length).toBeGreaterThan(1000);
  });

  it('poisson with requests sends exactly that many and the run ends at the last one (a rate benchmark)', () => {
    const { rows, result } = run(
      scenario(
        'poisson-count',
        `horizon: 30d\n${deployment()}workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 5/s, requests: 250 }
    prompt_tokens: { dist: constant, value: 300 }
    output_tokens: { dist: constant, value: 60 }
`,
      ),
    );
    expect(rows.length).toBe(250);
    expect(result.endS).toBe(Math.max(...rows.map((r) => r.endS)));
    expect(result.endS).toBeLessThan(200);
  });

  it("run's summary line gives the span the benchmark covered (run.json billed_run_s), not the horizon", () => {
    const path = scenario(
      'closed-cli',
      `horizon: 1h\n${deployment()}workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 8, requests: 80 }
    prompt_tokens: { dist: constant, value: 300 }
    output_tokens: { dist: constant, value: 60 }
`,
    );
    const out = join(dir, 'closed-cli-out');
    const r = fleetsim(['run', path, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const billedS = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).billed_run_s as number;
    expect(billedS).toBeLessThan(600);
    expect(r.stderr).toMatch(new RegExp(`^closed-cli: 80 requests over ${formatDuration(billedS).replace(/\./g, '\\.')} simulated \\(to the last request; horizon 1h\\) in `, 'm'));
  });

  it('refuse zero think time without a request count (it could spin at one instant)', () => {
    const path = scenario(
      'spin',
      `horizon: 1h\n${deployment()}workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 4 }
    prompt_tokens: { dist: constant, value: 10 }
    output_tokens: { dist: constant, value: 10 }
`,
    );
    expect(() => loadScenario(path)).toThrow(InputError);
    expect(() => loadScenario(path)).toThrow(/think_time 0 need requests/);
  });
});
