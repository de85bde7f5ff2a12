import { describe, it, expect } from 'vitest';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fleetsim, listDir, ROOT, SMALL_SCENARIO, withFiles } from './helpers/cli.js';

/**
 * Every kind of bad input: exit code 2, one line naming the file and line/column or field path,
 * no stack trace, and no output files.
 */
function expectRejected(files: Record<string, string>, expected: RegExp[]) {
  const dir = withFiles(files);
  const out = join(dir, 'out');
  const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', out]);
  expect(r.status).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr).toContain('scenario.yaml');
  for (const e of expected) expect(r.stderr).toMatch(e);
  expect(listDir(out)).toEqual([]);
  expect(listDir(dir).filter((f) => f.startsWith('.fleetsim-tmp'))).toEqual([]);
  return r.stderr;
}

describe('bad input is refused with one clear message and exit code 2', () => {
  it('names a misspelt top-level key with its line and column', () => {
    const msg = expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('horizon: 5m', 'horizn: 5m') }, [/unknown key "horizn"/]);
    expect(msg).toMatch(/scenario\.yaml:3:1: horizn:/);
    expect(msg).toMatch(/unknown key "horizn" \(did you mean "horizon"\?\)/);
  });

  it('lists the keys allowed where an unknown key is far from all of them, through arrays and unions', () => {
    const tp = expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('silicon: mi300x', 'silicon: mi300x, tp: 2') }, [/unknown key "tp"; expected one of: /]);
    expect(tp).toMatch(/deployments\[1\]\.tp: .*\btensor_parallel\b.*\bkv_fraction\b/);
    expect(tp).not.toMatch(/\bprompt_tokens\b/);
  });

  it("names the branch a key belongs to in a union (closed takes concurrency, rate is poisson's), never \"did you mean\" the key itself", () => {
    const closed = (arrival: string) => ({ 'scenario.yaml': SMALL_SCENARIO.replace('arrival: { process: poisson, rate: 20/s }', `arrival: { ${arrival} }`) });
    const rate = expectRejected(closed('process: closed, rate: 16, requests: 100'), [
      /workloads\[0\]\.arrival\.rate: unknown key "rate" for process: closed \("rate" belongs to process: poisson or diurnal; closed takes concurrency, think_time, requests\)/,
    ]);
    expect(rate).not.toMatch(/did you mean "rate"/);
    expectRejected(closed('process: closed, concurency: 16'), [/arrival\.concurency: unknown key "concurency" \(did you mean "concurrency"\?\)/]);
    // A rate where users are meant: a plain message, not zod's "expected number, received string".
    expectRejected(closed('process: closed, concurrency: 2.5/s'), [
      /arrival\.concurrency: expected a whole number of users, e\.g\. concurrency: 16, got "2\.5\/s" \(for an offered rate use process: poisson, rate: 2\.5\/s\)$/m,
    ]);
    expectRejected(closed('process: closed, concurrency: 2.5'), [/arrival\.concurrency: expected a whole number of users, .*got 2\.5 \(for an offered rate use process: poisson, rate: 2\.5\/s\)$/m]);
  });

  it('names an unknown silicon id and the known ones', () => {
    const msg = expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('silicon: mi300x', 'silicon: mi301x') }, [
      /deployments\[1\]\.silicon/,
      /unknown silicon "mi301x"/,
      /h100-sxm/,
    ]);
    expect(msg).toMatch(/scenario\.yaml:9:\d+:/);
  });

  it('refuses a negative rate at its field path', () => {
    expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('rate: 20/s', 'rate: -20/s') }, [
      /workloads\[0\]\.arrival\.rate/,
      /non-negative rate/,
    ]);
  });

  it('reports malformed YAML with line and column', () => {
    expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('seed: 3', 'seed: [3') }, [/malformed YAML/, /scenario\.yaml:\d+:\d+/]);
  });

  it('names a missing trace file', () => {
    const text = SMALL_SCENARIO.replace('arrival: { process: poisson, rate: 2/s }', 'arrival: { process: trace, file: nope.csv }');
    expectRejected({ 'scenario.yaml': text }, [/workloads\[1\]\.arrival\.file/, /nope\.csv/]);
  });

  it('names the trace row with a non-numeric token count', () => {
    const trace = 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:47.0000000,abc,10\n';
    const text = SMALL_SCENARIO.replace('arrival: { process: poisson, rate: 2/s }', 'arrival: { process: trace, file: t.csv }');
    const dir = withFiles({ 'scenario.yaml': text, 't.csv': trace });
    const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/t\.csv:3:\d+: .*ContextTokens.*"abc"/);
    expect(listDir(join(dir, 'out'))).toEqual([]);
  });

  it('names a missing or empty trace behind empirical lengths at the length field', () => {
    const empirical = (file: string) =>
      SMALL_SCENARIO.replace('prompt_tokens: { dist: lognormal, median: 500, p99: 3000 }', `prompt_tokens: { dist: empirical, file: ${file} }`);
    expectRejected({ 'scenario.yaml': empirical('nope.csv') }, [/workloads\[0\]\.prompt_tokens\.file/, /cannot read trace file: .*nope\.csv/]);
    const dir = withFiles({ 'scenario.yaml': empirical('empty.csv'), 'empty.csv': 'TIMESTAMP,ContextTokens,GeneratedTokens\n' });
    const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/empty\.csv:2: .*no rows/);
  });

  it('refuses a model whose weights do not fit its chips', () => {
    const text = SMALL_SCENARIO.replace(
      '{ name: mix-mi300x, model: mixtral-8x7b, silicon: mi300x, replicas: 1, dtype: fp8 }',
      '{ name: big, model: llama-3.1-70b, silicon: h100-sxm, replicas: 1, dtype: bf16 }',
    );
    expectRejected({ 'scenario.yaml': text }, [/deployments\[1\]/, /weights .* do not fit 1 x h100-sxm/]);
  });

  it('refuses a misspelt key inside a deployment, pointing at the key', () => {
    expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('replicas: 1, dtype: fp8', 'replica: 1, dtype: fp8') }, [
      /deployments\[1\]\.replica/,
      /unknown key/,
    ]);
  });

  it('reports a missing scenario file', () => {
    const r = fleetsim(['validate', join(ROOT, 'no-such.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no-such\.yaml: cannot read scenario file: ENOENT/);
  });

  it.each([
    ['a share over 1', '    prefix: { tokens: 100, groups: 2, share: 80 }', /workloads\[0\]\.prefix\.share: expected a number at most 1, got 80 \(if a share is meant, 80% is 0\.8\)/],
    ['a percentage string', '    prefix: { tokens: 100, groups: 2, share: "60%" }', /workloads\[0\]\.prefix\.share: expected a number, got "60%" \(if a share is meant, 60% is 0\.6\)/],
    ['a negative share', '    prefix: { tokens: 100, groups: 2, share: -1 }', /workloads\[0\]\.prefix\.share: expected a number at least 0, got -1$/m],
    ['a bare count for a distribution', '    session: { turns: 5 }', /workloads\[0\]\.session\.turns: expected a distribution such as \{ dist: constant, value: 5 \}, got 5/],
  ])('says what a number or distribution key expects in plain words: %s', (_what, line, expected) => {
    const text = `name: e
horizon: 60s
deployments:
  - { name: h100, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 1/s }
    prompt_tokens: { dist: constant, value: 1000 }
    output_tokens: { dist: constant, value: 200 }
${line}
`;
    expectRejected({ 'scenario.yaml': text }, [/scenario\.yaml:12:\d+: /, expected]);
  });

  it('accepts the same file through validate when it is right', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const r = fleetsim(['validate', join(dir, 'scenario.yaml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ok \(3 deployments, 5 replicas, 2 workloads, 1 incident\)/);
  });

  it('accepts JSON scenarios as well as YAML', () => {
    const json = JSON.stringify({
      name: 'json',
      horizon: '1m',
      deployments: [{ name: 'd', model: 'llama-3.1-8b', silicon: 'h100-sxm', replicas: 1 }],
      workloads: [
        {
          name: 'w', tenant: 't', model: 'llama-3.1-8b', arrival: { process: 'poisson', rate: '1/s' },
          prompt_tokens: { dist: 'constant', value: 100 }, output_tokens: { dist: 'constant', value: 10 },
        },
      ],
    });
    const d2 = withFiles({ 'scenario.json': json });
    const r = fleetsim(['validate', join(d2, 'scenario.json')]);
    expect(r.status).toBe(0);
  });
});

describe('an --out that cannot be a directory', () => {
  it('is refused before simulating, with exit code 2', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO, 'taken': 'x' });
    const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'taken')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/taken: --out must name a directory/);
  });

  it('is refused by every command that writes one: an empty name, a file, a path under a file', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO, 'taken': 'x' });
    const scenario = join(dir, 'scenario.yaml');
    const taken = join(dir, 'taken');
    const broken = join(dir, 'broken');
    symlinkSync(join(dir, 'nowhere'), broken);
    const cases: [string[], string][] = [
      [['run', scenario, '--out', broken], `fleetsim: error: ${broken}: --out must name a directory, and this is a broken symbolic link`],
      [['run', scenario, '--out', ''], 'fleetsim: error: --out: --out needs a directory name, got an empty one'],
      [['run', scenario, '--out', join(taken, 'sub')], `fleetsim: error: ${join(taken, 'sub')}: --out must name a directory, and ${taken} is a file`],
      [['sweep', scenario, '--out', taken], `fleetsim: error: ${taken}: --out must name a directory, and this is a file`],
      [['plan', scenario, '--out', taken], `fleetsim: error: ${taken}: --out must name a directory, and this is a file`],
      [['merge', dir, '--out', taken], `fleetsim: error: ${taken}: --out must name a directory, and this is a file`],
    ];
    for (const [args, message] of cases) {
      const r = fleetsim(args, dir);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(message);
    }
    expect(listDir(dir).sort()).toEqual(['broken', 'scenario.yaml', 'taken']);
  });
});

