/**
 * Queue classes (issue 19 item 2, src/serving/priority.ts): at every replica a lower class is never
 * admitted while a higher one waits there, and under KV pressure the lowest class is preempted
 * first. Checked after every event of random platforms (every scheduler, small KV caches, outages,
 * every router); the collapsed and step-by-step engines still agree with classes on.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/index.js';
import { simulate, type SimulationResult } from '../src/simulation/simulate.js';
import type { Fleet } from '../src/serving/fleet.js';
import type { RequestTable } from '../src/engine/requests.js';
import { CLASSES } from '../src/serving/priority.js';
import { mulberry32 } from './helpers/random.js';
import { tempDir } from './helpers/cli.js';

function randomText(caseSeed: number, engine: 'collapsed' | 'step'): string {
  const rnd = mulberry32(caseSeed * 104729 + 11);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const scheduler = pick(['continuous', 'chunked', 'static', 'disaggregated']);
  const replicas = scheduler === 'disaggregated' ? int(2, 4) : int(1, 3);
  const priorities = ['interactive', 'standard', 'batch'];
  const workloads = Array.from({ length: int(2, 4) }, (_, w) => `
  - name: w${w}
    tenant: t${w % 2}
    model: llama-3.1-8b
    priority: ${w < 2 ? priorities[2 * w] : pick(priorities)}
    arrival: { process: poisson, rate: ${(1 + rnd() * 4).toFixed(2)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(100, 1500)}, p99: 6000 }
    output_tokens: { dist: lognormal, median: ${int(20, 300)}, p99: 1200 }
    timeout: ${int(10, 60)}s`).join('');
  return `
name: prio-${caseSeed}
horizon: 90s
seed: ${caseSeed}
report_interval: 30s
engine: ${engine}
prefix_caching: ${pick(['true', 'false'])}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${replicas}, scheduler: ${scheduler}, kv_fraction: ${(0.2 + rnd() * 0.04).toFixed(3)}, max_batch: ${int(4, 32)}, block_tokens: ${pick([8, 16, 32])} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${int(1, 2)}, kv_fraction: ${(0.21 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 48)}, max_queue: ${int(20, 200)} }
workloads:${workloads}
routing: { policy: ${pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two'])}, failover: on-outage }
incidents:
  - { at: ${int(20, 60)}s, duration: ${int(5, 20)}s, deployment: ${pick(['a', 'b'])}, kind: outage }
`;
}

interface Ended {
  seq: number;
  fate: number;
  deployment: number;
  firstTokenS: number;
  endS: number;
}

function run(text: string, inspect?: (f: Fleet) => void): { result: SimulationResult; ended: Ended[] } {
  const file = join(tempDir(), 's.yaml');
  writeFileSync(file, text);
  const ended: Ended[] = [];
  const requestLog = {
    record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number) {
      ended.push({ seq: rq.seq[q], fate, deployment, firstTokenS: rq.firstTokenS[q], endS });
    },
  };
  const result = simulate(loadScenario(file), { requestLog, inspect });
  return { result, ended };
}

/** Class of request q. */
const classOf = (f: Fleet, q: number) => f.priority!.classOf[f.requests.workload[q]];

/**
 * Wraps the fleet's entry points so that after each one: every queue is in class order, and every
 * request admitted during it (still in a batch) is of a class no lower than any request waiting at
 * its replica since before it. Returns how many admissions it checked.
 */
