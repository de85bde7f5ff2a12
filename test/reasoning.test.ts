/**
 * Reasoning workloads (workload `reasoning_tokens`): hidden thinking tokens are decoded before the
 * answer and billed as output, counted apart in summary, pnl and requests; a draw is cut to the
 * budget; TTFT is to the first visible token and TPOT over the visible tokens; a session's next
 * turn resends the visible answer only; the step-by-step and collapsed engines agree; reruns are
 * byte-identical; runs without reasoning keep their columns.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import type { RequestTable } from '../src/engine/requests.js';
import { FATE_COMPLETED } from '../src/metrics/recorder.js';
import { names, SUMMARY_COLUMNS, PNL_COLUMNS } from '../src/report/columns.js';
import { Capture, type EndedRequest } from './helpers/capture.js';
import { fleetsim } from './helpers/cli.js';
import { mulberry32 } from './helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-reasoning-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function write(text: string): string {
  const path = join(dir, `r${files++}.yaml`);
  writeFileSync(path, text);
  return path;
}

interface Turn extends EndedRequest {
  segment: number;
}
class TurnLog extends Capture {
  turns: Turn[] = [];
  override record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number): void {
    super.record(rq, q, deployment, fate, endS);
    this.turns.push({ ...this.rows[this.rows.length - 1], segment: rq.sessionChain[q] });
  }
}

function run(text: string) {
  const log = new TurnLog();
  const result = simulate(loadScenario(write(text)), { requestLog: log });
  log.turns.sort((a, b) => a.seq - b.seq);
  return { result, turns: log.turns };
}

const platform = (workload: string, extra = '') => `
name: reasoning
horizon: 5m
seed: 11
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
workloads:
  - name: think
    tenant: t1
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 1/s }
    prompt_tokens: { dist: lognormal, median: 600, p99: 3000 }
    output_tokens: { dist: lognormal, median: 150, p99: 800 }
${workload}
pricing:
  - { model: llama-3.1-8b, input_usd_per_mtok: 0.5, output_usd_per_mtok: 2, vendor_share: 0 }
${extra}`;

const csv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];

describe('billing and counting', () => {
  it('reasoning tokens are billed as output, counted apart in summary, pnl and requests, and cut to the budget', () => {
    const path = write(platform('    reasoning_tokens: { dist: lognormal, median: 1200, p99: 6000, budget: 3000 }'));
    const out = join(dir, 'billed');
    const r = fleetsim(['run', path, '--out', out, '--requests']);
    expect(r.status, r.stderr).toBe(0);
    const requests = csv(join(out, 'requests.csv'));
    const served = requests.filter((x) => x.fate === 'completed' || x.fate === 'failed_over');
    expect(served.length).toBeGreaterThan(250);
    const reasoning = served.map((x) => Number(x.reasoning_tokens));
    // The budget caps every draw, and a lognormal with p99 6,000 reaches it often.
    expect(Math.max(...reasoning)).toBe(3000);
    expect(reasoning.filter((x) => x === 3000).length).toBeGreaterThan(10);
    expect(Math.min(...reasoning)).toBeGreaterThan(0);
    // Every request still has a visible answer of at least one token.
    for (const x of served) expect(Number(x.output_tokens) - Number(x.reasoning_tokens)).toBeGreaterThanOrEqual(1);
    const sum = (rows: Record<string, string>[], k: string) => rows.reduce((n, x) => n + Number(x[k]), 0);
    const total = csv(join(out, 'summary.csv'))[0];
    expect(total.scope).toBe('total');
    expect(Number(total.output_tokens)).toBe(sum(served, 'output_tokens'));
    expect(Number(total.reasoning_tokens)).toBe(sum(served, 'reasoning_tokens'));
    expect(Number(total.reasoning_tokens)).toBeGreaterThan(0.5 * Number(total.output_tokens));
    // Finance's identity: billed output = visible + reasoning, at the output price.
    const input = Number(total.input_tokens);
    const output = Number(total.output_tokens);
    expect(Number(total.revenue_usd)).toBeCloseTo((input * 0.5 + output * 2) / 1e6, 2);
    const visible = output - Number(total.reasoning_tokens);
    expect(Number(total.cost_usd_per_mtok_visible_output)).toBeCloseTo(Number(total.cost_usd) / (visible / 1e6), 1);
    const pnl = csv(join(out, 'pnl.csv'));
    expect(sum(pnl, 'reasoning_tokens')).toBe(Number(total.reasoning_tokens));
    expect(sum(pnl, 'output_tokens')).toBe(output);
  });

  it('tokens are conserved: each request generates its visible answer (the same draws as without reasoning) plus its reasoning', () => {
    const plain = run(platform(''));
    const thinking = run(platform('    reasoning_tokens: { dist: uniform, min: 100, max: 2000, budget: 1500 }'));
    expect(thinking.turns.length).toBe(plain.turns.length);
    for (let i = 0; i < plain.turns.length; i++) {
      const a = plain.turns[i];
      const b = thinking.turns[i];
      expect(a.reasoningTokens).toBe(0);
      expect(b.reasoningTokens).toBeLessThanOrEqual(1500);
      expect(b.reasoningTokens).toBeGreaterThanOrEqual(100);
      expect([b.seq, b.promptTokens, b.outputTokens - b.reasoningTokens]).toEqual([a.seq, a.promptTokens, a.outputTokens]);
    }
    const rec = thinking.result.recorder;
    const out = thinking.turns.filter((t) => t.fate === FATE_COMPLETED);
    expect(rec.outputTokens.reduce((n, x) => n + x, 0)).toBe(out.reduce((n, t) => n + t.outputTokens, 0));
    expect(rec.reasoningTokens.reduce((n, x) => n + x, 0)).toBe(out.reduce((n, t) => n + t.reasoningTokens, 0));
  });
});

describe('latency', () => {
  const lone = (workload: string) => `
name: lone
horizon: 1m
seed: 3
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - name: one
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 1/s, requests: 1 }
    prompt_tokens: { dist: constant, value: 500 }
${workload}
`;
  it('TTFT is to the first visible token: a lone request reasoning R tokens shows its answer when one generating R + 1 tokens ends', () => {
    const reasoning = run(lone('    output_tokens: { dist: constant, value: 40 }\n    reasoning_tokens: { dist: constant, value: 300 }')).turns[0];
    const first = run(lone('    output_tokens: { dist: constant, value: 301 }')).turns[0];
    const whole = run(lone('    output_tokens: { dist: constant, value: 340 }')).turns[0];
    expect(reasoning.reasoningTokens).toBe(300);
    expect(reasoning.outputTokens).toBe(340);
    // The engine's first token (the prefill's) is the same in all three; the user sees token 301.
    expect(reasoning.firstTokenS).toBeCloseTo(first.firstTokenS, 12);
    expect(Math.abs(reasoning.visibleS - first.endS)).toBeLessThan(1e-9 * first.endS);
    expect(Math.abs(reasoning.endS - whole.endS)).toBeLessThan(1e-9 * whole.endS);
    expect(reasoning.visibleS - reasoning.firstTokenS).toBeGreaterThan(100 * (whole.endS - whole.firstTokenS) / 339 );
  });

  it('summary TTFT includes the thinking and TPOT covers the visible tokens after the first', () => {
    const { result, turns } = run(lone('    output_tokens: { dist: constant, value: 40 }\n    reasoning_tokens: { dist: constant, value: 300 }'));
    const t = turns[0];
    const ttft = result.recorder.ttft[0];
    const tpot = result.recorder.tpot[0];
    expect(ttft.mean()).toBeCloseTo(t.visibleS - t.arrivalS, 9);
    expect(tpot.mean()).toBeCloseTo((t.endS - t.visibleS) / 39, 9);
    expect(result.recorder.decodeTokens[0]).toBe(39);
  });
});

describe('sessions', () => {
  it("a turn's reasoning is not carried into the next turn's prompt, and only its prompt's blocks stay cached for it", () => {
    const { turns } = run(`
name: reasoning-chat
horizon: 10m
seed: 5
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 0.3/s }
    prefix: { tokens: 1000 }
    prompt_tokens: { dist: constant, value: 100 }
    output_tokens: { dist: lognormal, median: 150, p99: 800 }
    reasoning_tokens: { dist: uniform, min: 50, max: 900 }
    session: { turns: { dist: constant, value: 4 }, think_time: { dist: constant, value: 3s } }
`);
    const bySession = new Map<number, Turn[]>();
    for (const t of turns) bySession.set(t.segment, [...(bySession.get(t.segment) ?? []), t]);
    let later = 0;
    for (const session of bySession.values()) {
      for (let k = 1; k < session.length; k++) {
        const prev = session[k - 1];
        const t = session[k];
        expect(t.fate).toBe(FATE_COMPLETED);
        // History: the previous prompt and its visible answer, then 100 new tokens.
        expect([t.seq, t.promptTokens]).toEqual([t.seq, prev.promptTokens + prev.outputTokens - prev.reasoningTokens + 100]);
        // One replica with room: the previous prompt's full blocks are found, not its answer's.
        expect([t.seq, t.cachedTokens]).toEqual([t.seq, Math.floor(prev.promptTokens / 16) * 16]);
        later++;
      }
    }
    expect(later).toBeGreaterThan(100);
  });
});

/** Random platforms with reasoning on every scheduler, sessions, prefixes, small KV caches (preemption) and an outage. */
function randomText(caseSeed: number, engine: 'collapsed' | 'step'): string {
  const rnd = mulberry32(caseSeed * 104729 + 17);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const scheduler = pick(['continuous', 'chunked', 'static', 'disaggregated']);
  const replicas = scheduler === 'disaggregated' ? int(2, 4) : int(1, 3);
  return `
name: reason-${caseSeed}
horizon: 120s
seed: ${caseSeed}
report_interval: 30s
engine: ${engine}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${replicas}, scheduler: ${scheduler}, kv_fraction: ${(0.205 + rnd() * 0.04).toFixed(3)}, max_batch: ${int(4, 32)}, block_tokens: ${pick([8, 16, 32])} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${int(1, 2)}, kv_fraction: ${(0.21 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 48)} }
workloads:
  - name: agent
    tenant: t1
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(0.3 + rnd()).toFixed(2)}/s }
    prefix: { tokens: ${int(100, 2000)}, groups: ${int(1, 4)} }
    session: { turns: { dist: uniform, min: 1, max: ${int(2, 6)} }, think_time: { dist: exponential, mean: 2s }, tool_time: { dist: uniform, min: 0s, max: ${int(1, 5)}s }, tool_output_tokens: { dist: lognormal, median: ${int(20, 300)}, p99: 1500 } }
    prompt_tokens: { dist: lognormal, median: ${int(50, 300)}, p99: 2000 }
    output_tokens: { dist: lognormal, median: ${int(20, 150)}, p99: 600 }
    reasoning_tokens: { dist: lognormal, median: ${int(20, 400)}, p99: 2000, budget: ${int(200, 1500)} }
    timeout: ${int(10, 60)}s
  - name: plain
    tenant: t2
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(1 + rnd() * 2).toFixed(2)}/s }
    prompt_tokens: { dist: uniform, min: 1, max: ${int(50, 2000)} }
    output_tokens: { dist: uniform, min: 1, max: ${int(2, 300)} }
routing: { policy: ${pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two'])}, failover: on-outage }
incidents:
  - { at: ${int(20, 80)}s, duration: ${int(5, 30)}s, deployment: ${pick(['a', 'b'])}, kind: outage }
`;
}

