/**
 * Least-outstanding routing takes the first replica with the fewest requests from an index of
 * replicas by load level (Fleet.loadMoved). Against the scan of every replica it replaced, on
 * random platforms that move loads every way the fleet can (arrivals, completions, preemption,
 * timeouts at admission, hand-offs to a decode pool, outages that empty whole deployments, queues
 * past the index's top level): every request must end the same way at the same time.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate, type IntervalSnapshot } from '../src/simulation/simulate.js';
import { tempDir } from './helpers/cli.js';
import { Capture } from './helpers/capture.js';
import { mulberry32 } from './helpers/random.js';

const dir = tempDir('fleetsim-routing-index-');

function scenarioText(caseSeed: number): string {
  const rnd = mulberry32(caseSeed * 104729 + 7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  // Some cases overload a model so its queues pass 63 (the index's top level) and the scan takes over.
  const rate = (n: number) => (n * (0.5 + rnd() * (rnd() < 0.3 ? 12 : 3))).toFixed(2);
  const a = int(1, 40);
  const b = int(1, 6);
  return `
name: routing-index-${caseSeed}
horizon: 120s
warmup: 0s
seed: ${caseSeed}
report_interval: 20s
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${a}, max_batch: ${int(2, 16)}, kv_fraction: ${pick(['0.21', '0.5', '0.9'])} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${b}, max_batch: ${int(2, 16)}${rnd() < 0.5 ? `, max_queue: ${int(1, 8)}` : ''} }
  - { name: c, model: mistral-7b, silicon: h100-sxm, replicas: ${int(1, 5)}, scheduler: ${pick(['continuous', 'chunked', 'static'])}, max_batch: ${int(2, 32)} }
  - { name: d, model: mistral-7b, silicon: mi300x, replicas: ${int(3, 6)}, scheduler: disaggregated, prefill_replicas: ${int(1, 2)}, max_batch: ${int(4, 32)} }
workloads:
  - name: chat
    tenant: t1
    model: llama-3.1-8b
    fallback: [mistral-7b]
    arrival: { process: poisson, rate: ${rate(a + b)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(100, 2000)}, p99: 9000 }
    output_tokens: { dist: lognormal, median: ${int(20, 300)}, p99: 1500 }
    timeout: ${int(2, 40)}s
  - name: batch
    tenant: t2
    model: mistral-7b
    fallback: [llama-3.1-8b]
    arrival: { process: poisson, rate: ${rate(4)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(100, 3000)}, p99: 8000 }
    output_tokens: { dist: uniform, min: 1, max: ${int(2, 400)} }
routing: { policy: least-outstanding, failover: ${pick(['on-outage', 'on-outage-or-overload', 'never'])} }
incidents:
  - { at: ${int(10, 50)}s, duration: ${int(5, 30)}s, deployment: ${pick(['a', 'b', 'c', 'd'])}, kind: outage }
  - { at: ${int(40, 90)}s, duration: ${int(5, 30)}s, deployment: ${pick(['a', 'b', 'c', 'd'])}, kind: outage }
`;
}

function run(caseSeed: number, routingIndex: boolean) {
  const path = join(dir, `case-${caseSeed}.yaml`);
  writeFileSync(path, scenarioText(caseSeed));
  const scenario = loadScenario(path);
  const log = new Capture();
  // Whether some replica's queue passed the index's top level (63) at a report interval's end.
  let deepQueue = false;
  const onInterval = (s: IntervalSnapshot) => {
    scenario.deployments.forEach((d, i) => (deepQueue ||= s.queueDepth[i] / d.replicas > 64));
  };
  const result = simulate(scenario, { requestLog: log, routingIndex, onInterval });
  return { result, rows: log.rows, deepQueue };
}

const CASES = Array.from({ length: 30 }, (_, i) => i + 1);

describe('least-outstanding routing index', () => {
  let deepQueues = 0;
  it.each(CASES)('random platform %i: the same outcome as scanning every replica', (caseSeed) => {
    const indexed = run(caseSeed, true);
    const scanned = run(caseSeed, false);
    expect(indexed.rows.length).toBeGreaterThan(100);
    // Same arithmetic in the same order: equal, not merely close.
    expect(indexed.rows).toEqual(scanned.rows);
    const [x, y] = [indexed.result.recorder, scanned.result.recorder];
    expect(Array.from(x.fates)).toEqual(Array.from(y.fates));
    expect(Array.from(x.preemptions)).toEqual(Array.from(y.preemptions));
    expect(Array.from(x.periodBusyShareS)).toEqual(Array.from(y.periodBusyShareS));
    expect(indexed.result.events).toBe(scanned.result.events);
    if (indexed.deepQueue) deepQueues++;
  });

  it('the random platforms include overloaded ones', () => {
    expect(deepQueues).toBeGreaterThan(2);
  });
});
