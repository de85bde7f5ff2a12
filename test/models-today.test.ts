/**
 * The 2025 open models (issue 16 item 9): their catalog rows are sourced, their attention and
 * expert layouts reach the physics (MLA's latent KV, shared experts, interleaved MoE layers), and
 * each runs from the CLI with both engines agreeing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadCatalog, resolveEfficiency } from '../src/catalog/catalog.js';
import { DTYPE_BYTES, RooflinePerf, decodeRunS, gemmEffFor, peakFlops, ridgeTokens } from '../src/perf/roofline.js';
import type { Model } from '../src/catalog/catalog.js';
import type { Dtype } from '../src/scenario/schema.js';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import { Capture } from './helpers/capture.js';
import { ROOT, fleetsim, tempDir, withFiles } from './helpers/cli.js';

const catalog = loadCatalog();
const NEW_MODELS = ['deepseek-v3', 'deepseek-r1', 'qwen3-32b', 'llama-4-scout', 'llama-4-maverick', 'qwen3-235b-a22b', 'gpt-oss-120b', 'gpt-oss-20b'];

/** The profile a deployment without `stack:` gets: the chip's own row, else its kind's. */
const effOf = (silicon: string) => resolveEfficiency(catalog, catalog.silicon.get(silicon)!)!.efficiency;

function perf(
  model: string | Model, silicon: string, tp: number, kvDtype: 'bf16' | 'fp8' = 'bf16', expertParallel = false,
  dtype: Dtype = 'fp8', expertDtype?: Dtype,
): RooflinePerf {
  return new RooflinePerf({
    model: typeof model === 'string' ? catalog.models.get(model)! : model,
    silicon: catalog.silicon.get(silicon)!,
    efficiency: effOf(silicon),
    tensorParallel: tp,
    dtype,
    kvDtype,
    kvFraction: 0.9,
    blockTokens: 16,
    expertParallel,
    expertDtype,
  });
}

