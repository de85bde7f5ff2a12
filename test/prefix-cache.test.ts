/**
 * Prefix caching (src/serving/prefix-cache.ts): hit rates against analytic cases and an
 * independent LRU, tokens conserved, no block given up while a request uses it, the step-by-step
 * and collapsed engines identical with caching on, and `prefix_caching: false` the plain model.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../src/serving/fleet.js';
import { Capture, simulateLogged } from './helpers/capture.js';
import { checkInvariants, groupDraws } from './helpers/prefix-invariants.js';
import { guardEvictions, randomPlatform } from './helpers/random-platform.js';
import { fleetsim } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-prefix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function run(text: string, inspect?: (f: Fleet) => void, log = new Capture()) {
  const path = join(dir, `s${files++}.yaml`);
  writeFileSync(path, text);
  const { result, fleet } = simulateLogged(path, log, inspect);
  log.rows.sort((a, b) => a.seq - b.seq);
  return { result, rows: log.rows, fleet };
}

describe('hit rates', () => {
  it('one shared prefix with room for it: every request after the first on each replica hits it whole', () => {
    const { rows, fleet, result } = run(`
name: one-prefix
horizon: 120s
seed: 3
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 3 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 20/s }
    prefix: { tokens: 2000, groups: 1 }
    prompt_tokens: { dist: lognormal, median: 300, p99: 2000 }
    output_tokens: { dist: lognormal, median: 100, p99: 500 }
routing: { policy: round-robin }
`);
    expect(rows.length).toBeGreaterThan(2000);
    expect(result.recorder.preemptions[0]).toBe(0);
    // Round-robin sends the first three requests to the three replicas; 2000 tokens are 125 full blocks of 16.
    for (const row of rows) expect([row.seq, row.cachedTokens]).toEqual([row.seq, row.seq < 3 ? 0 : 2000]);
    // Tokens conserved: what was found cached plus what was prefilled is the prompt.
    const prompt = rows.reduce((n, r) => n + r.promptTokens, 0);
    const cached = rows.reduce((n, r) => n + r.cachedTokens, 0);
    expect(fleet.promptTokensComputed[0] + cached).toBe(prompt);
    expect(Array.from(result.recorder.cachedInputTokens).reduce((a, b) => a + b, 0)).toBe(cached);
  });

  it('a cache smaller than the working set under uniform groups: each hit as an independent block-level LRU predicts', () => {
    // One request at a time, a prefill and nothing else (one output token), on one replica whose
    // cache holds a few of the 20 prefixes: the simulated hits must be those of the reference LRU below.
    const groups = 20;
    const prefixTokens = 160;
    const B = 16;
    const { rows, fleet } = run(`
name: lru
horizon: 1h
seed: 11
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, max_batch: 1, kv_fraction: 0.1879 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 1, requests: 3000 }
    prefix: { tokens: ${prefixTokens}, groups: ${groups} }
    prompt_tokens: { dist: uniform, min: 1, max: 40 }
    output_tokens: { dist: constant, value: 1 }
`);
    const capacity = fleet.kvTotalBlocks[0];
    expect(capacity).toBeGreaterThan(30);
    expect(capacity).toBeLessThan(120);
    expect(rows.length).toBe(3000);
    // The group of each request is not in the log; the prompt starts with it, so recover it from the cache's own draws.
    const draws = groupDraws(11, 'chat', groups, rows.length);
    const lru = new ReferenceLru(capacity);
    let hits = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const n = prefixTokens / B;
      const expected = lru.request(draws[i], n, Math.ceil((row.promptTokens + 1) / B) - n, Math.floor((row.promptTokens - 1) / B));
      expect([i, row.cachedTokens]).toEqual([i, expected * B]);
      if (row.cachedTokens > 0) hits++;
    }
    // Not a trivial case: some requests hit, many miss.
    expect(hits).toBeGreaterThan(rows.length * 0.1);
    expect(hits).toBeLessThan(rows.length * 0.6);
  });
});

/**
 * A block-level LRU written from vLLM's description, independent of the simulator's data
 * structures: free cached blocks in a queue (evicted from the front), a request takes its prefix
 * blocks out of the queue (or allocates them), its private blocks from free memory, evicting from
 * the front while memory is short, and gives its prefix blocks back last block first.
 */
class ReferenceLru {
  private queue: string[] = [];
  constructor(private readonly capacity: number) {}
  /** Returns the prefix blocks found from the start (capped at `cap`). */
  request(group: number, prefixBlocks: number, privateBlocks: number, cap: number): number {
    let found = 0;
    while (found < prefixBlocks && this.queue.includes(`${group}/${found}`)) found++;
    for (let i = 0; i < prefixBlocks; i++) {
      const k = this.queue.indexOf(`${group}/${i}`);
      if (k >= 0) this.queue.splice(k, 1);
    }
    while (this.queue.length > 0 && this.queue.length + prefixBlocks + privateBlocks > this.capacity) this.queue.shift();
    for (let i = prefixBlocks - 1; i >= 0; i--) this.queue.push(`${group}/${i}`);
    return Math.min(found, cap);
  }
}