describe('incidents', () => {
  it('must start before the horizon', () => {
    const text = SMALL_SCENARIO.replace('{ at: 2m, duration: 1m, deployment: l8-h100 }', '{ at: 10h, duration: 1m, deployment: l8-h100 }');
    expectRejected({ 'scenario.yaml': text }, [/incidents\[0\]\.at/, /after the horizon/]);
  });

  it('must last a positive time', () => {
    const text = SMALL_SCENARIO.replace('{ at: 2m, duration: 1m, deployment: l8-h100 }', '{ at: 2m, duration: 0s, deployment: l8-h100 }');
    expectRejected({ 'scenario.yaml': text }, [/incidents\[0\]\.duration/, /positive duration/]);
  });
});

describe('--horizon shorter than the file', () => {
  it('runs the first part of the scenario, leaving out incidents that start after the cut', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'out'), '--horizon', '1m', '-q']);
    expect(r.status).toBe(0);
    expect(listDir(join(dir, 'out'))).toContain('summary.csv');
  });
});

describe('catalog overrides in a scenario are checked like the built-in catalog', () => {
  const withCatalog = (yaml: string) => SMALL_SCENARIO.replace('deployments:', `catalog:\n${yaml}\ndeployments:`);
  const cases: [string, RegExp][] = [
    ['  silicon: [{ id: h100-sxm, mem_bw_gbps: 0 }]', /catalog\.silicon\[0\]\.mem_bw_gbps: expected a number above 0, got "0"/],
    ['  efficiency: [{ silicon: h100-sxm, mem_eff: 0 }]', /catalog\.efficiency\[0\]\.mem_eff: expected a number above 0 and at most 1, got "0"/],
    ['  efficiency: [{ silicon: h100-sxm, overhead_ms: -50 }]', /overhead_ms: expected a number of at least 0/],
    ['  silicon: [{ id: h100-sxm, usd_per_chip_hour: -10 }]', /usd_per_chip_hour: expected a number of at least 0/],
    ['  prices: [{ model: mistral-7b, vendor_share: 2 }]', /vendor_share: expected a number from 0 to 1/],
    ['  models: [{ id: mistral-7b, layers: 0 }]', /layers: expected an integer of at least 1/],
    ['  silicon: [{ id: h100-sxm, mem_bw: 5 }]', /unknown catalog column "mem_bw"/],
    // Renamed with the ridge-point refit (CHANGELOG): a file written for the old name is told the new one.
    ['  efficiency: [{ silicon: h100-sxm, gemm_half_tokens: 30 }]', /catalog column "gemm_half_tokens" was renamed: gemm_half_ridge, a share of the chip's ridge point/],
    ['  efficiency: [{ silicon: h100-sxm, moe_half_tokens: 50 }]', /catalog column "moe_half_tokens" was renamed: moe_half_ridge/],
    // A half point carried over in tokens into the renamed column (fresh-clone trial: H100 prefill 32,141 -> 3,056 tok/s, silently).
    ['  efficiency: [{ silicon: h100-sxm, gemm_half_ridge: 32.4 }]', /gemm_half_ridge: expected a number from 0 to 2\.56, got "32\.4" \(a share of the chip's ridge point, not tokens: divide a value in tokens by the ridge/],
    ['  efficiency: [{ silicon: h100-sxm, moe_half_ridge: 55 }]', /moe_half_ridge: expected a number from 0 to 2\.56, got "55"/],
  ];
  for (const [yaml, expected] of cases) {
    it(`refuses ${yaml.trim()} with its line and column`, () => {
      expectRejected({ 'scenario.yaml': withCatalog(yaml) }, [expected, /scenario\.yaml:8:\d+:/]);
    });
  }
});

describe('fallbacks', () => {
  it('may not repeat the workload model', () => {
    const text = SMALL_SCENARIO.replace('fallback: [mixtral-8x7b]', 'fallback: [llama-3.1-8b]');
    expectRejected({ 'scenario.yaml': text }, [/workloads\[0\]\.fallback\[0\]/, /already the workload's model/]);
  });
});

describe('odd values', () => {
  it('names the JSON syntax error of a .json scenario with its line and column', () => {
    const dir = withFiles({ 'scenario.json': '{\n  "name": "x",\n  "horizon": "1m",\n}\n' });
    const r = fleetsim(['validate', join(dir, 'scenario.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/scenario\.json:4:1: malformed JSON/);
  });

  it('refuses an infinite duration in words a user can act on', () => {
    expectRejected({ 'scenario.yaml': SMALL_SCENARIO.replace('horizon: 5m', 'horizon: .inf') }, [/horizon: expected a finite number, got Infinity/]);
  });
});

describe('--set edits', () => {
  it('are blamed for the errors they cause, not the scenario file', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'out'), '--set', 'deployments[1].silicon=h101']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fleetsim: error: --set deployments\[1\]\.silicon=h101: deployments\[1\]\.silicon: unknown silicon "h101"/);
    expect(listDir(join(dir, 'out'))).toEqual([]);
  });
});

describe('count flags', () => {
  it('refuse --replications 0 before writing anything', () => {
    const dir = withFiles({ 'scenario.yaml': SMALL_SCENARIO });
    const r = fleetsim(['run', join(dir, 'scenario.yaml'), '--out', join(dir, 'out'), '--replications', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--replications <n>' argument '0' is invalid\. expected a positive integer/);
    expect(listDir(join(dir, 'out'))).toEqual([]);
  });
});