describe('catalog rows of the 2025 models', () => {
  it('every model row cites a source URL, and every MoE row says where expert_params_b comes from', () => {
    // Read the file itself, so a row the loader would accept with only an assumption still fails here.
    const rows = parse(readFileSync(join(ROOT, 'data', 'models.csv')), { columns: true }) as Record<string, string>[];
    for (const id of NEW_MODELS) expect(rows.some((r) => r.id === id), id).toBe(true);
    for (const r of rows) {
      // Rows whose architecture is unpublished still cite where their published figures come from.
      expect(r.source, `${r.id}: source`).not.toBe('');
      if (NEW_MODELS.includes(r.id)) expect(r.source, `${r.id}: source URL`).toMatch(/https:\/\/huggingface\.co\//);
      if (Number(r.experts) > 1) expect(`${r.source} ${r.assumption}`, `${r.id}: expert_params_b provenance`).toMatch(/expert|experts/);
    }
    for (const id of NEW_MODELS.filter((m) => catalog.models.get(m)!.experts > 1)) {
      // Computed, not published: the row must say so.
      expect(catalog.models.get(id)!.assumption, id).toMatch(/expert_params_b computed/);
    }
  });

  it('DeepSeek-V3/R1 rows carry the published layout: MLA 512 + 64, 256 experts top-8, 1 shared, 58 MoE layers', () => {
    for (const id of ['deepseek-v3', 'deepseek-r1']) {
      const m = catalog.models.get(id)!;
      expect([m.attention, m.kvLoraRank, m.qkRopeHeadDim, m.experts, m.expertsPerToken, m.sharedExperts, m.moeLayers, m.layers]).toEqual([
        'mla', 512, 64, 256, 8, 1, 58, 61,
      ]);
      // The computed routed-expert total (58 x 256 x 3 x 7168 x 2048) rounds to the row's figure.
      expect((58 * 256 * 3 * 7168 * 2048) / 1e9).toBeCloseTo(m.expertParamsB, 1);
    }
  });

  it('a row with attention mla but no latent size is refused, naming the model', () => {
    expect(() => loadCatalog({ models: [{ id: 'deepseek-v3', kv_lora_rank: '' }] })).toThrow(/deepseek-v3: kv_lora_rank and qk_rope_head_dim/);
    expect(() => loadCatalog({ models: [{ id: 'llama-3.1-8b', attention: 'mla' }] })).toThrow(/llama-3.1-8b/);
    expect(() => loadCatalog({ models: [{ id: 'llama-3.1-8b', attention: 'sparse' }] })).toThrow(/attention must be gqa or mla/);
    expect(() => loadCatalog({ models: [{ id: 'llama-3.1-8b', moe_layers: 4 }] })).toThrow(/moe_layers needs experts > 1/);
  });
});

describe('multi-head latent attention in the physics', () => {
  it('KV bytes per token are layers x (kv_lora_rank + qk_rope_head_dim) x bytes, not 2 x heads x head_dim', () => {
    const m = catalog.models.get('deepseek-v3')!;
    for (const kv of ['bf16', 'fp8'] as const) {
      const p = perf('deepseek-v3', 'h200', 8, kv);
      expect(p.kvBytesPerToken).toBe(61 * (512 + 64) * DTYPE_BYTES[kv]);
      expect(p.kvBytesPerToken).toBeLessThan((2 * m.layers * m.kvHeads * m.headDim * DTYPE_BYTES[kv]) / 50);
    }
    expect(perf('deepseek-v3', 'h200', 8, 'bf16').kvBytesPerToken).toBe(70272);
  });

  it('KV capacity is the memory left after the weights over the latent bytes', () => {
    const p = perf('deepseek-v3', 'h200', 8, 'fp8');
    // FP8 weights a byte each, the embedding and LM head (2 x 129,280 x 7,168) at 16 bits: a byte more.
    const free = 8 * 141 * 2 ** 30 * 0.9 - 671e9 * 1 - 2 * 129280 * 7168;
    expect(p.kvCapacityTokens).toBe(Math.floor(free / (61 * 576) / 16) * 16);
  });

  it('decode attention reads the latent and computes over it with absorbed weights; prefill attends per head', () => {
    const s = catalog.silicon.get('h200')!;
    const eff = effOf('h200');
    const p = perf('deepseek-v3', 'h200', 8, 'bf16');
    const flopS = 1 / (8 * peakFlops(s, 'bf16') * eff.attnEff);
    const byteS = 1 / (8 * s.memBwGbps * 1e9 * eff.kvReadEff);
    const decodeFlops = 2 * 61 * 128 * (2 * 512 + 64);
    expect(p.attnPerCtxS).toBeCloseTo(Math.max(decodeFlops * flopS, 70272 * byteS), 18);
    // A prompt of P tokens: P^2/2 causal pairs at 2 x heads x (2 x head_dim + rope) FLOPs per layer.
    const P = 4096;
    expect(p.attentionS((P * P) / 2, 0)).toBeCloseTo(2 * 61 * 128 * (2 * 128 + 64) * ((P * P) / 2) * flopS, 12);
    // The step engine's decode step and the collapsed engine's lines use the same decode attention.
    const lines = new Float64Array(5);
    p.decodeLines(32, 100000, lines);
    expect(p.decodeStepS(32, 100000)).toBeCloseTo(lines[0] + lines[4], 12);
    expect(p.decodeStepS(32, 200000) - p.decodeStepS(32, 100000)).toBeCloseTo(100000 * p.attnPerCtxS, 12);
  });

  it('a GQA model keeps the old attention and KV formula', () => {
    const p = perf('llama-3.1-8b', 'h100-sxm', 1, 'bf16');
    expect(p.kvBytesPerToken).toBe(2 * 32 * 8 * 128 * 2);
  });
});

describe('sliding-window attention (gpt-oss: 18 of 36 layers see 128 tokens)', () => {
  const oss = catalog.models.get('gpt-oss-120b')!;
  const wider: Model = { ...oss, slidingWindow: 256 };
  const s = catalog.silicon.get('h100-sxm')!;
  const eff = effOf('h100-sxm');
  const byteS = 1 / (s.memBwGbps * 1e9 * eff.kvReadEff);
  const flopS = 1 / (peakFlops(s, 'bf16') * eff.attnEff);

  it('per-token KV counts the 18 full-attention layers only', () => {
    expect(perf('gpt-oss-120b', 'h100-sxm', 1, 'bf16', false, 'bf16').kvBytesPerToken).toBe(2 * 18 * 8 * 64 * 2);
    expect(() => loadCatalog({ models: [{ id: 'gpt-oss-120b', sliding_window: '' }] })).toThrow(/gpt-oss-120b: sliding_window and sliding_layers/);
    expect(() => loadCatalog({ models: [{ id: 'gpt-oss-20b', sliding_layers: 24 }] })).toThrow(/below layers/);
  });

  it('a decode step reads the full layers over the context and the sliding layers over one window per sequence', () => {
    const p = perf('gpt-oss-120b', 'h100-sxm', 1, 'bf16', false, 'bf16');
    const w = perf(wider, 'h100-sxm', 1, 'bf16', false, 'bf16');
    const b = 64;
    const C = 64 * 4000;
    // Memory-bound here: context costs the full layers' bytes, the window costs b x window x the sliding layers' bytes.
    expect(p.decodeStepS(b, C + 64000) - p.decodeStepS(b, C)).toBeCloseTo(64000 * 2 * 18 * 8 * 64 * 2 * byteS, 12);
    expect(w.decodeStepS(b, C) - p.decodeStepS(b, C)).toBeCloseTo(b * 128 * 2 * 18 * 8 * 64 * 2 * byteS, 12);
  });

  it('a prompt\'s sliding layers attend to at most the window per query', () => {
    const p = perf('gpt-oss-120b', 'h100-sxm', 1, 'bf16', false, 'bf16');
    const w = perf(wider, 'h100-sxm', 1, 'bf16', false, 'bf16');
    const P = 4096;
    expect(w.prefillS(P, P * P) - p.prefillS(P, P * P)).toBeCloseTo(P * 128 * 4 * 18 * 64 * 64 * flopS, 12);
  });

  it('closed-form decode runs equal the sum of their steps, read-bound and compute-bound', () => {
    // The window's compute and read scale alike (same heads), so the lines do not cross; a
    // hand-set attn_eff of 0.001 puts the compute line on top instead.
    for (const attnEff of [effOf('h100-sxm').attnEff, 0.001]) {
      const p = new RooflinePerf({
        model: oss, silicon: s, efficiency: { ...eff, attnEff }, tensorParallel: 1, dtype: 'bf16', kvDtype: 'bf16', kvFraction: 0.9, blockTokens: 16,
      });
      const c = new Float64Array(5);
      const b = 48;
      p.decodeLines(b, 10000, c);
      let sum = 0;
      for (let k = 0; k < 3000; k++) sum += p.decodeStepS(b, 10000 + k * b);
      expect(decodeRunS(c, 3000) / sum).toBeCloseTo(1, 12);
    }
  });
});

describe('experts in their own weight format (expert_dtype)', () => {
  it('gpt-oss-120b with BF16 dense weights and MXFP4 experts weighs 2.3B x 2 + 114.7B x 0.5 bytes', () => {
    const p = perf('gpt-oss-120b', 'b200', 1, 'bf16', false, 'bf16', 'mx4');
    expect(p.weightBytes).toBeCloseTo((117 - 114.7) * 1e9 * 2 + 114.7e9 * 0.5, 0);
    expect(perf('gpt-oss-120b', 'b200', 1, 'bf16', false, 'bf16').weightBytes).toBe(117e9 * 2);
  });

  it('expert GEMMs run at the expert dtype\'s peak, dense GEMMs at the dtype\'s', () => {
    const m = catalog.models.get('gpt-oss-120b')!;
    const s = catalog.silicon.get('b200')!;
    const eff = effOf('b200');
    const mixed = perf('gpt-oss-120b', 'b200', 1, 'bf16', false, 'bf16', 'mx4');
    const n = 8192;
    const perExpert = (m.expertParamsB * 1e9) / m.experts;
    // Half points: shares of the ridge point of each GEMM's own datapath.
    const dense = 2 * (m.activeParamsB * 1e9 - perExpert * 4) * (n + eff.gemmHalfRidge * ridgeTokens(s, 'bf16'));
    const touched = m.experts * (1 - Math.pow(1 - 4 / 128, n));
    const experts = 2 * perExpert * (4 * n + touched * eff.moeHalfRidge * ridgeTokens(s, 'mx4'));
    // BF16 at gemm_eff; MX4 runs on the 4-bit datapath, at gemm_eff_8bit (the share below 16 bits).
    const expected = dense / (peakFlops(s, 'bf16') * gemmEffFor(s, 'bf16', eff)) + experts / (peakFlops(s, 'mx4') * gemmEffFor(s, 'mx4', eff));
    expect(gemmEffFor(s, 'bf16', eff)).toBe(eff.gemmEff);
    expect(mixed.gemmS(n) / expected).toBeCloseTo(1, 12);
    expect(peakFlops(s, 'mx4')).toBe(4 * peakFlops(s, 'bf16'));
  });

  it('on a dense model it is refused, located; on a chip without FP4 it warns', () => {
    const dense = withFiles({
      'd.yaml': `name: d\nhorizon: 10s\ndeployments:\n  - { name: q, model: qwen3-32b, silicon: h100-sxm, replicas: 1, expert_dtype: mx4 }\nworkloads:\n  - { name: w, tenant: t, model: qwen3-32b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 10 } }\npricing:\n  - { model: qwen3-32b, input_usd_per_mtok: 1, output_usd_per_mtok: 1, vendor_share: 0 }\n`,
    });
    const r = fleetsim(['validate', join(dense, 'd.yaml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/d\.yaml:4:\d+.*expert_dtype applies only to MoE models; qwen3-32b is dense/);
    const moe = withFiles({
      'm.yaml': `name: m\nhorizon: 10s\ndeployments:\n  - { name: g, model: gpt-oss-120b, silicon: h100-sxm, replicas: 1, dtype: bf16, expert_dtype: mx4 }\nworkloads:\n  - { name: w, tenant: t, model: gpt-oss-120b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 100 }, output_tokens: { dist: constant, value: 10 } }\npricing:\n  - { model: gpt-oss-120b, input_usd_per_mtok: 1, output_usd_per_mtok: 1, vendor_share: 0 }\n`,
    });
    const v = fleetsim(['validate', join(moe, 'm.yaml')]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/expert_dtype.*h100-sxm has no mx4 hardware/);
  });
});

describe('interleaved MoE layers with expert parallelism', () => {
  it('Maverick (24 MoE layers of 48) sends half the all-to-all of Scout (48 of 48) and one more all-reduce per dense layer', () => {
    const scout = perf('llama-4-scout', 'h100-sxm', 8, 'fp8', true);
    const maverick = perf('llama-4-maverick', 'h100-sxm', 8, 'fp8', true);
    // Same hidden size, layers and top-1 routing: only the layer layout differs in the collectives.
    const fixed = (x: RooflinePerf, n: number) => (x as unknown as { fixedS(t: number, s: number): number }).fixedS(n, 0);
    const perToken = (x: RooflinePerf) => fixed(x, 2000) - fixed(x, 1000);
    const s = catalog.silicon.get('h100-sxm')!;
    const eff = effOf('h100-sxm');
    const link = s.interconnectGbps * 1e9 * eff.commEff;
    const tok = (2 * (7 / 8) * 5120 * 2) / link;
    // Scout: 48 all-reduces (attention) + 2 x 48 x 1 all-to-all; Maverick: 72 all-reduces + 2 x 24 x 1.
    expect(perToken(scout) / 1000).toBeCloseTo((48 + 48) * tok, 15);
    expect(perToken(maverick) / 1000).toBeCloseTo((72 + 24) * tok, 15);
  });
});

function scenario(engine: 'collapsed' | 'step'): string {
  // One deployment per new model on silicon its weights fit, at a low rate: enough to run the CLI end to end.
  const deployments = [
    ['deepseek-v3', 'h200', 8, 'fp8'],
    ['deepseek-r1', 'b200', 8, 'fp8'],
    ['qwen3-32b', 'h100-sxm', 1, 'fp8'],
    ['llama-4-scout', 'h100-sxm', 2, 'fp8'],
    ['llama-4-maverick', 'h100-sxm', 8, 'fp8'],
    ['gpt-oss-120b', 'h100-sxm', 1, 'bf16, expert_dtype: mx4'],
    ['gpt-oss-20b', 'b200', 1, 'bf16, expert_dtype: mx4'],
  ] as const;
  const d = deployments
    .map(([m, s, tp, dt]) => `  - { name: ${m}, model: ${m}, silicon: ${s}, replicas: 1, tensor_parallel: ${tp}, dtype: ${dt}, kv_dtype: fp8, max_batch: 64 }`)
    .join('\n');
  const w = deployments
    .map(
      ([m]) => `  - name: ${m}-chat
    tenant: t
    model: ${m}
    arrival: { process: poisson, rate: 2/s }
    prompt_tokens: { dist: lognormal, median: 1500, p99: 8000 }
    output_tokens: { dist: lognormal, median: 300, p99: 1500 }`,
    )
    .join('\n');
  const p = deployments.map(([m]) => `  - { model: ${m}, input_usd_per_mtok: 1, output_usd_per_mtok: 2, vendor_share: 0 }`).join('\n');
  return `name: models-today\nhorizon: 120s\nseed: 7\nreport_interval: 30s\nengine: ${engine}\ndeployments:\n${d}\nworkloads:\n${w}\npricing:\n${p}\n`;
}

describe('the new models run', () => {
  it('from the CLI: each deployment completes requests and explain prints the latent KV size', () => {
    const dir = withFiles({ 'models.yaml': scenario('collapsed') });
    const out = join(tempDir(), 'out');
    const r = fleetsim(['run', join(dir, 'models.yaml'), '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const rows = parse(readFileSync(join(out, 'summary.csv')), { columns: true }) as Record<string, string>[];
    for (const m of ['deepseek-v3', 'deepseek-r1', 'qwen3-32b', 'llama-4-scout', 'llama-4-maverick', 'gpt-oss-120b', 'gpt-oss-20b']) {
      const row = rows.find((x) => x.scope === 'deployment' && x.key === m);
      expect(row, m).toBeDefined();
      expect(Number(row!.requests_completed), m).toBeGreaterThan(100);
    }
    const e = fleetsim(['explain', '--model', 'deepseek-r1', '--silicon', 'h200', '--tp', '8', '--dtype', 'fp8', '--format', 'csv']);
    expect(e.status, e.stderr).toBe(0);
    const ex = parse(e.stdout, { columns: true }) as Record<string, string>[];
    // explain keeps the KV cache in the weights' 8-bit dtype: one byte per latent element.
    expect(Number(ex[0].kv_bytes_per_token)).toBe(61 * 576 * 1);
  });

  it('collapsed and step-by-step engines agree request by request', () => {
    const dir = tempDir();
    const run = (engine: 'collapsed' | 'step') => {
      const file = join(dir, `${engine}.yaml`);
      writeFileSync(file, scenario(engine));
      const log = new Capture();
      const result = simulate(loadScenario(file), { requestLog: log });
      log.rows.sort((a, b) => a.seq - b.seq);
      return { result, rows: log.rows };
    };
    const c = run('collapsed');
    const s = run('step');
    expect(c.rows.length).toBe(s.rows.length);
    expect(c.rows.length).toBeGreaterThan(500);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    for (let i = 0; i < c.rows.length; i++) {
      const a = c.rows[i];
      const b = s.rows[i];
      const same = a.seq === b.seq && a.fate === b.fate && a.outputTokens === b.outputTokens && close(a.firstTokenS, b.firstTokenS) && close(a.endS, b.endS);
      if (!same) expect(a, `request ${a.seq}`).toEqual(b);
    }
    expect(c.result.events).toBeLessThan(s.result.events);
  });
});
