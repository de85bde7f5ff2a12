/**
 * The host-memory KV tier (deployment `kv_offload`, src/serving/host-tier.ts): blocks the GPU cache
 * evicts are demoted to the host instead of dropped and promoted back when a prompt finds them,
 * their copy over PCIe added to the prefill. Hits against an independent two-tier block-level LRU,
 * the copy time in TTFT, tokens conserved, no block given up while referenced, the two engines
 * identical, byte-identical reruns, and bad values exit 2 at the key.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../src/serving/fleet.js';
import type { RequestTable } from '../src/engine/requests.js';
import { NONE } from '../src/engine/requests.js';
import { Capture, simulateLogged } from './helpers/capture.js';
import { checkInvariants, groupDraws } from './helpers/prefix-invariants.js';
import { guardEvictions, randomPlatform } from './helpers/random-platform.js';
import { fleetsim } from './helpers/cli.js';
import { mulberry32 } from './helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-offload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Capture plus the request's prompt tokens found in the host tier. */
class OffloadCapture extends Capture {
  offload = new Map<number, number>();
  override record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number): void {
    super.record(rq, q, deployment, fate, endS);
    this.offload.set(rq.seq[q], rq.offloadTokens[q]);
  }
}

let files = 0;
function run(text: string, inspect?: (f: Fleet) => void, log = new OffloadCapture()) {
  const path = join(dir, `s${files++}.yaml`);
  writeFileSync(path, text);
  const { result, fleet } = simulateLogged(path, log, inspect);
  log.rows.sort((a, b) => a.seq - b.seq);
  return { result, rows: log.rows, fleet, offload: log.offload };
}

/** The host tier's bookkeeping: pieces against extents, blocks held within capacity, no extent kept empty. */
function checkHost(f: Fleet): void {
  const c = f.cache!;
  const h = c.host!;
  for (let r = 0; r < f.replicas; r++) {
    let listed = 0;
    for (let p = h.lruHead[r]; p !== NONE; p = h.pNext[p]) {
      const e = h.pExtent[p];
      if (c.live[e] !== 1 || c.owner[e] !== r) throw new Error(`replica ${r}: a host piece of a dead or foreign extent`);
      if (h.pCount[p] <= 0) throw new Error(`replica ${r}: an empty host piece`);
      listed += h.pCount[p];
    }
    expect(listed).toBe(h.used[r]);
    expect(h.used[r]).toBeLessThanOrEqual(h.capacityBlocks[r]);
  }
  for (let e = 0; e < c.slots; e++) {
    if (c.live[e] !== 1) continue;
    let n = 0;
    for (let p = c.hostNewest[e]; p !== NONE; p = h.pOlder[p]) n += h.pCount[p];
    if (n !== c.hostCount[e]) throw new Error(`extent ${e}: host pieces hold ${n} blocks, hostCount ${c.hostCount[e]}`);
    if (c.count[e] === 0 && c.ref[e] === 0 && c.hostCount[e] === 0) throw new Error(`extent ${e}: kept with no block in either tier`);
  }
}

/**
 * Two block-level LRU tiers written from the description of vLLM's free-block queue and an
 * exclusive host tier beneath it (LMCache/HiCache write-back on eviction), independent of the
 * simulator's extents and pieces: a block the GPU queue evicts joins the host queue's tail, the
 * host queue drops from its head when over capacity, and a request takes its prefix blocks out of
 * whichever tier holds them.
 */
class ReferenceTwoTier {
  private gpu: string[] = [];
  private host: string[] = [];
  constructor(
    private readonly gpuBlocks: number,
    private readonly hostBlocks: number,
  ) {}
  /** Returns [prefix blocks found from the start (capped at `cap`), of those the host's]. */
  request(group: number, prefixBlocks: number, privateBlocks: number, cap: number): [number, number] {
    return this.requestKeys(Array.from({ length: prefixBlocks }, (_, i) => `${group}/${i}`), privateBlocks, cap);
  }

