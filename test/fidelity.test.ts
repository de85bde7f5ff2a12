/**
 * `fleetsim fidelity` (issue 16 item 6): a tiny measurement file end to end, the per-metric
 * summary, --out CSVs, bad rows (exit 2 naming file and line), and the row simulator's metrics
 * against the closed-loop and rate definitions.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/catalog.js';
import { describeRows } from '../src/fidelity/calibrate.js';
import { readMeasurementCsv, readMeasurements, readVllmResult, rowName, type Measurement, type ResultDefaults } from '../src/fidelity/measurements.js';
import { errorPct, runFidelity, summarizeErrors } from '../src/fidelity/fidelity.js';
import { kvSequences, loadPlan, percentile, rowScenario, simulateMeasurement } from '../src/fidelity/simulate-row.js';
import { CLI, fleetsim, tempDir, withFiles } from './helpers/cli.js';

const HEADER = 'model,silicon,tensor_parallel,dtype,stack,prompt_tokens,output_tokens,concurrency,rate_per_s,requests,metric,value,source';
const TINY = `# a comment line
${HEADER}
llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,output_tok_s_per_chip,2000,made up for the test
llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,ttft_mean_s,0.05,made up for the test
llama-3.1-8b,a100-80gb,1,bf16,test,uniform:100:900,lognormal:100:400,,4,200,itl_mean_s,0.02,made up for the test
`;

describe('fleetsim fidelity', () => {
  it('prints predicted vs measured per row and MAPE / median / worst per metric, and --out writes both CSVs', () => {
    const dir = withFiles({ 'm.csv': TINY });
    const out = join(tempDir(), 'out');
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), '--out', out]);
    expect(r.stderr).toMatch(/3 rows \(2 simulations\)/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/m\.csv:3 .*output_tok_s_per_chip/);
    expect(r.stdout).toMatch(/MAPE_%/);
    const rows = readFileSync(join(out, 'fidelity_rows.csv'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/^row,model,silicon,.*measured,predicted,error_pct,source$/);
    const metrics = readFileSync(join(out, 'fidelity_metrics.csv'), 'utf8').trim().split('\n');
    expect(metrics.map((l) => l.split(',')[0])).toEqual(['metric', 'output_tok_s_per_chip', 'ttft_mean_s', 'itl_mean_s']);
    // The printed error is (predicted - measured) / measured of the written cells.
    const cells = rows[1].split(',');
    const measured = Number(cells[11]);
    const predicted = Number(cells[12]);
    expect(Number(cells[13])).toBeCloseTo(errorPct(predicted, measured), 1);
    // Deterministic: the same file gives the same bytes.
    const out2 = join(tempDir(), 'out');
    fleetsim(['fidelity', join(dir, 'm.csv'), '--out', out2, '-q']);
    expect(readFileSync(join(out2, 'fidelity_rows.csv'), 'utf8')).toBe(readFileSync(join(out, 'fidelity_rows.csv'), 'utf8'));
  });

  const bad: [string, string, RegExp][] = [
    ['unknown model', 'llama-9-9b,h100-sxm,1,fp8,test,512,128,16,,200,output_tok_s_per_chip,2000,x', /m\.csv:3: model: unknown model "llama-9-9b"/],
    ['missing metric', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,,2000,x', /m\.csv:3: metric: missing value/],
    ['unknown metric', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,speed,2000,x', /m\.csv:3: metric: expected one of output_tok_s_per_chip/],
    ['non-numeric value', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,ttft_mean_s,fast,x', /m\.csv:3: value: expected a positive number, got "fast"/],
    ['a hexadecimal value (Number() reads 0x10 as 16)', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,output_tok_s_per_chip,0x10,x', /m\.csv:3: value: expected a positive number, got "0x10"/],
    ['a hexadecimal concurrency', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,0x10,,200,output_tok_s_per_chip,2000,x', /m\.csv:3: concurrency: expected a positive integer, got "0x10"/],
    ['Infinity as a value', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,output_tok_s_per_chip,Infinity,x', /m\.csv:3: value: expected a positive number, got "Infinity"/],
    ['both loads', 'llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,3,200,ttft_mean_s,1,x', /m\.csv:3: give exactly one of concurrency and rate_per_s/],
    ['bad length', 'llama-3.1-8b,h100-sxm,1,fp8,test,zipf:2,128,16,,200,ttft_mean_s,1,x', /m\.csv:3: prompt_tokens: expected tokens as N/],
  ];
  for (const [what, row, message] of bad) {
    it(`exits 2 naming the file and row for ${what}`, () => {
      const dir = withFiles({ 'm.csv': `${HEADER}\nllama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,ttft_mean_s,0.05,ok\n${row}\n` });
      const r = fleetsim(['fidelity', join(dir, 'm.csv')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  }

  it('prints an infinite rate as rate_per_s writes it, inf (was Infinity/s), on stdout and in fidelity_rows.csv', () => {
    const dir = withFiles({ 'm.csv': `${HEADER}\nllama-3.1-8b,h100-sxm,1,fp8,test,256,32,,inf,20,output_tok_s_per_chip,2000,x\n` });
    const out = join(tempDir(), 'out');
    const r = fleetsim(['fidelity', join(dir, 'm.csv'), '--out', out, '-q']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ rate inf /);
    expect(r.stdout + r.stderr).not.toMatch(/Infinity/);
    expect(readFileSync(join(out, 'fidelity_rows.csv'), 'utf8')).toMatch(/,rate inf,/);
  });

  it('prints progress only when stderr is a terminal (README), or with --progress; the summary line either way', () => {
    const dir = withFiles({ 'm.csv': TINY });
    const env = { ...process.env };
    delete env.CI;
    const cli = (args: string[]) => spawnSync(process.execPath, [CLI, 'fidelity', join(dir, 'm.csv'), ...args], { encoding: 'utf8', env });
    const piped = cli([]);
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toMatch(/^fidelity: \d+\/\d+ /m);
    expect(piped.stderr).toMatch(/^fidelity: 3 rows \(2 simulations\) in /m);
    expect(cli(['--progress']).stderr).toMatch(/^fidelity: 1\/2 llama-3\.1-8b on h100-sxm x1, concurrency 16\n/m);
    // -q silences progress and the summary; the warning for the made-up stack test is about the input.
    expect(cli(['--progress', '-q']).stderr.replace(/^fleetsim: warning: .*\n/gm, '')).toBe('');
  });

  it('keeps rows with an exclude reason unsimulated', () => {
    const dir = withFiles({ 'm.csv': `${HEADER},exclude\nnot-a-model,h100-sxm,1,fp8,test,512,128,16,,200,ttft_mean_s,0.05,x,not in the catalog\n` + TINY.split('\n')[2] + ',\n' });
    const r = fleetsim(['fidelity', join(dir, 'm.csv')]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/1 rows excluded/);
  });
});

describe('the row simulator', () => {
  const catalog = loadCatalog();
  const rows = (text: string) => readMeasurementCsv('t.csv', `${HEADER}\n${text}\n`);

  it('runs a closed loop of the given users and computes throughput as tokens over the run', () => {
    const [m] = rows('llama-3.1-8b,h100-sxm,1,fp8,test,1000,200,32,,300,output_tok_s_per_chip,1,x');
    expect(loadPlan(m).arrival).toEqual({ process: 'closed', concurrency: 32, requests: 300 });
    const sim = simulateMeasurement(m);
    expect(sim.requests).toBe(300);
    // Little's law for the closed loop: 32 users = request rate x mean E2E (no think time).
    const rate = sim.metrics.output_tok_s / 200;
    expect(rate * sim.metrics.e2e_mean_s).toBeGreaterThan(0.85 * 32);
    expect(rate * sim.metrics.e2e_mean_s).toBeLessThanOrEqual(32 * 1.001);
    expect(sim.metrics.total_tok_s).toBeCloseTo((sim.metrics.output_tok_s * 1200) / 200, 6);
    expect(sim.metrics.itl_mean_s).toBeCloseTo(sim.metrics.tpot_mean_s, 9); // constant lengths: the same
    expect(catalog.models.has(m.model)).toBe(true);
  });

  it('kv_reserve full (TensorRT-LLM GUARANTEED_NO_EVICT) runs the sequences the KV cache holds to their end and never recomputes', () => {
    // Llama 3.1 70B FP8 on one H100 at 500/2000: the KV cache holds a few dozen whole sequences.
    const text = 'model,silicon,tensor_parallel,dtype,stack,max_batch,kv_reserve,prompt_tokens,output_tokens,concurrency,rate_per_s,requests,metric,value,source\n' +
      'llama-3.1-70b,h100-sxm,1,fp8,test,2048,full,500,2000,offline,,,output_tok_s_per_chip,1,x\n' +
      'llama-3.1-70b,h100-sxm,1,fp8,test,2048,,500,2000,offline,,,output_tok_s_per_chip,1,x\n';
    const [full, prompt] = readMeasurementCsv('k.csv', text);
    expect(full.kvReserve).toBe('full');
    expect(prompt.kvReserve).toBe(null);
    const sc = rowScenario(full);
    const seqs = kvSequences(full, sc);
    expect(seqs).toBeGreaterThan(4);
    expect(seqs).toBeLessThan(100);
    expect(sc.deployments[0].maxBatch).toBe(seqs);
    expect(rowScenario(prompt).deployments[0].maxBatch).toBe(2048);
    // Reserving only the prompt packs sequences at their current length (1500 tokens on average,
    // not 2500), so more decode at once despite the preemptions; reserving the whole sequence runs
    // fewer, memory-bound at the same step time: less throughput.
    const fullTok = simulateMeasurement(full).metrics.output_tok_s_per_chip;
    expect(fullTok).toBeLessThan(0.85 * simulateMeasurement(prompt).metrics.output_tok_s_per_chip);
    expect(() => readMeasurementCsv('k.csv', text.replace(',full,', ',all,'))).toThrow(/kv_reserve: expected prompt or full, got "all"/);
  });

  it('offline saturates: more throughput than a light closed loop, and stable in the row count', () => {
    const [offline, light] = rows(
      'llama-3.1-8b,h100-sxm,1,fp8,test,512,256,offline,,,output_tok_s_per_chip,1,x\nllama-3.1-8b,h100-sxm,1,fp8,test,512,256,4,,,output_tok_s_per_chip,1,x',
    );
    const full = simulateMeasurement(offline).metrics.output_tok_s_per_chip;
    expect(full).toBeGreaterThan(5 * simulateMeasurement(light).metrics.output_tok_s_per_chip);
    const longer: Measurement = { ...offline, requests: 3000 };
    expect(Math.abs(simulateMeasurement(longer).metrics.output_tok_s_per_chip / full - 1)).toBeLessThan(0.03);
  });

  it('a light open-loop rate is carried: throughput ~ rate x output tokens', () => {
    const [m] = rows('llama-3.1-8b,h100-sxm,1,fp8,test,500,100,,2,400,output_tok_s_per_chip,1,x');
    const sim = simulateMeasurement(m);
    expect(sim.metrics.requests_per_s).toBeGreaterThan(1.7);
    expect(sim.metrics.requests_per_s).toBeLessThan(2.3);
  });

  it('takes catalog overrides (how calibrate tries parameters): a lower GEMM efficiency slows a compute-bound offline row', () => {
    const [m] = rows('llama-3.1-8b,h100-sxm,1,fp8,test,2048,128,offline,,,output_tok_s_per_chip,1,x');
    const base = simulateMeasurement(m).metrics.output_tok_s_per_chip;
    const e = catalog.efficiency.get('h100-sxm')!;
    const halved = {
      silicon: 'h100-sxm', gemm_eff: e.gemmEff / 2, gemm_half_ridge: e.gemmHalfRidge, mem_eff: e.memEff,
      kv_read_eff: e.kvReadEff, attn_eff: e.attnEff, moe_half_ridge: e.moeHalfRidge, moe_imbalance: e.moeImbalance,
      comm_eff: e.commEff, overhead_ms: e.overheadMs, overhead_per_seq_us: e.overheadPerSeqUs, source: 'test', assumption: '',
      // The row runs FP8 on H100: its GEMMs take gemm_eff_8bit when the profile gives one.
      ...(Number.isFinite(e.gemmEff8bit) ? { gemm_eff_8bit: e.gemmEff8bit / 2 } : {}),
    };
    const slow = simulateMeasurement(m, { catalog: { efficiency: [halved] } }).metrics.output_tok_s_per_chip;
    expect(slow).toBeLessThan(0.8 * base);
  });

  it('summarises errors per metric: MAPE, median and the worst signed error', () => {
    const [a] = rows('llama-3.1-8b,h100-sxm,1,fp8,test,512,128,16,,200,ttft_mean_s,1,x');
    const mk = (e: number, line: number) => ({ measurement: { ...a, line }, predicted: 1 + e / 100, errorPct: e });
    const [s] = summarizeErrors([mk(10, 2), mk(-30, 3), mk(5, 4)]);
    expect(s).toMatchObject({ metric: 'ttft_mean_s', rows: 3, mapePct: 15, medianAbsPct: 10, worstPct: -30, worstRow: 't.csv:3' });
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
  });

  it('runFidelity simulates each setup once and is deterministic', () => {
    const list = rows('llama-3.1-8b,h100-sxm,1,fp8,test,512,128,8,,100,ttft_mean_s,0.05,x\nllama-3.1-8b,h100-sxm,1,fp8,test,512,128,8,,100,itl_mean_s,0.01,x');
    const r1 = runFidelity(list);
    expect(r1.simulations).toBe(1);
    expect(runFidelity(list).rows.map((r) => r.predicted)).toEqual(r1.rows.map((r) => r.predicted));
  });
});

describe('vLLM and GuideLLM results', () => {
  const catalog = loadCatalog();
  it('reads the shipped vLLM example into rows with the documented mapping', () => {
    const r = fleetsim(['fidelity', 'examples/measurements/vllm-benchmark-serving.json', '--out', join(tempDir(), 'o')]);
    expect(r.status).toBe(0);
    // A vLLM result file is one result: its rows are named by the file (the metric column tells them
    // apart), not by a counter that looked like a line (`vllm-benchmark-serving.json:1`, `:2`, ...).
    expect(r.stdout).toMatch(/vllm-benchmark-serving\.json +llama-3\.1-8b +h100-sxm +1 +concurrency 16 +output_tok_s_per_chip +1340/);
    expect(r.stdout).not.toMatch(/vllm-benchmark-serving\.json:\d/);
    expect(r.stdout).toMatch(/ttft_mean_s +0\.0951/);
    expect(r.stdout).toMatch(/itl_mean_s +0\.0116/);
  });

  it("refuses a flag that contradicts the result's metadata (exit 2 naming both), and takes one that agrees", () => {
    const file = 'examples/measurements/vllm-benchmark-serving.json';
    const r = fleetsim(['fidelity', file, '--silicon', 'a100-80gb']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/vllm-benchmark-serving\.json: --silicon a100-80gb contradicts the result's metadata silicon=h100-sxm/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fleetsim(['fidelity', file, '--silicon', 'h100-sxm', '-q']).status).toBe(0);
  });

  // Every flag of readVllmResult's table of (metadata key, flag), each against a result whose
  // metadata gives that key: a different value is refused naming both, the same value is taken.
  const vllmJson = JSON.parse(readFileSync('examples/measurements/vllm-benchmark-serving.json', 'utf8')) as Record<string, unknown>;
  const meta: Record<string, unknown> = { ...vllmJson, model: 'meta-llama/Llama-3.1-8B-Instruct', replicas: '2' };
  it.each<[string, keyof ResultDefaults, string, string | number, string | number]>([
    ['--model', 'model', 'model', 'mistral-7b', 'llama-3.1-8b'],
    ['--silicon', 'silicon', 'silicon', 'a100-80gb', 'h100-sxm'],
    ['--tensor-parallel', 'tensorParallel', 'tensor_parallel', 2, 1],
    ['--replicas', 'replicas', 'replicas', 4, 2],
    ['--dtype', 'dtype', 'dtype', 'fp8', 'bf16'],
    ['--stack', 'stack', 'stack', 'trtllm', 'vllm-0.6'],
  ])('vLLM result: %s contradicting the metadata is refused, agreeing is taken', (flag, option, key, other, same) => {
    const metaValue = String(meta[key]);
    expect(() => readVllmResult('r.json', meta, { [option]: other }, catalog)).toThrow(
      `${flag} ${other} contradicts the result's metadata ${key}=${metaValue} (drop the flag, or use a result measured on that setup)`,
    );
    const rows = readVllmResult('r.json', meta, { [option]: same }, catalog);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('reads the shipped GuideLLM example, one set of rows per benchmark, with the strategy as the load', () => {
    const r = fleetsim(['fidelity', 'examples/measurements/guidellm-benchmarks.json', '--silicon', 'h100-sxm', '-q']);
    expect(r.status).toBe(0);
    // Each row is named by its entry's JSON path, which finds it in the file (was a counter, `:1`, `:2`).
    expect(r.stdout).toMatch(/guidellm-benchmarks\.json benchmarks\[0\] .*concurrency 8 +output_tok_s_per_chip +1001/);
    expect(r.stdout).toMatch(/guidellm-benchmarks\.json benchmarks\[1\] .*rate 2\/s +itl_mean_s +0\.00670/);
    expect(r.stdout).not.toMatch(/guidellm-benchmarks\.json:\d/);
    const noSilicon = fleetsim(['fidelity', 'examples/measurements/guidellm-benchmarks.json']);
    expect(noSilicon.status).toBe(2);
    expect(noSilicon.stderr).toMatch(/guidellm-benchmarks\.json: benchmarks\[0\]: GuideLLM report: no silicon \(pass --silicon\)/);
  });

  it('names JSON rows by where they are in fidelity_rows.csv, fidelity_metrics.csv and errors; CSV rows keep file:line', () => {
    const out = join(tempDir(), 'o');
    const r = fleetsim(['fidelity', 'examples/measurements/', '--silicon', 'h100-sxm', '--out', out, '-q']);
    expect(r.status, r.stderr).toBe(0);
    const rows = parse(readFileSync(join(out, 'fidelity_rows.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    const names = [...new Set(rows.map((x) => x.row))];
    expect(names).toEqual([
      'examples/measurements/guidellm-benchmarks.json benchmarks[0]',
      'examples/measurements/guidellm-benchmarks.json benchmarks[1]',
      'examples/measurements/vllm-benchmark-serving.json',
    ]);
    // The GuideLLM entry named is the one whose strategy the row's load is.
    const guidellm = JSON.parse(readFileSync('examples/measurements/guidellm-benchmarks.json', 'utf8'));
    expect(guidellm.benchmarks[1].args.strategy).toMatchObject({ type_: 'constant', rate: 2 });
    expect(rows.filter((x) => x.row.endsWith('benchmarks[1]')).every((x) => x.load === 'rate 2/s')).toBe(true);
    const metrics = readFileSync(join(out, 'fidelity_metrics.csv'), 'utf8');
    expect(metrics).not.toMatch(/\.json:\d/);
    // A bad value in a JSON entry names the entry (GuideLLM) or the key (vLLM); a CSV row its line.
    const bad = JSON.parse(JSON.stringify(guidellm));
    bad.benchmarks[1].args.strategy = { type_: 'sweep' };
    const vllm = JSON.parse(readFileSync('examples/measurements/vllm-benchmark-serving.json', 'utf8'));
    const dir = withFiles({ 'g.json': JSON.stringify(bad), 'v.json': JSON.stringify({ ...vllm, output_throughput: 'fast' }) });
    const g = fleetsim(['fidelity', join(dir, 'g.json'), '--silicon', 'h100-sxm']);
    expect(g.status).toBe(2);
    expect(g.stderr).toMatch(/g\.json: benchmarks\[1\]: GuideLLM report: unknown strategy "sweep"/);
    const v = fleetsim(['fidelity', join(dir, 'v.json')]);
    expect(v.status).toBe(2);
    expect(v.stderr).toMatch(/v\.json: output_throughput: expected a number, got "fast"/);
  });

  it('describeRows, as fitted_to and the warnings give them: CSV lines, GuideLLM entries, the vLLM file', () => {
    const g = readMeasurements('examples/measurements/guidellm-benchmarks.json', catalog, { silicon: 'h100-sxm' });
    const v = readMeasurements('examples/measurements/vllm-benchmark-serving.json', catalog);
    const c = readMeasurements('data/measurements/mlperf-inference-llama2-70b.csv', catalog).filter((m) => m.exclude === '');
    expect(c.map((m) => m.line)).toEqual([4, 6]);
    expect(describeRows([...c, ...g, ...v])).toBe(
      'data/measurements/mlperf-inference-llama2-70b.csv lines 4,6; ' +
        'examples/measurements/guidellm-benchmarks.json benchmarks[0], benchmarks[1]; examples/measurements/vllm-benchmark-serving.json',
    );
    expect(g.map(rowName)).toContain('examples/measurements/guidellm-benchmarks.json benchmarks[1]');
    expect(new Set(v.map(rowName))).toEqual(new Set(['examples/measurements/vllm-benchmark-serving.json']));
  });

  it('refuses JSON it does not recognise, naming the file', () => {
    const dir = withFiles({ 'x.json': '{"hello": 1}' });
    const r = fleetsim(['fidelity', join(dir, 'x.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/x\.json: unrecognised JSON/);
  });
});
