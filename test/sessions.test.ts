/**
 * Multi-turn sessions (workload `session:`, src/workload/sessions.ts): turn k's prompt is the
 * history plus the new tokens, turns follow completions by the think time, the cache finds the
 * history on the replica that holds it, the step-by-step and collapsed engines agree, reruns are
 * byte-identical, and bad session keys are exit 2 at the key.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import type { Fleet } from '../src/serving/fleet.js';
import type { RequestTable } from '../src/engine/requests.js';
import { FATE_COMPLETED } from '../src/metrics/recorder.js';
import { Capture, simulateLogged, type EndedRequest } from './helpers/capture.js';
import { checkInvariants } from './helpers/prefix-invariants.js';
import { guardEvictions, randomPlatform } from './helpers/random-platform.js';
import { fleetsim } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-sessions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Turn extends EndedRequest {
  segment: number;
}

/** The request log with each request's conversation segment (unique per conversation over the run). */
class TurnLog extends Capture {
  turns: Turn[] = [];
  onRecord: (() => void) | null = null;
  override record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number): void {
    super.record(rq, q, deployment, fate, endS);
    this.turns.push({ ...this.rows[this.rows.length - 1], segment: rq.sessionChain[q] });
    this.onRecord?.();
  }
}

let files = 0;
function run(text: string, inspect?: (f: Fleet) => void) {
  const path = join(dir, `s${files++}.yaml`);
  writeFileSync(path, text);
  const log = new TurnLog();
  const { result, fleet } = simulateLogged(path, log, inspect);
  log.turns.sort((a, b) => a.seq - b.seq);
  const bySession = new Map<number, Turn[]>();
  for (const t of log.turns) {
    if (!bySession.has(t.segment)) bySession.set(t.segment, []);
    bySession.get(t.segment)!.push(t);
  }
  return { result, turns: log.turns, bySession, fleet, log };
}

const chat = (extra: string, deployment = '{ name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }') => `
name: sessions
horizon: 10m
seed: 7
deployments:
  - ${deployment}
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 0.5/s }
    prefix: { tokens: 1000, groups: 3 }
    prompt_tokens: { dist: constant, value: 100 }
    output_tokens: { dist: lognormal, median: 150, p99: 800 }
${extra}
`;