function watch(f: Fleet): { admitted: number } {
  const seen = { admitted: 0 };
  const R = f.replicas;
  const lastAdmit = new Float64Array(R);
  const rq = f.requests;
  // Requests waiting when the event began, by replica (seq: ids are reused). One event can place
  // several requests at one replica (hand-offs, an outage's evictions), and one that joined after
  // an admission in the same event did not wait at that admission.
  const waitingBefore: Set<number>[] = Array.from({ length: R }, () => new Set());
  const before = () => {
    for (let r = 0; r < R; r++) {
      waitingBefore[r].clear();
      for (let q = f.queueHead[r], n = 0; n < f.queueLen[r]; q = rq.next[q], n++) waitingBefore[r].add(rq.seq[q]);
    }
  };
  const check = () => {
    for (let r = 0; r < R; r++) {
      let minWaiting = CLASSES;
      let prev = -1;
      for (let q = f.queueHead[r], n = 0; n < f.queueLen[r]; q = rq.next[q], n++) {
        const c = classOf(f, q);
        if (c < prev) throw new Error(`replica ${r}: queue out of class order (${prev} before ${c})`);
        prev = c;
        if (waitingBefore[r].has(rq.seq[q])) minWaiting = Math.min(minWaiting, c);
        if (n === f.queueLen[r] - 1 && q !== f.queueTail[r]) throw new Error(`replica ${r}: tail is not the last request`);
      }
      for (let i = 0; i < f.batch[r]; i++) {
        const q = f.slots[f.slotBase[r] + i];
        if (rq.admitSeq[q] < lastAdmit[r]) continue;
        seen.admitted++;
        if (classOf(f, q) > minWaiting) {
          throw new Error(`replica ${r}: admitted request ${rq.seq[q]} of class ${classOf(f, q)} while class ${minWaiting} waits`);
        }
      }
      lastAdmit[r] = f.admitCounter[r];
    }
  };
  const arrive = f.arrive.bind(f);
  const onEvent = f.onEvent.bind(f);
  f.arrive = (...args: Parameters<Fleet['arrive']>) => {
    before();
    arrive(...args);
    check();
  };
  f.onEvent = (r: number) => {
    before();
    onEvent(r);
    check();
  };
  // An outage moves many requests at once: its admissions are checked against what waited before it.
  const outageStart = f.outageStart.bind(f);
  f.outageStart = (d: number, nowS: number) => {
    before();
    outageStart(d, nowS);
    check();
  };
  return seen;
}

const CASES = Array.from({ length: 10 }, (_, i) => i + 1);

describe('queue classes', () => {
  let checked = 0;
  it.each(CASES)('random scenario %i: no lower class admitted while a higher one waits at the replica; engines agree', (caseSeed) => {
    let seen = { admitted: 0 };
    const c = run(randomText(caseSeed, 'collapsed'), (f) => {
      expect(f.priority).not.toBeNull();
      seen = watch(f);
    });
    expect(seen.admitted).toBeGreaterThan(50);
    checked += seen.admitted;
    const s = run(randomText(caseSeed, 'step'));
    expect(c.ended.length).toBe(s.ended.length);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    for (let i = 0; i < c.ended.length; i++) {
      const a = c.ended[i];
      const b = s.ended[i];
      const same = a.seq === b.seq && a.fate === b.fate && a.deployment === b.deployment && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
      if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
    }
  });

  it('the random cases admitted requests (the property was exercised)', () => {
    expect(checked).toBeGreaterThan(1000);
  });

  it('under KV pressure the lower class is preempted first, though admitted earlier', () => {
    // One replica whose KV holds 74,064 tokens; at t = 0 a batch-class request (admitted first:
    // ties run in workload order), then a chat request; each holds 30,000 prompt tokens and grows
    // by 8,000, so the cache runs out. Preempting the latest admitted (FIFO) would take the chat one.
    const dir = tempDir();
    writeFileSync(join(dir, 't.csv'), 'TIMESTAMP,ContextTokens,GeneratedTokens\n2024-01-01 00:00:00.0000000,30000,8000\n');
    const text = (chat: string) => `
name: preempt
horizon: 120s
prefix_caching: false
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, kv_fraction: 0.3 }
workloads:
  - { name: bulk, tenant: t, model: llama-3.1-8b, priority: batch, arrival: { process: trace, file: ${join(dir, 't.csv')} } }
  - { name: chat, tenant: t, model: llama-3.1-8b, priority: ${chat}, arrival: { process: trace, file: ${join(dir, 't.csv')} } }
`;
    /** Workloads of the requests seen back in the queue after decoding (preempted). */
    const preempted = (chat: string) => {
      const names = new Set<string>();
      const r = run(text(chat), (f) => {
        const onEvent = f.onEvent.bind(f);
        f.onEvent = (x: number) => {
          onEvent(x);
          for (let q = f.queueHead[0], n = 0; n < f.queueLen[0]; q = f.requests.next[q], n++) {
            if (f.requests.generated[q] > 1) names.add(f.deployments.length === 1 ? ['bulk', 'chat'][f.requests.workload[q]] : '?');
          }
        };
      });
      expect(r.result.scenario.deployments[0].perf.kvCapacityBlocks * 16).toBeGreaterThan(60000);
      expect(r.result.scenario.deployments[0].perf.kvCapacityBlocks * 16).toBeLessThan(76000);
      expect(r.result.recorder.preemptions[0]).toBeGreaterThan(0);
      expect(r.ended.filter((e) => e.fate === 0).length).toBe(2);
      return [...names].sort();
    };
    expect(preempted('interactive')).toEqual(['bulk']);
    // One class for both (no classes kept): the latest admitted, chat, is the victim.
    expect(preempted('batch')).toEqual(['chat']);
  });
});