  /** The same for a prompt whose shared blocks are `keys`, first block first. */
  requestKeys(keys: string[], privateBlocks: number, cap: number): [number, number] {
    let found = 0;
    let fromHost = 0;
    for (; found < keys.length; found++) {
      if (this.gpu.includes(keys[found])) continue;
      if (!this.host.includes(keys[found])) break;
      if (found < cap) fromHost++;
    }
    for (const key of keys) {
      for (const tier of [this.gpu, this.host]) {
        const k = tier.indexOf(key);
        if (k >= 0) tier.splice(k, 1);
      }
    }
    while (this.gpu.length > 0 && this.gpu.length + keys.length + privateBlocks > this.gpuBlocks) {
      this.host.push(this.gpu.shift()!);
      if (this.host.length > this.hostBlocks) this.host.shift();
    }
    for (let i = keys.length - 1; i >= 0; i--) this.gpu.push(keys[i]);
    return [Math.min(found, cap), fromHost];
  }
}

/** One request at a time on one replica whose GPU cache holds a few of the 20 prefixes of 10 blocks. */
const lruScenario = (offload: string) => `
name: two-tier
horizon: 2h
seed: 11
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, max_batch: 1, kv_fraction: 0.1879${offload} }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: closed, concurrency: 1, requests: 3000 }
    prefix: { tokens: 160, groups: 20 }
    prompt_tokens: { dist: uniform, min: 1, max: 40 }
    output_tokens: { dist: constant, value: 1 }
`;

describe('hit rates', () => {
  it('a GPU cache smaller than the working set over a host tier: each hit, and each host hit, as an independent two-tier LRU predicts; more hits than without', () => {
    const B = 16;
    const n = 160 / B;
    const on = run(lruScenario(', kv_offload: { gb: 0.17, gbps: 25 }'));
    const off = run(lruScenario(''));
    const gpuBlocks = on.fleet.kvTotalBlocks[0];
    const hostBlocks = on.fleet.cache!.host!.capacityBlocks[0];
    // 0.17 GB of 2 MiB blocks (Llama 3.1 8B, bf16 KV, 16 tokens): 81; neither tier holds all 200 prefix blocks.
    expect(hostBlocks).toBe(Math.floor(0.17e9 / (131072 * B)));
    expect(gpuBlocks + hostBlocks).toBeLessThan(20 * n);
    expect(on.rows.length).toBe(3000);
    const draws = groupDraws(11, 'chat', 20, on.rows.length);
    const ref = new ReferenceTwoTier(gpuBlocks, hostBlocks);
    let hostHits = 0;
    for (let i = 0; i < on.rows.length; i++) {
      const row = on.rows[i];
      const [found, fromHost] = ref.request(draws[i], n, Math.ceil((row.promptTokens + 1) / B) - n, Math.floor((row.promptTokens - 1) / B));
      expect([i, row.cachedTokens, on.offload.get(row.seq)]).toEqual([i, found * B, fromHost * B]);
      if (fromHost > 0) hostHits++;
    }
    expect(hostHits).toBeGreaterThan(on.rows.length * 0.1);
    const hits = (rows: typeof on.rows) => rows.reduce((s, r) => s + r.cachedTokens, 0);
    expect(hits(on.rows)).toBeGreaterThan(hits(off.rows) * 1.3);
    // The same requests, so the GPU tier's hits are those of the run without offload: the host adds to them.
    const hostTokens = [...on.offload.values()].reduce((a, b) => a + b, 0);
    expect(hits(on.rows) - hostTokens).toBe(hits(off.rows));
    // Tokens conserved: cached (either tier) + computed = prompt.
    const prompt = on.rows.reduce((s, r) => s + r.promptTokens, 0);
    expect(on.fleet.promptTokensComputed[0] + hits(on.rows)).toBe(prompt);
    expect(Array.from(on.result.recorder.offloadInputTokens).reduce((a, b) => a + b, 0)).toBe(hostTokens);
    expect(on.fleet.cache!.host!.promoted[0]).toBeGreaterThanOrEqual(hostTokens / B);
    checkHost(on.fleet);
  });

  it('a host hit\'s TTFT includes its blocks\' bytes / gbps, added to its prefill', () => {
    const fast = run(lruScenario(', kv_offload: { gb: 0.17, gbps: 1000000 }'));
    const slow = run(lruScenario(', kv_offload: { gb: 0.17, gbps: 2 }'));
    const bytesPerToken = fast.result.scenario.deployments[0].perf.kvBytesPerToken;
    expect(bytesPerToken).toBe(131072);
    expect(slow.rows.length).toBe(fast.rows.length);
    let checked = 0;
    for (let i = 0; i < fast.rows.length; i++) {
      const a = fast.rows[i];
      const b = slow.rows[i];
      const hostTokens = fast.offload.get(a.seq)!;
      expect(slow.offload.get(b.seq)).toBe(hostTokens);
      const copyS = (hostTokens * bytesPerToken) / 2e9 - (hostTokens * bytesPerToken) / 1e15;
      expect(b.firstTokenS - b.arrivalS - (a.firstTokenS - a.arrivalS)).toBeCloseTo(copyS, 9);
      if (hostTokens > 0) checked++;
    }
    expect(checked).toBeGreaterThan(300);
    // 10 blocks of 2 MiB at 2 GB/s: 10.5 ms on top of the prefill.
    expect((160 * bytesPerToken) / 2e9).toBeCloseTo(0.0104858, 6);
  });
});