describe('engines', () => {
  let preempting = 0;
  it.each(Array.from({ length: 10 }, (_, i) => i + 1))('random scenario %i (reasoning, agentic sessions): step-by-step and collapsed give the same requests, first visible tokens included', (caseSeed) => {
    const c = run(randomText(caseSeed, 'collapsed'));
    const s = run(randomText(caseSeed, 'step'));
    if (c.result.recorder.preemptions.some((p) => p > 0)) preempting++;
    expect(c.turns.length).toBe(s.turns.length);
    expect(c.turns.length).toBeGreaterThan(100);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    let reasoned = 0;
    for (let i = 0; i < c.turns.length; i++) {
      const a = c.turns[i];
      const b = s.turns[i];
      const same =
        a.seq === b.seq && a.fate === b.fate && a.deployment === b.deployment && a.promptTokens === b.promptTokens &&
        a.outputTokens === b.outputTokens && a.reasoningTokens === b.reasoningTokens && a.cachedTokens === b.cachedTokens &&
        close(a.firstTokenS, b.firstTokenS) && close(a.visibleS, b.visibleS) && close(a.endS, b.endS);
      if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
      if (a.fate <= 1) {
        // Served: the visible token comes after the engine's first token (strictly, when it reasoned) and by the end.
        expect(a.visibleS).toBeGreaterThanOrEqual(a.firstTokenS);
        expect(a.visibleS).toBeLessThanOrEqual(a.endS + 1e-9);
        if (a.reasoningTokens > 0) {
          expect(a.visibleS).toBeGreaterThan(a.firstTokenS);
          reasoned++;
        } else expect(a.visibleS).toBe(a.firstTokenS);
      }
    }
    expect(reasoned).toBeGreaterThan(10);
  });

  it('the random cases preempt', () => {
    expect(preempting).toBeGreaterThan(0);
  });
});

