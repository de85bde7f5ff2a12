/**
 * Least-outstanding routing answers from a load index (serving/load-index.ts) instead of reading
 * every replica's load per arrival. It must pick exactly the replica the full scan picks: checked on
 * the index alone against brute force, and end to end against the scan on random platforms with
 * queue limits, timeouts, outages, preemption and every scheduler.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LoadIndex } from '../src/serving/load-index.js';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/engine/simulate.js';
import type { RequestTable } from '../src/engine/requests.js';
import { FATE_LOST, FATE_REJECTED, FATE_TIMED_OUT, type RequestLog } from '../src/metrics/recorder.js';
import { mulberry32 } from './helpers/random.js';

describe('LoadIndex', () => {
  it('keeps each group’s smallest load and its first replica exact under random ±1 changes, past its initial 64 levels', () => {
    const rnd = mulberry32(404);
    // Groups of consecutive replicas, as deployments are; replicas 5 and 12 belong to none (decode pools).
    const groupOf = Int32Array.from([0, 0, 0, 1, 1, -1, 2, 2, 2, 2, 2, 2, -1]);
    const index = new LoadIndex(groupOf, 3);
    const brute = new Int32Array(groupOf.length);
    let highest = 0;
    for (let op = 0; op < 200_000; op++) {
      const r = Math.floor(rnd() * groupOf.length);
      // Drift upwards for the first half, so loads pass the initial level table, then come back down.
      const up = rnd() < (op < 100_000 ? 0.6 : 0.4);
      if (up) {
        index.increment(r);
        brute[r]++;
      } else if (brute[r] > 0) {
        index.decrement(r);
        brute[r]--;
      }
      highest = Math.max(highest, brute[r]);
      if (op % 97 !== 0) continue;
      expect(Array.from(index.load)).toEqual(Array.from(brute));
      for (let g = 0; g < 3; g++) {
        const members = [...groupOf.keys()].filter((i) => groupOf[i] === g);
        const min = Math.min(...members.map((i) => brute[i]));
        expect(index.minLoad[g]).toBe(min);
        expect(index.firstAt(members[0], min)).toBe(members.find((i) => brute[i] === min));
      }
    }
    expect(highest).toBeGreaterThan(64);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-route-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two or three deployments per model with small queue limits, so full queues and rejections are common. */
