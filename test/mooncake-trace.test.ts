/**
 * Mooncake trace replay (issue 18): rows parsed, bad rows rejected naming the row, hit rates of
 * hand-built traces against their hand-computed values, tokens conserved, no block given up while
 * a request holds it (random traces with preemption and outages), step-by-step and collapsed
 * engines identical with caching on, byte-identical reruns.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../src/serving/fleet.js';
import { InputError } from '../src/errors.js';
import { MooncakeReader } from '../src/workload/mooncake.js';
import { Capture, simulateLogged } from './helpers/capture.js';
import { checkInvariants } from './helpers/prefix-invariants.js';
import { guardEvictions } from './helpers/random-platform.js';
import { mulberry32 } from './helpers/random.js';
import { fleetsim } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-mooncake-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

interface Row { t: number; input: number; output: number; ids: number[] }
const line = (r: Row) => JSON.stringify({ timestamp: r.t, input_length: r.input, output_length: r.output, hash_ids: r.ids });
function traceFile(rows: Row[] | string): string {
  const path = join(dir, `t${files++}.jsonl`);
  writeFileSync(path, typeof rows === 'string' ? rows : rows.map(line).join('\n') + '\n');
  return path;
}

function scenario(trace: string, opts: { replicas?: number; kv?: number; engine?: string; scheduler?: string; policy?: string; extra?: string; caching?: boolean } = {}): string {
  return `
name: mc
horizon: ${opts.extra?.includes('incidents') ? '120s' : '20m'}
seed: 5
engine: ${opts.engine ?? 'collapsed'}
prefix_caching: ${opts.caching ?? true}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: ${opts.replicas ?? 1}, scheduler: ${opts.scheduler ?? 'continuous'}${opts.kv ? `, kv_fraction: ${opts.kv}` : ''}, max_batch: 32 }
workloads:
  - name: mc
    tenant: t
    model: llama-3.1-8b
    arrival: { process: trace, file: ${trace} }
routing: { policy: ${opts.policy ?? 'least-outstanding'}, failover: on-outage }
${opts.extra ?? ''}`;
}

function run(text: string, inspect?: (f: Fleet) => void, log = new Capture()) {
  const path = join(dir, `s${files++}.yaml`);
  writeFileSync(path, text);
  const { result, fleet } = simulateLogged(path, log, inspect);
  log.rows.sort((a, b) => a.seq - b.seq);
  return { result, rows: log.rows, fleet };
}

describe('reading Mooncake rows', () => {
  it('parses timestamp (ms), lengths and hash_ids, keys in any order, other keys skipped, blank lines ignored', () => {
    const file = traceFile(
      '{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 2353, 2354]}\n' +
        '\n' +
        '  {"hash_ids":[46,47],"output_length":26,"note":{"a":[1,"x]"]},"input_length":1000,"timestamp":30535.5}  \r\n' +
        '{"timestamp": 30535.5, "input_length": 0, "output_length": 1, "hash_ids": []}',
    );
    const r = new MooncakeReader(file);
    const rows: unknown[] = [];
    while (r.next()) rows.push([r.line, r.timeS, r.promptTokens, r.outputTokens, Array.from(r.hashIds.subarray(0, r.hashCount))]);
    expect(rows).toEqual([
      [1, 0, 6955, 52, [46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 2353, 2354]],
      [3, 3.0535, 1000, 26, [46, 47]],
      [4, 3.0535, 0, 1, []],
    ]);
  });

  const bad: [string, string, RegExp][] = [
    ['not JSON', 'timestamp,input_length', /:2:1: expected a JSON object/],
    ['a missing field', '{"timestamp": 5, "input_length": 600, "output_length": 3}', /:2:1: missing "hash_ids"/],
    ['a hash id that is not an integer', '{"timestamp": 5, "input_length": 600, "output_length": 3, "hash_ids": [0, 1.5]}', /:2:\d+: hash_ids: expected hash ids that are non-negative integers, got 1\.5/],
    ['a negative length', '{"timestamp": 5, "input_length": -600, "output_length": 3, "hash_ids": [0]}', /:2:\d+: input_length: expected a non-negative integer, got -600/],
    ['a length given as a string', '{"timestamp": 5, "input_length": "600", "output_length": 3, "hash_ids": [0]}', /:2:\d+: input_length: expected a non-negative integer, got "600"$/m],
    ['timestamps going back', '{"timestamp": 1, "input_length": 600, "output_length": 3, "hash_ids": [0, 1]}', /:2:\d+: timestamp: timestamps must be non-decreasing; 1 is earlier than the row on line 1/],
    ['more hash ids than blocks', '{"timestamp": 5, "input_length": 600, "output_length": 3, "hash_ids": [0, 1, 2]}', /:2:\d+: hash_ids: 3 hash ids for input_length 600, which has 2 blocks of 512 tokens/],
    ['an unclosed object', '{"timestamp": 5, "input_length": 600', /:2:\d+: the object is not closed/],
  ];
  it.each(bad)('a row with %s is exit 2, naming the file and line', (_what, row, message) => {
    const file = traceFile(`{"timestamp": 2, "input_length": 600, "output_length": 3, "hash_ids": [0, 1]}\n${row}\n`);
    const path = join(dir, `s${files++}.yaml`);
    writeFileSync(path, scenario(file));
    const res = fleetsim(['validate', path]);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(file);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  // The tokenizer's own refusals, read straight from the reader (the CLI cases above show the
  // InputError becomes exit 2): each names line 2 and the column where the row goes wrong.
  const malformed: [string, string, RegExp][] = [
    ['a key that is not a string', '{timestamp: 5}', /:2:2: expected a "key" of \{"timestamp"/],
    ['a key not closed', '{"timestamp', /:2:2: the key is not closed: expected "/],
    ['no colon after a key', '{"timestamp" 5}', /:2:14: expected ":" after the key/],
    ['a key given twice', '{"timestamp": 5, "timestamp": 6}', /:2:18: timestamp: appears twice/],
    ['no comma between fields', '{"timestamp": 5 "input_length": 6}', /:2:17: expected "," or "\}"/],
    ['text after the object', '{"timestamp": 5, "input_length": 600, "output_length": 3, "hash_ids": [0]} x', /:2:76: unexpected text after the JSON object/],
    ['a length too large', '{"timestamp": 5, "input_length": 99999999999, "output_length": 3, "hash_ids": [0]}', /:2:34: input_length: 99999999999 is too large \(max 2147483647\)/],
    ['a timestamp that is not a number', '{"timestamp": "soon", "input_length": 600, "output_length": 3, "hash_ids": [0]}', /:2:15: timestamp: expected milliseconds from the trace's start \(a non-negative number\), got "soon"/],
    ['hash_ids that are not an array', '{"timestamp": 5, "input_length": 600, "output_length": 3, "hash_ids": 7}', /:2:71: hash_ids: expected an array of integers, got 7/],
    ['hash_ids without a comma', '{"timestamp": 5, "input_length": 600, "output_length": 3, "hash_ids": [0 1]}', /:2:74: hash_ids: expected "," or "\]"/],
    ['an unknown key\'s string not closed', '{"note": "abc', /:2:10: a string is not closed: expected "/],
    ['an unknown key with no value', '{"note": , "timestamp": 5}', /:2:10: expected a value/],
  ];
  it.each(malformed)('a row with %s is refused at its line and column', (_what, row, message) => {
    const file = traceFile(`{"timestamp": 2, "input_length": 600, "output_length": 3, "hash_ids": [0, 1]}\n${row}\n`);
    const reader = new MooncakeReader(file);
    expect(reader.next()).toBe(true);
    let error: unknown;
    try {
      reader.next();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    const text = (error as InputError).format();
    expect(text.startsWith(file + ':2:')).toBe(true);
    expect(text).toMatch(message);
  });

  it('hash_block_tokens that is not a whole number of KV blocks is exit 2 at the key', () => {
    const file = traceFile([{ t: 0, input: 600, output: 3, ids: [0, 1] }]);
    const path = join(dir, `s${files++}.yaml`);
    writeFileSync(path, scenario(file).replace('arrival: { process: trace, file: ' + file + ' }', `arrival: { process: trace, file: ${file}, hash_block_tokens: 500 }`));
    const res = fleetsim(['validate', path]);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/workloads\[0\]\.arrival\.hash_block_tokens.*not a whole number of deployment "a"'s KV blocks/);
  });
});

describe('hit rates against hand-computed values', () => {
  it('rows sharing their first k hash blocks: every row after the first finds k × 512 tokens', () => {
    const k = 5;
    const n = 40;
    // One replica with room for everything; rows 20 s apart, so each has ended before the next.
    const rows = Array.from({ length: n }, (_, i) => ({ t: i * 20_000, input: k * 512 + 300 + i, output: 20, ids: [...Array(k).keys(), 1000 + i] }));
    const { rows: ended, fleet } = run(scenario(traceFile(rows)));
    expect(ended.length).toBe(n);
    for (const row of ended) expect([row.seq, row.cachedTokens]).toEqual([row.seq, row.seq === 0 ? 0 : k * 512]);
    const prompt = ended.reduce((s, r) => s + r.promptTokens, 0);
    const cached = ended.reduce((s, r) => s + r.cachedTokens, 0);
    expect(cached).toBe((n - 1) * k * 512);
    // Tokens conserved: found plus prefilled is the prompt.
    expect(fleet.promptTokensComputed[0] + cached).toBe(prompt);
  });

  it('a prefix tree: each row finds the longest run of its hash ids an earlier row computed', () => {
    // A = [0 1 2], B = [0 1 3] shares 2 blocks, C = [0 4] shares 1, D = [0 1 2 5] shares 3, E = [6] none,
    // F = A again: its whole prompt is cached, and it recomputes its last block (vLLM computes the last token).
    const t = (i: number) => i * 20_000;
    const rows = [
      { t: t(0), input: 1536, output: 10, ids: [0, 1, 2] },
      { t: t(1), input: 1500, output: 10, ids: [0, 1, 3] },
      { t: t(2), input: 700, output: 10, ids: [0, 4] },
      { t: t(3), input: 2000, output: 10, ids: [0, 1, 2, 5] },
      { t: t(4), input: 512, output: 10, ids: [6] },
      { t: t(5), input: 1536, output: 10, ids: [0, 1, 2] },
    ];
    const { rows: ended } = run(scenario(traceFile(rows)));
    expect(ended.map((r) => r.cachedTokens)).toEqual([0, 1024, 512, 1536, 0, 1536 - 16]);
  });

  it('without caching, or on an Azure-format replay, nothing is found; prefix-aware routing follows the cached chain', () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ t: i * 5_000, input: 4 * 512 + 100, output: 20, ids: [i % 3, 10 + (i % 3), 20 + (i % 3), 30 + (i % 3), 100 + i] }));
    const file = traceFile(rows);
    expect(run(scenario(file, { caching: false })).rows.every((r) => r.cachedTokens === 0)).toBe(true);
    // Three chains on three replicas: prefix-aware keeps each chain on the replica that cached it.
    const pa = run(scenario(file, { replicas: 3, policy: 'prefix-aware' })).rows;
    expect(pa.filter((r) => r.cachedTokens === 4 * 512).length).toBe(27);
  });
});

/** A random Mooncake-like trace: chains of shared system blocks and conversations whose turns extend each other. */
function randomTrace(caseSeed: number): Row[] {
  const rnd = mulberry32(caseSeed * 7331 + 11);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const rows: Row[] = [];
  let next = 1000;
  const systems = Array.from({ length: int(1, 5) }, () => Array.from({ length: int(1, 8) }, () => next++));
  const convs: number[][] = [];
  let t = 0;
  for (let i = 0; i < 400; i++) {
    t += int(0, 300);
    let ids: number[];
    if (convs.length > 0 && rnd() < 0.5) {
      const c = convs[int(0, convs.length - 1)];
      for (let j = int(0, 3); j > 0; j--) c.push(next++);
      ids = c.slice();
    } else {
      ids = systems[int(0, systems.length - 1)].slice();
      for (let j = int(0, 4); j > 0; j--) ids.push(next++);
      convs.push(ids.slice());
    }
    const input = (ids.length - 1) * 512 + int(1, 512);
    rows.push({ t, input, output: int(1, 300), ids });
  }
  return rows;
}

