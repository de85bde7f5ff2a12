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
import { PrefixCache } from '../src/serving/prefix-cache.js';
import type { RequestTable } from '../src/engine/requests.js';
import { FATE_COMPLETED } from '../src/metrics/recorder.js';
import { Capture, type EndedRequest } from './helpers/capture.js';
import { checkInvariants } from './helpers/prefix-invariants.js';
import { fleetsim } from './helpers/cli.js';
import { mulberry32 } from './helpers/random.js';

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
  let fleet: Fleet | null = null;
  const result = simulate(loadScenario(path), {
    requestLog: log,
    inspect: (f) => {
      fleet = f;
      inspect?.(f);
    },
  });
  log.turns.sort((a, b) => a.seq - b.seq);
  const bySession = new Map<number, Turn[]>();
  for (const t of log.turns) {
    if (!bySession.has(t.segment)) bySession.set(t.segment, []);
    bySession.get(t.segment)!.push(t);
  }
  return { result, turns: log.turns, bySession, fleet: fleet!, log };
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

/** Random platforms with sessions, shared prefixes, small KV caches (preemption), every scheduler, an outage. */
function randomText(caseSeed: number, engine: 'collapsed' | 'step'): string {
  const rnd = mulberry32(caseSeed * 7919 + 3);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const scheduler = pick(['continuous', 'chunked', 'static', 'disaggregated']);
  const replicas = scheduler === 'disaggregated' ? int(2, 4) : int(1, 3);
  return `
name: sess-${caseSeed}
horizon: 120s
seed: ${caseSeed}
report_interval: 30s
engine: ${engine}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${replicas}, scheduler: ${scheduler}, kv_fraction: ${(0.2 + rnd() * 0.04).toFixed(3)}, max_batch: ${int(4, 32)}, block_tokens: ${pick([8, 16, 32])} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${int(1, 2)}, kv_fraction: ${(0.21 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 48)}, max_queue: ${int(20, 200)} }
workloads:
  - name: chat
    tenant: t1
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(0.5 + rnd() * 2).toFixed(2)}/s }
    prefix: { tokens: ${int(100, 3000)}, groups: ${int(1, 6)}, share: ${(0.5 + rnd() * 0.5).toFixed(2)} }
    session: { turns: { dist: uniform, min: 1, max: ${int(2, 10)} }, think_time: { dist: ${pick(['exponential, mean: 3s', 'constant, value: 0s', 'lognormal, median: 2s, p99: 20s'])} } }
    prompt_tokens: { dist: lognormal, median: ${int(50, 400)}, p99: 3000 }
    output_tokens: { dist: lognormal, median: ${int(20, 200)}, p99: 800 }
    timeout: ${int(5, 60)}s
  - name: oneshot
    tenant: t2
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(1 + rnd() * 3).toFixed(2)}/s }
    prefix: { tokens: ${int(500, 4000)}, groups: ${int(1, 4)} }
    prompt_tokens: { dist: uniform, min: 1, max: ${int(50, 2000)} }
    output_tokens: { dist: uniform, min: 1, max: ${int(2, 400)} }
routing: { policy: ${pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two'])}, failover: on-outage }
incidents:
  - { at: ${int(20, 80)}s, duration: ${int(5, 30)}s, deployment: ${pick(['a', 'b'])}, kind: outage }
`;
}

const CASES = Array.from({ length: 12 }, (_, i) => i + 1);

describe('engines and bookkeeping', () => {
  let preempting = 0;
  it.each(CASES)('random scenario %i: step-by-step and collapsed identical; no referenced block evicted; references match the batches', (caseSeed) => {
    const original = PrefixCache.prototype.evict;
    let fleet: Fleet | null = null;
    PrefixCache.prototype.evict = function (this: PrefixCache, r: number, blocks: number) {
      if (blocks > this.evictable[r]) throw new Error(`evicting ${blocks} blocks of ${this.evictable[r]} evictable`);
      for (let e = this.lruHead[r], left = blocks; left > 0; left -= this.count[e], e = this.next[e]) {
        if (this.ref[e] !== 0) throw new Error(`evicting a block with ${this.ref[e]} references`);
      }
      original.call(this, r, blocks);
    };
    try {
      const c = run(randomText(caseSeed, 'collapsed'), (f) => (fleet = f));
      c.log.onRecord = null;
      checkInvariants(fleet!);
      const s = run(randomText(caseSeed, 'step'));
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
      PrefixCache.prototype.evict = original;
    }
  });

  it('the random cases preempt', () => {
    expect(preempting).toBeGreaterThan(0);
  });

  it('invariants hold at every request end of a session run under pressure', () => {
    let fleet: Fleet | null = null;
    const path = join(dir, 'inv.yaml');
    writeFileSync(path, randomText(3, 'collapsed'));
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