function scenarioText(caseSeed: number): string {
  const rnd = mulberry32(caseSeed * 104729 + 7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const scheduler = () => pick(['continuous', 'continuous', 'chunked', 'static']);
  return `
name: route-${caseSeed}
horizon: 120s
warmup: 5s
seed: ${caseSeed}
report_interval: 20s
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${int(1, 5)}, kv_fraction: ${(0.21 + rnd() * 0.1).toFixed(3)}, max_batch: ${int(2, 24)}, max_queue: ${pick([1, 2, 4, 50])}, scheduler: ${scheduler()} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${int(1, 6)}, max_batch: ${int(2, 32)}, max_queue: ${pick([1, 3, 1000])} }
  - { name: c, model: mistral-7b, silicon: h100-sxm, replicas: ${int(1, 4)}, kv_fraction: 0.3, max_batch: ${int(2, 32)}, max_queue: ${pick([2, 8])}, scheduler: ${scheduler()} }
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${int(2, 5)}, scheduler: disaggregated, max_batch: ${int(4, 24)}, max_queue: ${pick([2, 6, 1000])} }
  - { name: e, model: mistral-7b, silicon: a100-80gb, replicas: ${int(1, 3)}, max_batch: ${int(2, 16)} }
workloads:
  - name: chat
    tenant: t1
    model: llama-3.1-8b
    fallback: [mistral-7b]
    arrival: { process: poisson, rate: ${(5 + rnd() * 25).toFixed(2)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(100, 2000)}, p99: 9000 }
    output_tokens: { dist: lognormal, median: ${int(20, 300)}, p99: 1500 }
    timeout: ${int(2, 30)}s
  - name: batch
    tenant: t2
    model: mistral-7b
    fallback: [llama-3.1-8b]
    arrival: { process: poisson, rate: ${(2 + rnd() * 15).toFixed(2)}/s }
    prompt_tokens: { dist: uniform, min: 10, max: ${int(100, 6000)} }
    output_tokens: { dist: uniform, min: 1, max: ${int(2, 500)} }
routing: { policy: least-outstanding, failover: ${pick(['on-outage', 'on-outage-or-overload', 'never'])} }
incidents:
  - { at: ${int(10, 60)}s, duration: ${int(5, 40)}s, deployment: ${pick(['a', 'b', 'c', 'd', 'e'])}, kind: outage }
`;
}

/**
 * Overload on purpose: long queues on a chunked deployment whose waiting requests time out, and an
 * outage that empties queues, then traffic again. A load the index failed to take back in either
 * place would skew every later choice; the random platforms above rarely queue that deep.
 */
function overloadedText(caseSeed: number): string {
  return `
name: route-overloaded
horizon: 90s
warmup: 0s
seed: ${caseSeed}
report_interval: 30s
deployments:
  - { name: a, model: llama-3.1-8b, silicon: a100-80gb, replicas: 3, max_batch: 4, scheduler: chunked, chunk_tokens: 256 }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: 3, max_batch: 4 }
workloads:
  - name: chat
    tenant: t1
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 40/s }
    prompt_tokens: { dist: uniform, min: 500, max: 4000 }
    output_tokens: { dist: uniform, min: 20, max: 200 }
    timeout: 4s
routing: { policy: least-outstanding, failover: never }
incidents:
  - { at: 30s, duration: 10s, deployment: b, kind: outage }
`;
}

class Capture implements RequestLog {
  rows: string[] = [];
  record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number): void {
    this.rows.push([rq.seq[q], rq.workload[q], deployment, fate, rq.firstTokenS[q], endS].join(','));
  }
}

function run(caseSeed: number, routeByScan: boolean, text = scenarioText(caseSeed)) {
  const path = join(dir, `case-${caseSeed}.yaml`);
  writeFileSync(path, text);
  const log = new Capture();
  const result = simulate(loadScenario(path), { requestLog: log, routeByScan });
  return { result, rows: log.rows };
}

describe('least-outstanding routing: load index vs full scan', () => {
  const CASES = Array.from({ length: 30 }, (_, i) => i + 1);
  const fates = new Set<number>();
  it.each(CASES)('random platform %i: every request gets the same replica, fate and times', (caseSeed) => {
    const indexed = run(caseSeed, false);
    const scanned = run(caseSeed, true);
    expect(indexed.rows.length).toBeGreaterThan(100);
    // Rows in end order with exact times: any different routing choice shows up here.
    expect(indexed.rows).toEqual(scanned.rows);
    expect(Array.from(indexed.result.recorder.preemptions)).toEqual(Array.from(scanned.result.recorder.preemptions));
    expect(Array.from(indexed.result.busyS)).toEqual(Array.from(scanned.result.busyS));
    const { fates: counts, atoms } = indexed.result.recorder;
    for (let i = 0; i < atoms * 5; i++) if (counts[i] > 0) fates.add(i % 5);
  });

  it('an overloaded platform with timeouts in deep queues and an outage that empties them: the same too', () => {
    const indexed = run(0, false, overloadedText(1));
    const scanned = run(0, true, overloadedText(1));
    expect(indexed.rows).toEqual(scanned.rows);
    const { fates: counts } = indexed.result.recorder;
    expect(counts[FATE_TIMED_OUT]).toBeGreaterThan(100);
    expect(counts[5 + FATE_LOST]).toBeGreaterThan(10);
  });

  it('the random platforms reach full queues, timeouts and lost requests', () => {
    expect(fates.has(FATE_REJECTED)).toBe(true);
    expect(fates.has(FATE_TIMED_OUT)).toBe(true);
    expect(fates.has(FATE_LOST)).toBe(true);
  });
});
