import { PrefixCache } from '../../src/serving/prefix-cache.js';
import { mulberry32 } from './random.js';

/**
 * Random platforms for the prefix-cache property tests: shared prefixes, small KV caches
 * (preemption), every scheduler and router, an outage; with `sessions`, multi-turn conversations
 * at lower rates (each session sends several turns). Draws are in text order, so a case number
 * always means the same scenario.
 */
export function randomPlatform(caseSeed: number, engine: 'collapsed' | 'step', sessions: boolean): string {
  const rnd = sessions ? mulberry32(caseSeed * 7919 + 3) : mulberry32(caseSeed * 104729 + 7);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const scheduler = pick(['continuous', 'chunked', 'static', 'disaggregated']);
  const replicas = scheduler === 'disaggregated' ? int(2, 4) : int(1, 3);
  const kvA = ((sessions ? 0.2 : 0.205) + rnd() * 0.04).toFixed(3);
  const a = `{ name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${replicas}, scheduler: ${scheduler}, kv_fraction: ${kvA}, max_batch: ${int(4, 32)}, block_tokens: ${pick([8, 16, 32])}${sessions ? '' : `, chunk_tokens: ${pick([256, 512])}`} }`;
  const b = `{ name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: ${int(1, 2)}, kv_fraction: ${(0.21 + rnd() * 0.05).toFixed(3)}, max_batch: ${int(4, 48)}, max_queue: ${int(20, 200)} }`;
  const rate = sessions ? (0.5 + rnd() * 2).toFixed(2) : (2 + rnd() * 6).toFixed(2);
  const prefix = `{ tokens: ${int(100, 3000)}, groups: ${int(1, sessions ? 6 : 12)}, share: ${(0.5 + rnd() * 0.5).toFixed(2)} }`;
  const session = sessions
    ? `\n    session: { turns: { dist: uniform, min: 1, max: ${int(2, 10)} }, think_time: { dist: ${pick(['exponential, mean: 3s', 'constant, value: 0s', 'lognormal, median: 2s, p99: 20s'])} } }`
    : '';
  return `
name: ${sessions ? 'sess' : 'pfx'}-${caseSeed}
horizon: 120s${sessions ? '' : '\nwarmup: 5s'}
seed: ${caseSeed}
report_interval: 30s
engine: ${engine}
deployments:
  - ${a}
  - ${b}
workloads:
  - name: chat
    tenant: t1
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${rate}/s }
    prefix: ${prefix}${session}
    prompt_tokens: { dist: lognormal, median: ${sessions ? int(50, 400) : int(100, 800)}, p99: ${sessions ? 3000 : 6000} }
    output_tokens: { dist: lognormal, median: ${int(20, 200)}, p99: 800 }
    timeout: ${int(5, 60)}s
  - name: ${sessions ? 'oneshot' : 'agents'}
    tenant: t2
    model: llama-3.1-8b
    arrival: { process: poisson, rate: ${(1 + rnd() * 3).toFixed(2)}/s }
    prefix: { tokens: ${int(500, sessions ? 4000 : 6000)}, groups: ${int(1, 4)} }
    prompt_tokens: { dist: uniform, min: 1, max: ${int(50, 2000)} }
    output_tokens: { dist: uniform, min: 1, max: ${int(2, 400)} }
routing: { policy: ${pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two'])}, failover: on-outage }
incidents:
  - { at: ${int(20, 80)}s, duration: ${int(5, 30)}s, deployment: ${pick(['a', 'b'])}, kind: outage }
`;
}

/**
 * Makes every eviction check that it gives up only unreferenced, evictable blocks (throws
 * otherwise), counting the blocks evicted. Returns the function that restores the original.
 */
export function guardEvictions(onEvict: (blocks: number) => void = () => {}): () => void {
  const original = PrefixCache.prototype.evict;
  PrefixCache.prototype.evict = function (this: PrefixCache, r: number, blocks: number, demote?: boolean) {
    if (blocks > this.evictable[r]) throw new Error(`evicting ${blocks} blocks of ${this.evictable[r]} evictable`);
    for (let e = this.lruHead[r], left = blocks; left > 0; left -= this.count[e], e = this.next[e]) {
      if (this.ref[e] !== 0) throw new Error(`evicting a block with ${this.ref[e]} references`);
    }
    onEvict(blocks);
    original.call(this, r, blocks, demote);
  };
  return () => {
    PrefixCache.prototype.evict = original;
  };
}
