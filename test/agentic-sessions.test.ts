/**
 * Agentic sessions (session `tool_time`, `tool_output_tokens`): after each completed turn but the
 * last, the conversation waits on a tool call, its output joins the context, and the next turn is
 * sent tool time + think time after the turn ended; the prefix cache still finds the history;
 * sessions without tools draw exactly as before; reruns are byte-identical; bad keys are exit 2.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import type { RequestTable } from '../src/engine/requests.js';
import { FATE_COMPLETED } from '../src/metrics/recorder.js';
import { Capture, type EndedRequest } from './helpers/capture.js';
import { fleetsim } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-agentic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

let files = 0;
function write(text: string): string {
  const path = join(dir, `a${files++}.yaml`);
  writeFileSync(path, text);
  return path;
}
function run(text: string) {
  const log = new TurnLog();
  const result = simulate(loadScenario(write(text)), { requestLog: log });
  log.turns.sort((a, b) => a.seq - b.seq);
  const bySession = new Map<number, Turn[]>();
  for (const t of log.turns) bySession.set(t.segment, [...(bySession.get(t.segment) ?? []), t]);
  return { result, turns: log.turns, bySession };
}

const agent = (session: string) => `
name: agentic
horizon: 10m
seed: 9
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1 }
workloads:
  - name: agent
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 0.3/s }
    prefix: { tokens: 2000 }
    prompt_tokens: { dist: constant, value: 50 }
    output_tokens: { dist: lognormal, median: 120, p99: 600 }
    session: ${session}
`;

describe('tool calls between turns', () => {
  it("turn k arrives the tool time plus the think time after turn k-1 ended, and its prompt is every earlier turn's prompt, answer and tool output plus its own new tokens", () => {
    const { bySession, turns } = run(agent('{ turns: { dist: constant, value: 5 }, think_time: { dist: constant, value: 1s }, tool_time: { dist: constant, value: 2500ms }, tool_output_tokens: { dist: constant, value: 300 } }'));
    expect(turns.every((t) => t.fate === FATE_COMPLETED)).toBe(true);
    let later = 0;
    for (const session of bySession.values()) {
      expect(session[0].promptTokens).toBe(2000 + 50);
      for (let k = 1; k < session.length; k++) {
        const prev = session[k - 1];
        const t = session[k];
        expect(t.arrivalS).toBeCloseTo(prev.endS + 2.5 + 1, 9);
        expect([t.seq, t.promptTokens]).toEqual([t.seq, prev.promptTokens + prev.outputTokens + 300 + 50]);
        // One replica with room: the cache holds the earlier turns (not the tool's output, which is new).
        expect([t.seq, t.cachedTokens]).toEqual([t.seq, Math.floor((prev.promptTokens + prev.outputTokens) / 16) * 16]);
        later++;
      }
    }
    expect(later).toBeGreaterThan(300);
  });

  it('tool times and outputs drawn from distributions stay in their ranges; without tools the conversations start as before', () => {
    const plain = run(agent('{ turns: { dist: constant, value: 4 }, think_time: { dist: exponential, mean: 2s } }'));
    const tools = run(agent('{ turns: { dist: constant, value: 4 }, think_time: { dist: exponential, mean: 2s }, tool_time: { dist: uniform, min: 1s, max: 4s }, tool_output_tokens: { dist: uniform, min: 10, max: 500 } }'));
    let later = 0;
    for (const session of tools.bySession.values()) {
      for (let k = 1; k < session.length; k++) {
        const prev = session[k - 1];
        const added = session[k].promptTokens - (prev.promptTokens + prev.outputTokens + 50);
        expect(added).toBeGreaterThanOrEqual(10);
        expect(added).toBeLessThanOrEqual(500);
        // Tool time ≥ 1 s before the think time (exponential, ≥ 0).
        expect(session[k].arrivalS - prev.endS).toBeGreaterThanOrEqual(1 - 1e-9);
        later++;
      }
    }
    expect(later).toBeGreaterThan(200);
    // The conversation starts are the same draws with and without tools (the tools' streams are their
    // own; token draws are shared by turns in arrival order, which the tools' pauses reorder).
    const firsts = (r: typeof plain) => [...r.bySession.values()].map((s) => [s[0].arrivalS, s[0].promptTokens]);
    expect(firsts(tools).slice(0, 50)).toEqual(firsts(plain).slice(0, 50));
  });
});

describe('from the CLI', () => {
  it('an agentic scenario reruns byte-identically; bad tool keys are exit 2 at the key', () => {
    const text = agent('{ turns: { dist: lognormal, median: 4, p99: 12 }, tool_time: { dist: lognormal, median: 2s, p99: 10s }, tool_output_tokens: { dist: lognormal, median: 400, p99: 3000 } }');
    const path = write(text);
    const outs = [join(dir, 'o1'), join(dir, 'o2')];
    for (const out of outs) expect(fleetsim(['run', path, '--out', out, '--requests']).status).toBe(0);
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv']) {
      expect(readFileSync(join(outs[1], f), 'utf8'), f).toBe(readFileSync(join(outs[0], f), 'utf8'));
    }
    const bad = (from: string, to: string, pattern: RegExp) => {
      const r = fleetsim(['validate', write(text.replace(from, to))]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    };
    bad('median: 2s, p99: 10s', 'median: 2s, p99: 1s', /workloads\[0\]\.session\.tool_time\.p99/);
    bad('median: 400, p99: 3000', 'median: 400, p99: 30', /workloads\[0\]\.session\.tool_output_tokens\.p99/);
    bad('tool_time: {', 'tool_tim: {', /workloads\[0\]\.session/);
  });
});
