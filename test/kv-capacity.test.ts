/**
 * Admission and run planning decide from an O(1) upper bound on KV blocks in use and sum the exact
 * count only when the bound says the cache may be full (serving/fleet.ts). If that bound were ever
 * below the true count, replicas would admit or decode past their KV capacity. On random platforms
 * with caches a few requests deep (one replica per deployment, so a deployment's fraction is the
 * replica's), the KV in use sampled every half second never exceeds capacity, and preemption (the
 * proof the cache was full) does happen.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import { mulberry32 } from './helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-kv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function scenario(caseSeed: number): string {
  const rnd = mulberry32(caseSeed * 104729 + 7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  // kv_fraction just above the 8B model's bf16 weights (16 GB of 80 GB): a cache of a few thousand tokens.
  return `
name: kv-${caseSeed}
horizon: 120s
seed: ${caseSeed}
report_interval: 500ms
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, kv_fraction: ${(0.205 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 64)}, block_tokens: ${pick([8, 16, 32])}, scheduler: ${pick(['continuous', 'chunked', 'static'])} }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: 1, kv_fraction: ${(0.21 + rnd() * 0.06).toFixed(3)}, max_batch: ${int(4, 64)}, block_tokens: ${pick([4, 16])} }
workloads:
  - name: chat
    tenant: t1
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(3 + rnd() * 8).toFixed(2)}/s }
    prompt_tokens: { dist: lognormal, median: ${int(200, 1500)}, p99: 6000 }
    output_tokens: { dist: lognormal, median: ${int(50, 400)}, p99: 2000 }
`;
}

describe('KV blocks in use never exceed capacity', () => {
  let preemptions = 0;
  for (const caseSeed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    it(`random tight-cache platform ${caseSeed}`, () => {
      const file = join(dir, `kv-${caseSeed}.yaml`);
      writeFileSync(file, scenario(caseSeed));
      let peak = 0;
      const result = simulate(loadScenario(file), {
        onInterval: (s) => {
          for (const f of s.kvUsedFraction) peak = Math.max(peak, f);
        },
      });
      expect(peak).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(1);
      preemptions += result.recorder.preemptions.reduce((n, p) => n + p, 0);
    });
  }
  it('the cases above filled their caches (some requests were preempted)', () => {
    expect(preemptions).toBeGreaterThan(0);
  });
});