/**
 * A Mooncake-format trace (src/serving/block-chains.ts) of system prompts and growing
 * conversations, one row every 30 s so each is alone on the replica: rows share hash-id prefixes
 * as a tree, a conversation's turn resending the previous turn's ids (its partial last hash block
 * now whole) and adding one to three; a row never needs fewer blocks of a node than an earlier one.
 */
function chainTrace(seed: number, spacingMs = 30000): { text: string; rows: number[][]; inputs: number[] } {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  let next = 1000;
  const systems = Array.from({ length: int(2, 4) }, () => Array.from({ length: int(1, 4) }, () => next++));
  const convs: number[][] = [];
  const rows: number[][] = [];
  const inputs: number[] = [];
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    let ids: number[];
    const open = convs.filter((c) => c.length <= 9);
    if (open.length > 0 && rnd() < 0.6) {
      const c = open[int(0, open.length - 1)];
      for (let j = int(1, 3); j > 0; j--) c.push(next++);
      ids = c.slice();
    } else {
      ids = [...systems[int(0, systems.length - 1)], next++];
      convs.push(ids.slice());
    }
    const input = (ids.length - 1) * 512 + int(1, 512);
    rows.push(ids);
    inputs.push(input);
    lines.push(JSON.stringify({ timestamp: i * spacingMs, input_length: input, output_length: 1, hash_ids: ids }));
  }
  return { text: lines.join('\n') + '\n', rows, inputs };
}

describe('hash-chained prompts (Mooncake traces)', () => {
  it('each row\'s hits, and host hits, as the two-tier block-level LRU predicts over the hash chains', () => {
    const B = 32;
    const trace = chainTrace(7);
    const file = join(dir, 'chain.jsonl');
    writeFileSync(file, trace.text);
    const text = (offload: string) => `
name: chain
horizon: 4h
seed: 3
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, max_batch: 1, block_tokens: ${B}, kv_fraction: 0.205${offload} }
workloads:
  - name: mc
    tenant: t
    model: llama-3.1-8b
    arrival: { process: trace, file: ${file} }
`;
    const on = run(text(', kv_offload: { gb: 1, gbps: 25 }'));
    const off = run(text(''));
    const gpuBlocks = on.fleet.kvTotalBlocks[0];
    const hostBlocks = on.fleet.cache!.host!.capacityBlocks[0];
    expect(on.rows.length).toBe(400);
    expect(on.rows.every((r) => r.fate === 0)).toBe(true);
    // The largest prompt (10 hash blocks, 160 KV blocks) fits; the working set does not.
    expect(gpuBlocks).toBeGreaterThan(160);
    expect(gpuBlocks).toBeLessThan(400);
    // Block j of a row's hash id h at depth i is `${chain up to i}/${j}`: the chain names the node.
    const ref = new ReferenceTwoTier(gpuBlocks, hostBlocks);
    let hostHits = 0;
    for (let i = 0; i < 400; i++) {
      const ids = trace.rows[i];
      const prompt = trace.inputs[i];
      const keys: string[] = [];
      for (let k = 0; k < ids.length; k++) {
        const tokens = Math.min(512, prompt - k * 512);
        for (let j = 0; j < Math.floor(tokens / B); j++) keys.push(`${ids.slice(0, k + 1).join('.')}/${j}`);
      }
      const [found, fromHost] = ref.requestKeys(keys, Math.ceil((prompt + 1) / B) - keys.length, Math.floor((prompt - 1) / B));
      const row = on.rows[i];
      expect([i, row.promptTokens, row.cachedTokens, on.offload.get(row.seq)]).toEqual([i, prompt, found * B, fromHost * B]);
      if (fromHost > 0) hostHits++;
    }
    expect(hostHits).toBeGreaterThan(15);
    const hits = (rows: typeof on.rows) => rows.reduce((n, r) => n + r.cachedTokens, 0);
    expect(hits(on.rows)).toBeGreaterThan(hits(off.rows));
    checkHost(on.fleet);
  });
});