const CASES = Array.from({ length: 16 }, (_, i) => i + 1);

describe('bookkeeping under preemption, timeouts and outages', () => {
  let preempting = 0;
  let hitting = 0;
  it.each(CASES)('random scenario %i: no block given up while a request holds it; references match the batches', (caseSeed) => {
    let fleet: Fleet | null = null;
    const restore = guardEvictions();
    // Checked at every request's end, which happens inside admissions, completions, preemptions and outages.
    const log = new Capture();
    log.afterRecord = () => {
      if (fleet !== null) checkInvariants(fleet);
    };
    try {
      const { result } = run(randomPlatform(caseSeed, 'collapsed', false), (f) => (fleet = f), log);
      if (result.recorder.preemptions.some((p) => p > 0)) preempting++;
      if (log.rows.some((r) => r.cachedTokens > 0)) hitting++;
      expect(log.rows.length).toBeGreaterThan(100);
      checkInvariants(fleet!);
    } finally {
      restore();
    }
  });

  it('the random cases preempt and hit', () => {
    expect(preempting).toBeGreaterThan(CASES.length / 3);
    expect(hitting).toBe(CASES.length);
  });
});

describe('engines and switches', () => {
  it.each(CASES)('random scenario %i: step-by-step and collapsed engines identical with caching on', (caseSeed) => {
    const c = run(randomPlatform(caseSeed, 'collapsed', false));
    const s = run(randomPlatform(caseSeed, 'step', false));
    expect(c.rows.length).toBe(s.rows.length);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    for (let i = 0; i < c.rows.length; i++) {
      const a = c.rows[i];
      const b = s.rows[i];
      const same =
        a.seq === b.seq && a.fate === b.fate && a.deployment === b.deployment && a.promptTokens === b.promptTokens &&
        a.cachedTokens === b.cachedTokens && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
      if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
    }
    expect(Array.from(c.result.recorder.preemptions)).toEqual(Array.from(s.result.recorder.preemptions));
    expect(Array.from(c.result.recorder.cachedInputTokens)).toEqual(Array.from(s.result.recorder.cachedInputTokens));
    expect(c.fleet.cache!.evictions).toEqual(s.fleet.cache!.evictions);
    expect(c.result.events).toBeLessThan(s.result.events);
  });

  it('prefix_caching: false is the model without a cache: a prefix is just longer prompts', () => {
    const body = (prompt: string, prefix: string) => `
name: off
horizon: 90s
seed: 5
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, kv_fraction: 0.22 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 6/s }
    ${prefix}
    prompt_tokens: ${prompt}
    output_tokens: { dist: lognormal, median: 150, p99: 900 }
`;
    const off = run(`prefix_caching: false\n${body('{ dist: constant, value: 300 }', 'prefix: { tokens: 1700 }')}`);
    const plain = run(body('{ dist: constant, value: 2000 }', ''));
    const on = run(body('{ dist: constant, value: 300 }', 'prefix: { tokens: 1700 }'));
    expect(off.fleet.cache).toBeNull();
    expect(off.rows.map(({ cachedTokens, ...r }) => r)).toEqual(plain.rows.map(({ cachedTokens, ...r }) => r));
    expect(off.rows.every((r) => r.cachedTokens === 0)).toBe(true);
    // And on, the same arrivals hit and their first tokens come sooner.
    const ttft = (rows: typeof on.rows) => rows.reduce((t, r) => t + r.firstTokenS - r.arrivalS, 0) / rows.length;
    expect(on.rows.filter((r) => r.cachedTokens > 0).length).toBeGreaterThan(on.rows.length * 0.9);
    expect(ttft(on.rows)).toBeLessThan(0.6 * ttft(off.rows));
  });
});