function randomCase(caseSeed: number, engine: string): string {
  const rnd = mulberry32(caseSeed * 104729 + 1);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const file = traceFile(randomTrace(caseSeed));
  return scenario(file, {
    replicas: 1 + Math.floor(rnd() * 3),
    kv: 0.215 + rnd() * 0.02,
    engine,
    scheduler: pick(['continuous', 'chunked', 'static', 'disaggregated']),
    policy: pick(['least-outstanding', 'round-robin', 'prefix-aware', 'power-of-two']),
    extra: `incidents:\n  - { at: ${20 + Math.floor(rnd() * 60)}s, duration: 10s, deployment: a, kind: outage }\n`,
  }).replace('replicas: 1, scheduler: disaggregated', 'replicas: 2, scheduler: disaggregated');
}

const CASES = Array.from({ length: 10 }, (_, i) => i + 1);

describe('bookkeeping under preemption and outages', () => {
  let preempting = 0;
  let hitting = 0;
  it.each(CASES)('random trace %i: no block given up while a request holds it; references match the batches', (caseSeed) => {
    let fleet: Fleet | null = null;
    const restore = guardEvictions();
    const log = new Capture();
    log.afterRecord = () => {
      if (fleet !== null) checkInvariants(fleet);
    };
    try {
      const { result } = run(randomCase(caseSeed, 'collapsed'), (f) => (fleet = f), log);
      if (result.recorder.preemptions.some((p) => p > 0)) preempting++;
      if (log.rows.some((r) => r.cachedTokens > 0)) hitting++;
      expect(log.rows.length).toBe(400);
      checkInvariants(fleet!);
    } finally {
      restore();
    }
  });

  it('the random traces preempt and hit', () => {
    expect(preempting).toBeGreaterThan(CASES.length / 3);
    expect(hitting).toBe(CASES.length);
  });

  it.each(CASES)('random trace %i: step-by-step and collapsed engines identical with caching on', (caseSeed) => {
    const c = run(randomCase(caseSeed, 'collapsed'));
    const s = run(randomCase(caseSeed, 'step'));
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    expect(c.rows.length).toBe(s.rows.length);
    for (let i = 0; i < c.rows.length; i++) {
      const a = c.rows[i];
      const b = s.rows[i];
      const same = a.seq === b.seq && a.fate === b.fate && a.deployment === b.deployment && a.cachedTokens === b.cachedTokens && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
      if (!same) expect(a, `request ${a.seq} differs`).toEqual(b);
    }
    expect(c.fleet.cache!.evictions).toEqual(s.fleet.cache!.evictions);
  });
});

describe('from the CLI', () => {
  it('the bundled Mooncake scenario reruns byte-identically and hits the cache', () => {
    const out = (n: number) => join(dir, `out${n}`);
    for (const n of [1, 2]) expect(fleetsim(['run', 'scenarios/mooncake-replay.yaml', '--out', out(n), '--requests']).status).toBe(0);
    for (const f of ['summary.csv', 'pnl.csv', 'timeseries.csv', 'requests.csv']) {
      expect(readFileSync(join(out(1), f), 'utf8')).toBe(readFileSync(join(out(2), f), 'utf8'));
    }
    const [header, total] = readFileSync(join(out(1), 'summary.csv'), 'utf8').split('\n').map((l) => l.split(','));
    expect(Number(total[header.indexOf('prefix_hit_pct')])).toBeGreaterThan(50);
  });
});
