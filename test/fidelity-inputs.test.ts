/**
 * What `fidelity` and `calibrate` say about inputs that pass but probably do not mean what they
 * say (a fresh-clone trial's findings): a misspelt stack, flags that do not apply to a CSV,
 * degenerate fits, and the messages for malformed measurement files.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atBounds, fitParams } from '../src/fidelity/calibrate.js';
import { METRIC_COLUMNS, ROW_COLUMNS } from '../src/cli/fidelity.js';
import { fleetsim, ROOT, withFiles } from './helpers/cli.js';

const HEADER = 'model,silicon,tensor_parallel,dtype,stack,prompt_tokens,output_tokens,concurrency,rate_per_s,requests,metric,value,source';
const row = (stack: string, metric = 'itl_mean_s', value = '0.01') => `llama-3.1-8b,h100-sxm,1,bf16,${stack},256,32,1,,4,${metric},${value},x`;
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('fleetsim: warning: '));

describe('a stack no data file names (a typo such as vlm)', () => {
  it('fidelity warns once per file and stack at its first row, with the closest known stack; none for a known stack or version', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('vlm'), row('vlm', 'ttft_mean_s', '0.02'), row('trtllm-0.17'), row('trtllm')].join('\n') + '\n' });
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), '-q']);
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^fleetsim: warning: [^\n]*m\.csv:2: stack "vlm" is not a known stack: neither data\/stacks\.csv nor data\/efficiency\.csv names it, so the silicon's generic profile [^\n]*; closest: vllm; known: /m);
  });

  it('calibrate warns that it fits a new profile under that name', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('vlm')].join('\n') + '\n' });
    const out = join(dir, 'out');
    const r = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', out, '--params', 'mem_eff', '--max-evals', '3', '--no-cv', '-q']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/m\.csv:2: stack "vlm" is not a known stack: .*calibrate fits a new profile vlm that only deployments naming stack vlm will use; closest: vllm/);
    expect(readFileSync(join(out, 'efficiency.csv'), 'utf8')).toMatch(/^h100-sxm,vlm,/m);
  });

  it('--stack for a JSON result is warned at the flag, not again at its rows', () => {
    const json = JSON.stringify({ completed: 10, total_input_tokens: 2560, total_output_tokens: 320, request_rate: 'inf', max_concurrency: 1, output_throughput: 100, mean_itl_ms: 10 });
    const dir = withFiles({ 'r.json': json });
    const r = fleetsim(['fidelity', join(dir, 'r.json'), '--silicon', 'h100-sxm', '--model', 'llama-3.1-8b', '--stack', 'vlm', '-q']);
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toEqual([expect.stringMatching(/^fleetsim: warning: --stack vlm: stack "vlm" is not a known stack: .*; closest: vllm;/)]);
  });
});

describe('installing the fit (docs/fidelity.md, Installing the fit)', () => {
  it("calibrate's summary says where the rows are and how to use them; listed under a scenario's catalog: efficiency: they win over data/efficiency.csv's row", () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('trtllm'), row('trtllm', 'ttft_mean_s', '0.02')].join('\n') + '\n' });
    const out = join(dir, 'out');
    const r = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', out, '--params', 'mem_eff', '--max-evals', '3', '--no-cv']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^calibrate: [\d.]+ s; fitted rows in .*out\/efficiency\.csv, tables in .*out\/; to use the rows, replace or add their \(silicon, stack\) rows in data\/efficiency\.csv, or list them under a scenario's catalog: efficiency: /m);
    const fitted = parse(readFileSync(join(out, 'efficiency.csv')), { columns: true }) as Record<string, string>[];
    expect(fitted.map((e) => `${e.silicon}@${e.stack}`)).toEqual(['h100-sxm@trtllm', 'gpu@trtllm']);
    const scenario = (catalog: string) => `name: installed
horizon: 1m
deployments:
  - { name: d, model: llama-3.1-8b, silicon: h100-sxm, stack: trtllm, replicas: 1 }
workloads:
  - { name: w, tenant: t, model: llama-3.1-8b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 200 }, output_tokens: { dist: constant, value: 50 } }
${catalog}`;
    // Empty cells (cv_* with --no-cv) are left out, as a hand-written map would.
    const rows = fitted.map((e) => Object.fromEntries(Object.entries(e).filter(([, v]) => v !== '')));
    writeFileSync(join(dir, 'with.yaml'), scenario(`catalog:\n  efficiency: ${JSON.stringify(rows)}\n`));
    writeFileSync(join(dir, 'without.yaml'), scenario(''));
    const fittedTo = (file: string) => {
      const e = fleetsim(['explain', join(dir, file), '--format', 'csv']);
      expect(e.status, e.stderr).toBe(0);
      return (parse(e.stdout, { columns: true }) as Record<string, string>[])[0].fitted_to;
    };
    expect(fittedTo('without.yaml')).toMatch(/^data\/measurements\//);
    expect(fittedTo('with.yaml')).toMatch(/m\.csv line/);
  });
});

describe('a known stack with no profile on the row\'s silicon (vllm on h100-sxm: the generic profile stands in)', () => {
  it('fidelity gives the warning run and explain give, once per file, silicon and stack', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('trtllm'), row('vllm'), row('vllm', 'ttft_mean_s', '0.02'), row('vllm-0.6')].join('\n') + '\n' });
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), '-q']);
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      expect.stringMatching(/m\.csv:3: no efficiency profile for stack vllm on h100-sxm or its kind gpu in data\/efficiency\.csv: the h100-sxm profile \(stack generic\) is used instead, so the numbers are not vllm's/),
      expect.stringMatching(/m\.csv:5: no efficiency profile for stack vllm-0\.6 \(or vllm\) on h100-sxm /),
    ]);
  });

  it("fidelity warns for examples/measurements/'s vLLM result (stack vllm-0.6)", () => {
    const r = fleetsim(['fidelity', 'examples/measurements/', '--silicon', 'h100-sxm', '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/vllm-benchmark-serving\.json: no efficiency profile for stack vllm-0\.6 \(or vllm\) on h100-sxm/);
  });

  it('calibrate says the fit starts from the stand-in and writes the stack\'s own profile', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('vllm')].join('\n') + '\n' });
    const out = join(dir, 'out');
    const r = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', out, '--params', 'mem_eff', '--max-evals', '3', '--no-cv', '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/m\.csv:2: no efficiency profile for stack vllm on h100-sxm .*; calibrate starts from that profile's values and writes a new h100-sxm@vllm profile \(and gpu@vllm\) from the fit/);
    expect(readFileSync(join(out, 'efficiency.csv'), 'utf8')).toMatch(/^h100-sxm,vllm,/m);
    expect(readFileSync(join(out, 'efficiency.csv'), 'utf8')).toMatch(/^gpu,vllm,/m);
  });
});

describe('result flags on a CSV file (--silicon, --model, ...: JSON results only)', () => {
  it('fidelity and calibrate warn once per CSV file that the flags are ignored for it, and simulate the rows as they are', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('trtllm'), row('trtllm', 'ttft_mean_s', '0.02')].join('\n') + '\n' });
    const flags = ['--silicon', 'a100-80gb', '--model', 'mistral-7b'];
    const plain = fleetsim(['fidelity', join(dir, 'm.csv'), '-q']);
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), ...flags, '-q']);
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      expect.stringMatching(/^fleetsim: warning: --model mistral-7b, --silicon a100-80gb: apply to JSON results only; [^ ]*m\.csv's rows give their own model, silicon and setup, so they are ignored for it$/),
    ]);
    expect(r.stdout).toBe(plain.stdout);
    const c = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', join(dir, 'out'), '--params', 'mem_eff', '--max-evals', '3', '--no-cv', '--tensor-parallel', '2', '-q']);
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/warning: --tensor-parallel 2: applies to JSON results only; .*m\.csv's rows .* so it is ignored for it/);
  });
});

describe("calibrate's error-band text when no group can be left out", () => {
  const assumptions = (out: string) => (parse(readFileSync(join(out, 'efficiency.csv')), { columns: true }) as Record<string, string>[]).map((e) => [e.silicon, e.assumption]);

  it('one chip, one model, one length pair with cross-validation on: it was run and no group could be left out; with --no-cv: not run', () => {
    const dir = withFiles({ 'm.csv': [HEADER, row('trtllm', 'output_tok_s_per_chip', '100'), row('trtllm').replace(',1,,4,', ',8,,16,')].join('\n') + '\n' });
    const cv = join(dir, 'cv');
    expect(fleetsim(['calibrate', join(dir, 'm.csv'), '--out', cv, '--params', 'mem_eff', '--max-evals', '3', '--fold-max-evals', '3', '-q']).status).toBe(0);
    const [chip, kind] = assumptions(cv);
    expect(chip).toEqual(['h100-sxm', expect.stringMatching(/Error band \(cv_\*\): none: cross-validation was run, but no group could be left out: every row of the profile has one model and one length pair\.$/)]);
    expect(kind).toEqual(['gpu', expect.stringMatching(/Error band \(cv_\*\): none: cross-validation was run, but no chip could be left out: only h100-sxm measured\.$/)]);
    const noCv = join(dir, 'nocv');
    expect(fleetsim(['calibrate', join(dir, 'm.csv'), '--out', noCv, '--params', 'mem_eff', '--max-evals', '3', '--no-cv', '-q']).status).toBe(0);
    for (const [, a] of assumptions(noCv)) expect(a).toMatch(/Error band \(cv_\*\): none \(cross-validation not run: --no-cv\)\.$/);
  });
});

describe('calibrate on degenerate fits', () => {
  it('atBounds names each fitted factor within 1% of its range of a bound', () => {
    const params = fitParams(['gemm_eff', 'gemm_half_ridge', 'mem_eff', 'comm_latency_us']);
    // gemm_eff 0.995 is within 1% of 0.2-1 of its upper bound; mem_eff 0.753 is not of 0.75 (0.003 > 0.0025); comm_latency_us 49.96 is of 50.
    expect(atBounds(params, [0.995, 0, 0.753, 49.96])).toEqual(['gemm_eff=0.995 (upper bound 1)', 'gemm_half_ridge=0 (lower bound 0)', 'comm_latency_us=49.96 (upper bound 50)']);
    expect(atBounds(params, [0.6, 0.3, 0.8, 20])).toEqual([]);
  });

  it('warns at factors the fit put at a bound and records them in the rows\' assumption', () => {
    // Far faster than an H100 can decode Llama 3.1 8B: the fit runs mem_eff to 1 and overhead_ms to 0.
    const dir = withFiles({ 'm.csv': [HEADER, row('trtllm', 'itl_mean_s', '0.0001'), row('trtllm', 'output_tok_s', '50000')].join('\n') + '\n' });
    const out = join(dir, 'out');
    const r = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', out, '--params', 'mem_eff,overhead_ms', '--max-evals', '20', '--no-cv', '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^fleetsim: warning: .*m\.csv lines 2-3: profile gpu\/trtllm: mem_eff=1 \(upper bound 1\), overhead_ms=0 \(lower bound 0\): factors at a bound of the fit, a warning sign/m);
    for (const e of parse(readFileSync(join(out, 'efficiency.csv')), { columns: true }) as Record<string, string>[]) {
      expect(e.assumption).toMatch(/At a bound of the fit \(a warning sign: .*\): mem_eff=1 \(upper bound 1\), overhead_ms=0 \(lower bound 0\)\./);
    }
  });

  it('counts benchmark runs, not rows, against the fitted factors (the rows of one setup and load share a run)', () => {
    const metrics = ['output_tok_s', 'ttft_mean_s', 'itl_mean_s'];
    const values = ['120', '0.03', '0.008'];
    const rows = [1, 8].flatMap((users) => metrics.map((m, i) => row('trtllm', m, values[i]).replace(',1,,4,', `,${users},,${users * 4},`)));
    const dir = withFiles({ 'm.csv': [HEADER, ...rows].join('\n') + '\n' });
    const out = join(dir, 'out');
    const r = fleetsim(['calibrate', join(dir, 'm.csv'), '--out', out, '--params', 'mem_eff,overhead_ms,frontend_ms', '--max-evals', '6', '--no-cv', '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/profile gpu\/trtllm: 2 benchmark runs \(6 rows; the rows of one setup and load share a run\) for 3 factors: the fit is underdetermined/);
    expect(readFileSync(join(out, 'efficiency.csv'), 'utf8')).toMatch(/Underdetermined: 2 benchmark runs \(6 rows\) for 3 fitted factors/);
  });
});

describe('docs/fidelity.md states the fidelity CSVs as written', () => {
  const doc = readFileSync(join(ROOT, 'docs/fidelity.md'), 'utf8').replace(/\s+/g, ' ');
  const listed = (file: string) => {
    const m = new RegExp(`\`${file.replace('.', '\\.')}\` \\(([^;]*);`).exec(doc);
    return m ? m[1].split(', ').map((c) => c.replace(/`/g, '')) : [];
  };

  it("lists fidelity_rows.csv's and fidelity_metrics.csv's columns in the writer's order, and the header the command writes is that", () => {
    expect(listed('fidelity_rows.csv')).toEqual([...ROW_COLUMNS]);
    expect(listed('fidelity_metrics.csv')).toEqual([...METRIC_COLUMNS]);
    const out = join(withFiles({}), 'out');
    // The example command of the doc, as it is written there.
    expect(doc).toContain('fleetsim fidelity examples/measurements/ --silicon h100-sxm');
    const r = fleetsim(['fidelity', 'examples/measurements/', '--silicon', 'h100-sxm', '--out', out, '-q']);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'fidelity_rows.csv'), 'utf8').split('\n')[0]).toBe(ROW_COLUMNS.join(','));
    expect(readFileSync(join(out, 'fidelity_metrics.csv'), 'utf8').split('\n')[0]).toBe(METRIC_COLUMNS.join(','));
  });
});

describe('small messages', () => {
  const fidelity = (text: string, args: string[] = []) => fleetsim(['fidelity', join(withFiles({ 'm.csv': text }), 'm.csv'), '-q', ...args]);

  it('a semicolon-separated file is named as such, not "missing column model"', () => {
    const r = fidelity(`${HEADER.replace(/,/g, ';')}\n${row('trtllm').replace(/,/g, ';')}\n`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fleetsim: error: [^\n]*m\.csv:1: the header is one column with ";" in it: the file looks semicolon-separated .*save it comma-separated/);
  });

  it('a semicolon-separated file with decimal commas (0,09) is named as such, not a record-length error', () => {
    const r = fidelity(`# exported\n${HEADER.replace(/,/g, ';')}\n${row('trtllm', 'ttft_mean_s', '0.09').replace(/,/g, ';').replace('0.09', '0,09')}\n`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fleetsim: error: [^\n]*m\.csv:2: the header is one column with ";" in it: the file looks semicolon-separated /);
    expect(r.stderr).not.toMatch(/Invalid Record Length|thousands/);
  });

  it('a row one cell longer than the header hints at a thousands separator', () => {
    const r = fidelity(`${HEADER}\n${row('trtllm', 'output_tok_s', '1,850')}\n`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/m\.csv:2: malformed CSV: Invalid Record Length: expect 13, got 14 on line 2 \(a number must not have a thousands separator: 1,850 is two cells; write 1850/);
  });

  it('a quoted thousands separator ("1,800") gets the same hint', () => {
    const r = fidelity(`${HEADER}\n${row('trtllm', 'output_tok_s', '"1,800"')}\n`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/m\.csv:2: value: expected a positive number, got "1,800" \(a number must not have a thousands separator: write 1800\)/);
    const requests = fidelity(`${HEADER}\n${row('trtllm').replace(',1,,4,', ',1,,"1,000",')}\n`);
    expect(requests.status).toBe(2);
    expect(requests.stderr).toMatch(/m\.csv:2: requests: expected a positive integer, got "1,000" \(a number must not have a thousands separator: write 1000\)/);
  });

  it('a concurrency that is not whole points to rate_per_s', () => {
    for (const c of ['2.5', '2.5/s']) {
      const r = fidelity(`${HEADER}\n${row('trtllm').replace(',1,,4,', `,${c},,4,`)}\n`);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`m\\.csv:2: concurrency: expected a whole number of users, got "${c.replace('.', '\\.')}" \\(for a request rate, leave concurrency empty and give rate_per_s 2\\.5\\)`));
    }
  });

  it('a latency in a seconds column that looks like milliseconds is a warning, once per file and metric', () => {
    const r = fidelity([HEADER, row('trtllm', 'itl_mean_s', '7.2'), row('trtllm', 'ttft_mean_s', '0.02'), row('trtllm', 'itl_mean_s', '8.1').replace(',1,,4,', ',4,,8,'), row('trtllm', 'ttft_mean_s', '45').replace(',1,,4,', ',4,,8,')].join('\n') + '\n');
    expect(r.status).toBe(0);
    expect(warnings(r.stderr)).toEqual([
      expect.stringMatching(/m\.csv:2: itl_mean_s 7\.2 s is over 1 s for an inter-token latency \(and 1 more itl_mean_s row of the file\): the metric is in seconds; if 7\.2 is milliseconds, write 0\.0072$/),
      expect.stringMatching(/m\.csv:5: ttft_mean_s 45 s is over 30 s for a time to first token: .* write 0\.045$/),
    ]);
  });

  it("commander's usage errors carry the fleetsim: error: prefix every other error has (exit 2)", () => {
    const tp = fleetsim(['fidelity', 'm.csv', '--tensor-parallel', '0']);
    expect(tp.status).toBe(2);
    expect(tp.stderr).toMatch(/^fleetsim: error: option '--tensor-parallel <n>' argument '0' is invalid\. expected a positive integer\n\(run with --help for usage\)\n$/);
    expect(fleetsim(['run', 'x.yaml']).stderr).toMatch(/^fleetsim: error: required option '-o, --out <dir>' not specified$/m);
    expect(fleetsim(['calibrate', 'm.csv', '--out', 'o', '--bogus']).stderr).toMatch(/^fleetsim: error: unknown option '--bogus'$/m);
  });
});