/** Concurrent hash-chained rows on 2 replicas of a random scheduler and router, with an outage, a small GPU cache over a host tier. */
function chainPlatform(caseSeed: number, engine: 'collapsed' | 'step'): string {
  const rnd = mulberry32(caseSeed * 613 + 5);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const file = join(dir, `chain-${caseSeed}.jsonl`);
  writeFileSync(file, chainTrace(caseSeed, 150 + Math.floor(rnd() * 200)).text);
  return `
name: chain-${caseSeed}
horizon: 150s
seed: ${caseSeed}
engine: ${engine}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, scheduler: ${pick(['continuous', 'chunked', 'static', 'disaggregated'])}, block_tokens: 32, kv_fraction: ${(0.205 + rnd() * 0.01).toFixed(3)}, max_batch: 16, kv_offload: { gb: 0.5, gbps: 20 } }
workloads:
  - name: mc
    tenant: t
    model: llama-3.1-8b
    arrival: { process: trace, file: ${file} }
    output_tokens: { dist: uniform, min: 1, max: 200 }
routing: { policy: ${pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two'])}, failover: on-outage }
incidents:
  - { at: ${20 + Math.floor(rnd() * 40)}s, duration: 10s, deployment: a, kind: outage }
`;
}

/** A random platform of test/helpers/random-platform.ts with a host tier on both deployments. */
const withOffload = (text: string, gb: string) =>
  text.replace('{ name: a,', `{ name: a, kv_offload: { gb: ${gb}, gbps: 16 },`).replace('{ name: b,', `{ name: b, kv_offload: { gb: ${gb}, gbps: 32 },`);

/** A request log that checks both tiers' books at every request's end. */
function checkingLog(fleet: () => Fleet | null): OffloadCapture {
  const log = new OffloadCapture();
  log.afterRecord = () => {
    const f = fleet();
    if (f !== null) {
      checkInvariants(f);
      checkHost(f);
    }
  };
  return log;
}

const CASES = Array.from({ length: 12 }, (_, i) => i + 1);

describe('bookkeeping under preemption, timeouts and outages', () => {
  let hostHitting = 0;
  it.each(CASES)('random scenario %i with a host tier: no block given up while a request holds it; both tiers\' books balance', (caseSeed) => {
    let fleet: Fleet | null = null;
    const restore = guardEvictions();
    const log = checkingLog(() => fleet);
    try {
      const { rows } = run(withOffload(randomPlatform(caseSeed, caseSeed % 2 === 0 ? 'collapsed' : 'step', caseSeed % 3 === 0), '0.4'), (f) => (fleet = f), log);
      expect(rows.length).toBeGreaterThan(50);
      if ([...log.offload.values()].some((t) => t > 0)) hostHitting++;
      for (const r of rows) expect(log.offload.get(r.seq)!).toBeLessThanOrEqual(r.cachedTokens);
      checkInvariants(fleet!);
      checkHost(fleet!);
    } finally {
      restore();
    }
  });

  it.each([1, 2, 3, 4])('random hash-chained trace %i with a host tier: the same books balance, and both engines agree', (caseSeed) => {
    let fleet: Fleet | null = null;
    const restore = guardEvictions();
    const log = checkingLog(() => fleet);
    try {
      const c = run(chainPlatform(caseSeed, 'collapsed'), (f) => (fleet = f), log);
      expect([...log.offload.values()].some((t) => t > 0)).toBe(true);
      const s = run(chainPlatform(caseSeed, 'step'));
      expect(s.rows.length).toBe(c.rows.length);
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
      for (let i = 0; i < c.rows.length; i++) {
        const a = c.rows[i];
        const b = s.rows[i];
        const same = a.seq === b.seq && a.fate === b.fate && a.cachedTokens === b.cachedTokens && c.offload.get(a.seq) === s.offload.get(b.seq) && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
        if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
      }
    } finally {
      restore();
    }
  });

  it('most random cases hit the host tier', () => {
    expect(hostHitting).toBeGreaterThan(CASES.length / 2);
  });
});