describe('turns', () => {
  it("turn k's prompt is the prefix, every earlier turn's new tokens and outputs, and its own new tokens; it is sent the think time after turn k-1 ended", () => {
    const { turns, bySession, result, fleet } = run(chat('    session: { turns: { dist: constant, value: 5 }, think_time: { dist: constant, value: 4s } }'));
    expect(turns.length).toBeGreaterThan(800);
    expect(turns.every((t) => t.fate === FATE_COMPLETED)).toBe(true);
    let whole = 0;
    for (const session of bySession.values()) {
      expect(session.length).toBeLessThanOrEqual(5);
      let expected = 1000 + 100;
      for (let k = 0; k < session.length; k++) {
        const t = session[k];
        expect([t.seq, t.promptTokens]).toEqual([t.seq, expected]);
        if (k > 0) expect(t.arrivalS).toBeCloseTo(session[k - 1].endS + 4, 9);
        expected = t.promptTokens + t.outputTokens + 100;
      }
      // A conversation is cut short only by the horizon.
      if (session.length < 5) expect(session[session.length - 1].endS + 4).toBeGreaterThan(600 - 1e-9);
      else whole++;
    }
    expect(whole).toBeGreaterThan(200);
    // The cache finds the whole history: one replica, room to spare, nothing evicted.
    expect(fleet.cache!.evictions[0]).toBe(0);
    for (const session of bySession.values()) {
      for (let k = 1; k < session.length; k++) {
        const prev = session[k - 1];
        const history = Math.floor((prev.promptTokens + prev.outputTokens) / 16) * 16;
        expect([session[k].seq, session[k].cachedTokens]).toEqual([session[k].seq, history]);
      }
    }
    const prompt = turns.reduce((n, t) => n + t.promptTokens, 0);
    const cached = turns.reduce((n, t) => n + t.cachedTokens, 0);
    expect(fleet.promptTokensComputed[0] + cached).toBe(prompt);
    expect(cached / prompt).toBeGreaterThan(0.85);
    expect(result.arrivals).toBe(turns.length);
  });

  it('turns drawn from a distribution; a turn that does not complete (here: timed out) ends its conversation', () => {
    // A KV cache of 11,808 tokens holds one or two long conversations: the queue grows and turns time out.
    const { bySession } = run(
      chat(
        '    session: { turns: { dist: uniform, min: 1, max: 12 }, think_time: { dist: exponential, mean: 2s } }\n    timeout: 20s',
        '{ name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, kv_fraction: 0.205 }',
      ).replace('median: 150, p99: 800', 'median: 1200, p99: 3000'),
    );
    const lengths = [...bySession.values()].map((s) => s.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(12);
    expect(new Set(lengths).size).toBeGreaterThan(3);
    let rejectedEnds = 0;
    for (const session of bySession.values()) {
      session.forEach((t, k) => {
        if (t.fate !== FATE_COMPLETED) {
          expect(k).toBe(session.length - 1);
          rejectedEnds++;
        }
      });
    }
    expect(rejectedEnds).toBeGreaterThan(0);
  });

  it('prefix-aware routing keeps a conversation where its history is cached; least-outstanding spreads it', () => {
    const text = (policy: string) =>
      chat(
        `    session: { turns: { dist: constant, value: 6 }, think_time: { dist: constant, value: 1s } }\nrouting: { policy: ${policy} }`,
        '{ name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 4 }',
      ).replace('rate: 0.5/s', 'rate: 3/s');
    const hit = (policy: string) => {
      const { turns } = run(text(policy));
      return turns.reduce((n, t) => n + t.cachedTokens, 0) / turns.reduce((n, t) => n + t.promptTokens, 0);
    };
    const aware = hit('prefix-aware');
    const spread = hit('least-outstanding');
    expect(aware).toBeGreaterThan(0.85);
    expect(aware).toBeGreaterThan(spread + 0.1);
  });
});


const CASES = Array.from({ length: 12 }, (_, i) => i + 1);

describe('engines and bookkeeping', () => {
  let preempting = 0;
  it.each(CASES)('random scenario %i: step-by-step and collapsed identical; no referenced block evicted; references match the batches', (caseSeed) => {
    const restore = guardEvictions();
    let fleet: Fleet | null = null;
    try {
      const c = run(randomPlatform(caseSeed, 'collapsed', true), (f) => (fleet = f));
      c.log.onRecord = null;
      checkInvariants(fleet!);
      const s = run(randomPlatform(caseSeed, 'step', true));
      if (c.result.recorder.preemptions.some((p) => p > 0)) preempting++;
      expect(c.turns.length).toBe(s.turns.length);
      expect(c.turns.length).toBeGreaterThan(100);
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
      for (let i = 0; i < c.turns.length; i++) {
        const a = c.turns[i];
        const b = s.turns[i];
        const same =
          a.seq === b.seq && a.fate === b.fate && a.deployment === b.deployment && a.promptTokens === b.promptTokens &&
          a.cachedTokens === b.cachedTokens && a.segment === b.segment && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
        if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
      }
      expect(Array.from(c.result.recorder.cachedInputTokens)).toEqual(Array.from(s.result.recorder.cachedInputTokens));
      expect(c.fleet.cache!.evictions).toEqual(s.fleet.cache!.evictions);
      // Conversations really continue: some turn after the first, and some hit their history.
      const later = c.turns.filter((t, i) => c.turns.findIndex((u) => u.segment === t.segment) !== i);
      expect(later.length).toBeGreaterThan(10);
    } finally {
      restore();
    }
  });

  it('the random cases preempt', () => {
    expect(preempting).toBeGreaterThan(0);
  });

  it('invariants hold at every request end of a session run under pressure', () => {
    let fleet: Fleet | null = null;
    const path = join(dir, 'inv.yaml');
    writeFileSync(path, randomPlatform(3, 'collapsed', true));
    const log = new TurnLog();
    let checks = 0;
    log.onRecord = () => {
      if (fleet !== null) {
        checkInvariants(fleet);
        checks++;
      }
    };
    simulate(loadScenario(path), { requestLog: log, inspect: (f) => (fleet = f) });
    expect(checks).toBeGreaterThan(100);
  });
});

describe('from the CLI', () => {
  it('a session scenario reruns byte-identically; bad session keys are exit 2 at the key', () => {
    const text = chat('    session: { turns: { dist: lognormal, median: 4, p99: 20 }, think_time: { dist: lognormal, median: 3s, p99: 30s } }')
      .replace('replicas: 1', 'replicas: 2')
      .replace('rate: 0.5/s', 'rate: 2/s');
    const path = join(dir, 'rerun.yaml');
    writeFileSync(path, text);
    const outs = [join(dir, 'out1'), join(dir, 'out2')];
    for (const out of outs) expect(fleetsim(['run', path, '--out', out, '--requests']).status).toBe(0);
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv']) {
      expect(readFileSync(join(outs[1], f), 'utf8'), f).toBe(readFileSync(join(outs[0], f), 'utf8'));
    }
    const summary = readFileSync(join(outs[0], 'summary.csv'), 'utf8').split('\n');
    const hit = Number(summary[1].split(',')[summary[0].split(',').indexOf('prefix_hit_pct')]);
    expect(hit).toBeGreaterThan(60);
    const bad = (from: string, to: string, pattern: RegExp) => {
      const p = join(dir, `bad${files++}.yaml`);
      writeFileSync(p, text.replace(from, to));
      const r = fleetsim(['validate', p]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };
    bad('median: 3s, p99: 30s', 'median: 3s, p99: 1s', /workloads\[0\]\.session\.think_time\.p99/);
    bad('{ process: poisson, rate: 2/s }', '{ process: closed, concurrency: 4, requests: 10 }', /workloads\[0\]\.session.*open-loop/);
    bad('median: 4, p99: 20', 'median: 4, p99: 20, mean: 3', /workloads\[0\]\.session\.turns/);
    bad('think_time: {', 'think: {', /workloads\[0\]\.session/);
  });
});