describe('deployments no shared prompt can reach', () => {
  it('keep no cache (caching 0, no bookkeeping) and serve exactly as with prefix_caching false', () => {
    // chat (a prefix) reaches a's model only; classify (no prefix, sessions or hashes) reaches b alone.
    const body = (caching: string) => `
name: reach
horizon: 60s
seed: 4
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
  - { name: b, model: mixtral-8x7b, silicon: h100-sxm, replicas: 2, tensor_parallel: 2${caching} }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 6/s }
    prefix: { tokens: 800, groups: 2 }
    prompt_tokens: { dist: lognormal, median: 300, p99: 2000 }
    output_tokens: { dist: lognormal, median: 100, p99: 500 }
  - name: classify
    tenant: t
    model: mixtral-8x7b
    arrival: { process: poisson, rate: 6/s }
    prompt_tokens: { dist: lognormal, median: 900, p99: 4000 }
    output_tokens: { dist: lognormal, median: 100, p99: 500 }
`;
    const on = run(body(''));
    const off = run(body(', prefix_caching: false'));
    expect(Array.from(on.fleet.caching)).toEqual([1, 1, 0, 0]);
    expect(on.rows.some((r) => r.cachedTokens > 0)).toBe(true);
    expect(on.rows).toEqual(off.rows);
    // A fleet without any shared prompt keeps no cache at all.
    const plain = run(body('').replace(/    prefix: .*\n/, ''));
    expect(plain.fleet.cache).toBeNull();
  });
});

describe('from the CLI', () => {
  it('a scenario with shared prefixes reruns byte-identically; a prefix with cached_prompt_fraction is exit 2 at the key', () => {
    const text = `
name: rerun
horizon: 60s
seed: 9
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, kv_fraction: 0.22, scheduler: chunked }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 8/s }
    prefix: { tokens: 1200, groups: 6, share: 0.8 }
    prompt_tokens: { dist: lognormal, median: 400, p99: 3000 }
    output_tokens: { dist: lognormal, median: 120, p99: 800 }
`;
    const path = join(dir, 'rerun.yaml');
    writeFileSync(path, text);
    const outs = [join(dir, 'out1'), join(dir, 'out2')];
    for (const out of outs) expect(fleetsim(['run', path, '--out', out, '--requests']).status).toBe(0);
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv']) {
      expect(readFileSync(join(outs[1], f), 'utf8'), f).toBe(readFileSync(join(outs[0], f), 'utf8'));
    }
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, text.replace('    prefix:', '    cached_prompt_fraction: 0.5\n    prefix:'));
    const r = fleetsim(['run', bad, '--out', join(dir, 'out3')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+.*workloads\[0\]\.cached_prompt_fraction.*prefix/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('money', () => {
  it('cached prompt tokens are billed at cached_input_usd_per_mtok, and their compute is not spent', () => {
    const text = (caching: boolean) => `
name: bill
horizon: 120s
seed: 4
prefix_caching: ${caching}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 10/s }
    prefix: { tokens: 4000, groups: 3 }
    prompt_tokens: { dist: lognormal, median: 200, p99: 1500 }
    output_tokens: { dist: lognormal, median: 80, p99: 400 }
pricing:
  - { model: llama-3.1-8b, input_usd_per_mtok: 2, cached_input_usd_per_mtok: 0.5, output_usd_per_mtok: 8, vendor_share: 0 }
`;
    const totals = (caching: boolean) => {
      const path = join(dir, `bill-${caching}.yaml`);
      writeFileSync(path, text(caching));
      const out = join(dir, `bill-out-${caching}`);
      expect(fleetsim(['run', path, '--out', out]).status).toBe(0);
      const [header, ...rows] = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
      const total = rows.find((r) => r[0] === 'total')!;
      const get = (name: string) => Number(total[header.indexOf(name)]);
      const pnl = readFileSync(join(out, 'pnl.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
      const pnlCached = pnl.slice(1).reduce((n, r) => n + Number(r[pnl[0].indexOf('cached_input_tokens')] || 0), 0);
      return { get, pnlCached };
    };
    const on = totals(true);
    const off = totals(false);
    const input = on.get('input_tokens');
    const cached = on.get('cached_input_tokens');
    expect(cached).toBeGreaterThan(0.8 * input);
    expect(on.get('prefix_hit_pct')).toBeCloseTo((100 * cached) / input, 2);
    expect(on.pnlCached).toBe(cached);
    // One day, one tenant, one deployment: one ledger cell, rounded once.
    const expected = Math.round(((input - cached) * 2 + cached * 0.5 + on.get('output_tokens') * 8) / 1e4) / 100;
    expect(on.get('revenue_usd')).toBeCloseTo(expected, 2);
    expect(off.get('cached_input_tokens')).toBe(0);
    expect(off.get('revenue_usd')).toBeCloseTo(Math.round((off.get('input_tokens') * 2 + off.get('output_tokens') * 8) / 1e4) / 100, 2);
    // Same requests; the cache makes them cheaper to bill and quicker to start (their prefill skipped).
    expect(on.get('input_tokens')).toBe(off.get('input_tokens'));
    expect(on.get('revenue_usd')).toBeLessThan(off.get('revenue_usd'));
    expect(on.get('ttft_mean_s')).toBeLessThan(0.5 * off.get('ttft_mean_s'));
  });
});