describe('from the CLI', () => {
  it('a reasoning scenario reruns byte-identically; a run without reasoning has no reasoning columns; a bad budget is exit 2 at the key', () => {
    const path = write(platform('    reasoning_tokens: { dist: lognormal, median: 500, p99: 3000, budget: 2000 }'));
    const outs = [join(dir, 'o1'), join(dir, 'o2')];
    for (const out of outs) expect(fleetsim(['run', path, '--out', out, '--requests']).status).toBe(0);
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv']) {
      expect(readFileSync(join(outs[1], f), 'utf8'), f).toBe(readFileSync(join(outs[0], f), 'utf8'));
    }
    // The report view reads the appended columns back.
    expect(fleetsim(['report', outs[0]]).status).toBe(0);
    const off = join(dir, 'off');
    expect(fleetsim(['run', write(platform('')), '--out', off]).status).toBe(0);
    expect(readFileSync(join(off, 'summary.csv'), 'utf8').split('\n')[0]).toBe(names(SUMMARY_COLUMNS).join(','));
    expect(readFileSync(join(off, 'pnl.csv'), 'utf8').split('\n')[0]).toBe(names(PNL_COLUMNS).join(','));
    const bad = write(platform('    reasoning_tokens: { dist: constant, value: 100, budget: 0 }'));
    const r = fleetsim(['validate', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/workloads\[0\]\.reasoning_tokens\.budget/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