describe('engines and switches', () => {
  it.each(CASES)('random scenario %i with a host tier: step-by-step and collapsed engines identical', (caseSeed) => {
    const sessions = caseSeed % 3 === 0;
    const c = run(withOffload(randomPlatform(caseSeed, 'collapsed', sessions), '0.4'));
    const s = run(withOffload(randomPlatform(caseSeed, 'step', sessions), '0.4'));
    expect(c.rows.length).toBe(s.rows.length);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    for (let i = 0; i < c.rows.length; i++) {
      const a = c.rows[i];
      const b = s.rows[i];
      const same =
        a.seq === b.seq && a.fate === b.fate && a.deployment === b.deployment && a.cachedTokens === b.cachedTokens &&
        c.offload.get(a.seq) === s.offload.get(b.seq) && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
      if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
    }
    const host = (f: Fleet) => [Array.from(f.cache!.host!.demoted), Array.from(f.cache!.host!.promoted), Array.from(f.cache!.host!.dropped)];
    expect(host(c.fleet)).toEqual(host(s.fleet));
    expect(c.fleet.cache!.evictions).toEqual(s.fleet.cache!.evictions);
  });
});

describe('from the CLI', () => {
  const text = `
name: offload-rerun
horizon: 60s
seed: 9
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, kv_fraction: 0.22, scheduler: chunked, kv_offload: { gb: 1, gbps: 25 } }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 8/s }
    prefix: { tokens: 1200, groups: 12, share: 0.9 }
    prompt_tokens: { dist: lognormal, median: 400, p99: 3000 }
    output_tokens: { dist: lognormal, median: 120, p99: 800 }
`;

  it('a scenario with a host tier reruns byte-identically and appends offload_hit_tokens and prefix_hit_host_pct; without one, summary.csv has neither', () => {
    const path = join(dir, 'rerun.yaml');
    writeFileSync(path, text);
    const outs = [join(dir, 'out1'), join(dir, 'out2')];
    for (const out of outs) expect(fleetsim(['run', path, '--out', out, '--requests']).status).toBe(0);
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv']) {
      expect(readFileSync(join(outs[1], f), 'utf8'), f).toBe(readFileSync(join(outs[0], f), 'utf8'));
    }
    const [header, total] = readFileSync(join(outs[0], 'summary.csv'), 'utf8').split('\n').map((l) => l.split(','));
    expect(header.slice(-2)).toEqual(['offload_hit_tokens', 'prefix_hit_host_pct']);
    const at = (k: string) => Number(total[header.indexOf(k)]);
    expect(at('offload_hit_tokens')).toBeGreaterThan(0);
    expect(at('offload_hit_tokens')).toBeLessThan(at('cached_input_tokens'));
    expect(at('prefix_hit_host_pct')).toBeCloseTo((100 * at('offload_hit_tokens')) / at('input_tokens'), 2);
    // `fleetsim report` reads the appended columns back.
    expect(fleetsim(['report', outs[0]]).status).toBe(0);
    const plain = join(dir, 'plain.yaml');
    writeFileSync(plain, text.replace(', kv_offload: { gb: 1, gbps: 25 }', ''));
    expect(fleetsim(['run', plain, '--out', join(dir, 'out3')]).status).toBe(0);
    expect(readFileSync(join(dir, 'out3', 'summary.csv'), 'utf8')).not.toMatch(/offload|host/);
  });

  it.each([
    ['gb: 0', 'gb: 0, gbps: 25', /kv_offload\.gb.*positive/],
    ['gbps: -1', 'gb: 1, gbps: -1', /kv_offload\.gbps.*positive/],
    ['a host smaller than one block', 'gb: 0.000001, gbps: 25', /kv_offload\.gb.*holds no KV block/],
    ['an unknown key', 'gb: 1, gbps: 25, tier: disk', /kv_offload.*tier/],
  ])('%s is exit 2 naming the key', (_name, value, message) => {
    const bad = join(dir, `bad${files++}.yaml`);
    writeFileSync(bad, text.replace('kv_offload: { gb: 1, gbps: 25 }', `kv_offload: { ${value} }`));
    const r = fleetsim(['validate', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bad\d+\.yaml:\d+:\d+/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('kv_offload without prefix caching is exit 2 naming the key', () => {
    const bad = join(dir, 'nocache.yaml');
    writeFileSync(bad, text.replace('scheduler: chunked,', 'scheduler: chunked, prefix_caching: false,'));
    const r = fleetsim(['validate', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/deployments\[0\]\.kv_offload.*prefix_caching/);
  });
});
