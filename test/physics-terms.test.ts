/**
 * Each named term of the step-time model (src/perf/roofline.ts, docs/physics.md "Formulas") at its
 * limits, on catalog models and chips with hand-set factors so a catalog re-fit cannot hide a
 * broken term.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog, type Efficiency } from '../src/catalog/catalog.js';
import { RooflinePerf, peakFlops, ridgeTokens } from '../src/perf/roofline.js';
import type { Dtype } from '../src/scenario/schema.js';

const catalog = loadCatalog();
const h100 = catalog.silicon.get('h100-sxm')!;
/** The tests' GEMM and expert half points in tokens on an H100 at FP8 (the curve's shares of its ridge point). */
const N_HALF = 64;
const M_HALF = 32;
const RIDGE = ridgeTokens(h100, 'fp8');

const FACTORS: Efficiency = {
  silicon: 'h100-sxm',
  stack: 'generic',
  basis: 'assumed',
  fittedTo: '',
  cvRows: NaN,
  cvMapePct: NaN,
  cvErrP10Pct: NaN,
  cvErrP90Pct: NaN,
  gemmEff: 0.7,
  gemmHalfRidge: N_HALF / RIDGE,
  memEff: 0.8,
  kvReadEff: 0.6,
  attnEff: 0.5,
  moeHalfRidge: M_HALF / RIDGE,
  moeImbalance: 1.3,
  commEff: 0.5,
  // Not given: 8-bit GEMMs at gemmEff, collectives at the silicon's latency (their own tests set them).
  gemmEff8bit: NaN,
  commLatencyUs: NaN,
  overheadMs: 1,
  overheadPerSeqUs: 10,
  frontendMs: 0,
  source: 'test',
  assumption: '',
};

function perf(model: string, over: Partial<Efficiency> = {}, tp = 1, dtype: Dtype = 'fp8', expertParallel = false): RooflinePerf {
  return new RooflinePerf({
    model: catalog.models.get(model)!,
    silicon: catalog.silicon.get('h100-sxm')!,
    efficiency: { ...FACTORS, ...over },
    tensorParallel: tp,
    dtype,
    kvDtype: 'fp8',
    kvFraction: 0.9,
    blockTokens: 16,
    expertParallel,
  });
}

describe('GEMM efficiency saturates in the tokens per iteration', () => {
  const llama = perf('llama-3.1-8b');
  const params = catalog.models.get('llama-3.1-8b')!.activeParamsB * 1e9;
  /** Achieved share of peak FLOPs of the GEMMs over n tokens. */
  const achieved = (n: number) => (2 * params * n) / llama.gemmS(n) / peakFlops(h100, 'fp8');

  it('small batches reach less of peak than large ones, rising monotonically to gemm_eff', () => {
    let prev = 0;
    for (const n of [1, 4, 16, 64, 256, 1024, 8192, 65536]) {
      expect(achieved(n)).toBeGreaterThan(prev);
      prev = achieved(n);
    }
    expect(achieved(1)).toBeLessThan(0.05 * FACTORS.gemmEff);
    expect(achieved(65536)).toBeGreaterThan(0.99 * FACTORS.gemmEff);
    expect(achieved(65536)).toBeLessThanOrEqual(FACTORS.gemmEff);
  });

  it('reaches half of gemm_eff at gemm_half_ridge x the ridge point', () => {
    expect(achieved(N_HALF)).toBeCloseTo(FACTORS.gemmEff / 2, 12);
    // Without the curve the efficiency is the constant gemm_eff.
    const flat = perf('llama-3.1-8b', { gemmHalfRidge: 0 });
    expect((2 * params * 7) / flat.gemmS(7) / peakFlops(h100, 'fp8')).toBeCloseTo(FACTORS.gemmEff, 12);
  });

  it('sharded over tp chips a GEMM reaches half of gemm_eff at tp x gemm_half_ridge', () => {
    // Each chip holds 1/tp of every weight matrix: the same tokens make 1/tp of the output tiles per
    // chip, so the curve's half point moves to tp x n½ (time is per replica: tp chips' peak).
    for (const tp of [2, 4, 8]) {
      const sharded = perf('llama-3.1-8b', {}, tp);
      const share = (n: number) => (2 * params * n) / sharded.gemmS(n) / (tp * peakFlops(h100, 'fp8'));
      expect(share(N_HALF * tp)).toBeCloseTo(FACTORS.gemmEff / 2, 12);
      expect(share(N_HALF)).toBeLessThan(achieved(N_HALF));
      expect(share(65536 * tp)).toBeGreaterThan(0.99 * FACTORS.gemmEff);
    }
  });
});

describe('the GEMM curve\'s half point is a share of the chip\'s ridge point', () => {
  // A100 FP16 turns compute-bound at 312 TFLOPS x 2 B / (2 x 2,039 GB/s) = 153 tokens, H100 at
  // 989 x 2 / (2 x 3,350) = 295 (BF16) and 1,979 x 1 / (2 x 3,350) = 295 (FP8): the same share of
  // the ridge is twice the tokens on an H100 (fitted apart, the H100 rows put the half point at 75
  // tokens and the A100 rows at 36).
  const a100 = catalog.silicon.get('a100-80gb')!;
  it('ridge points from the specs', () => {
    expect(ridgeTokens(a100, 'fp16')).toBeCloseTo(153.0, 1);
    expect(ridgeTokens(h100, 'bf16')).toBeCloseTo(295.3, 1);
    expect(ridgeTokens(h100, 'fp8')).toBeCloseTo(295.4, 1);
  });
  it('a GEMM reaches half of gemm_eff at gemm_half_ridge x that chip\'s ridge (x tp)', () => {
    const params = catalog.models.get('llama-3.1-70b')!.activeParamsB * 1e9;
    for (const [silicon, dtype] of [[a100, 'fp16'], [h100, 'bf16'], [h100, 'fp8']] as const) {
      for (const tp of [1, 4]) {
        const p = new RooflinePerf({
          model: catalog.models.get('llama-3.1-70b')!, silicon, efficiency: { ...FACTORS, gemmHalfRidge: 0.25 }, tensorParallel: tp,
          dtype, kvDtype: dtype, kvFraction: 0.9, blockTokens: 16,
        });
        const half = 0.25 * ridgeTokens(silicon, dtype) * tp;
        expect((2 * params * half) / p.gemmS(half) / (tp * peakFlops(silicon, dtype))).toBeCloseTo(FACTORS.gemmEff / 2, 12);
      }
    }
  });
});

describe('MoE: expert GEMMs at the tokens each expert receives', () => {
  const m = catalog.models.get('mixtral-8x7b')!;
  const perExpert = (m.expertParamsB * 1e9) / m.experts;
  const denseActive = m.activeParamsB * 1e9 - perExpert * m.expertsPerToken;
  const noDenseCurve = { gemmHalfRidge: 0 };
  /** The expert part of gemmS: total minus the dense layers. */
  const expertS = (p: RooflinePerf, n: number) => p.gemmS(n) - 2 * denseActive * n * p.sPerFlop;

  it('without the per-expert curve, FLOPs follow active parameters exactly', () => {
    const p = perf('mixtral-8x7b', { ...noDenseCurve, moeHalfRidge: 0 });
    for (const n of [1, 8, 512]) expect(p.gemmS(n)).toBeCloseTo(2 * m.activeParamsB * 1e9 * n * p.sPerFlop, 12);
  });

  it('experts without a curve of their own (moe_half_ridge empty) follow the dense GEMMs\' curve', () => {
    const empty = perf('mixtral-8x7b', { moeHalfRidge: NaN });
    const dense = perf('mixtral-8x7b', { moeHalfRidge: FACTORS.gemmHalfRidge });
    for (const n of [1, 8, 512, 4096]) expect(empty.gemmS(n)).toBe(dense.gemmS(n));
    expect(Number.isFinite(empty.gemmS(8))).toBe(true);
  });

  it('few tokens per expert cost more per token than many; the per-token cost falls to the saturated one', () => {
    const p = perf('mixtral-8x7b', noDenseCurve);
    const saturated = 2 * perExpert * m.expertsPerToken * p.sPerFlop;
    const perToken = (n: number) => expertS(p, n) / n;
    let prev = Infinity;
    for (const n of [1, 4, 16, 64, 256, 4096]) {
      expect(perToken(n)).toBeLessThan(prev);
      prev = perToken(n);
    }
    // One token: k experts each get one token, at 1 / (1 + m½) of gemm_eff.
    expect(perToken(1)).toBeCloseTo(saturated * (1 + M_HALF), 9);
    // 4096 tokens touch all 8 experts with 1024 tokens each: within m½/1024 of saturated.
    expect(perToken(4096) / saturated).toBeCloseTo(1 + M_HALF / 1024, 6);
  });

  it('experts sharded over tp chips reach half their efficiency at tp x moe_half_ridge; experts spread whole over them at moe_half_ridge', () => {
    const sharded = perf('mixtral-8x7b', noDenseCurve, 4);
    const spread = perf('mixtral-8x7b', noDenseCurve, 4, 'fp8', true);
    const perToken = (p: RooflinePerf) => expertS(p, 1);
    const saturated = (p: RooflinePerf) => 2 * perExpert * m.expertsPerToken * p.sPerFlop;
    expect(perToken(sharded)).toBeCloseTo(saturated(sharded) * (1 + 4 * M_HALF), 9);
    expect(perToken(spread)).toBeCloseTo(saturated(spread) * (1 + M_HALF) * FACTORS.moeImbalance, 9);
  });

  it('load imbalance and all-to-all apply only when experts are spread over chips', () => {
    // Without the per-expert curve (whose half point differs between the two: test above).
    const sharded = perf('mixtral-8x7b', { ...noDenseCurve, moeHalfRidge: 0 }, 4, 'fp8', false);
    const spread = perf('mixtral-8x7b', { ...noDenseCurve, moeHalfRidge: 0 }, 4, 'fp8', true);
    const n = 256;
    expect(expertS(spread, n) / expertS(sharded, n)).toBeCloseTo(FACTORS.moeImbalance, 9);
    // Expert parallel swaps the FFN all-reduce for dispatch + combine of each token to k experts:
    // per token 2·k all-to-all payloads against one all-reduce's 2 payloads, so it costs more.
    const commOf = (p: RooflinePerf, t: number) => p.prefillS(t, 0) - p.gemmS(t) - p.overheadS;
    expect(commOf(spread, n)).toBeGreaterThan(commOf(sharded, n));
    // A dense model ignores expert_parallel.
    expect(perf('llama-3.1-70b', {}, 4, 'fp8', true).decodeStepS(64, 64000)).toBe(perf('llama-3.1-70b', {}, 4).decodeStepS(64, 64000));
  });
});

describe('attention is its own term', () => {
  const llama = perf('llama-3.1-70b', {}, 2);
  const m = catalog.models.get('llama-3.1-70b')!;

  it('prefill attention is quadratic in the prompt', () => {
    const attn = (p: number) => llama.attentionS((p * p) / 2, 0);
    expect(attn(8192) / attn(4096)).toBeCloseTo(4, 12);
    // Prefill minus its linear layers is that term: 4·layers·heads·head_dim FLOPs per causal pair.
    const p = 16384;
    const flops = 4 * m.layers * m.heads * m.headDim * ((p * p) / 2);
    expect(llama.attentionS((p * p) / 2, 0)).toBeCloseTo(flops / (2 * peakFlops(h100, 'fp8') * FACTORS.attnEff), 12);
    // Per prompt token, long prompts cost more than short ones.
    expect(llama.prefillS(32768, 32768 ** 2) / 32768).toBeGreaterThan(1.2 * (llama.prefillS(2048, 2048 ** 2) / 2048));
  });

  it('decode attention reads the KV cache at kv_read_eff, linearly in context', () => {
    const slow = perf('llama-3.1-70b', { kvReadEff: 0.3 }, 2);
    // Memory-bound GQA decode attention: halving the efficiency doubles the per-context cost.
    expect(slow.attnPerCtxS / llama.attnPerCtxS).toBeCloseTo(2, 12);
    expect(llama.attnPerCtxS).toBeCloseTo(llama.kvBytesPerToken / (2 * h100.memBwGbps * 1e9 * FACTORS.kvReadEff), 15);
    const step = (ctx: number) => llama.decodeStepS(32, ctx);
    expect(step(200000) - step(100000)).toBeCloseTo(step(100000) - step(0), 12);
    expect(step(100000) - step(0)).toBeCloseTo(100000 * llama.attnPerCtxS, 12);
  });
});

describe('8-bit GEMMs at their own share of peak', () => {
  const params = catalog.models.get('llama-3.1-8b')!.activeParamsB * 1e9;
  const achieved = (p: RooflinePerf, dtype: Dtype) => (2 * params * 65536) / p.gemmS(65536) / peakFlops(h100, dtype);

  it('gemm_eff_8bit applies below 16 bits, gemm_eff at 16; empty leaves both at gemm_eff', () => {
    const fp8 = perf('llama-3.1-8b', { gemmEff8bit: 0.5 }, 1, 'fp8');
    const bf16 = perf('llama-3.1-8b', { gemmEff8bit: 0.5 }, 1, 'bf16');
    expect(achieved(fp8, 'fp8')).toBeCloseTo(0.5 * (65536 / (65536 + 64)), 12);
    // The half point is a share of the datapath's ridge: H100's BF16 ridge (989.4 x 2 B) is a hair below its FP8 one (1,978.9 x 1 B).
    const halfBf16 = FACTORS.gemmHalfRidge * ridgeTokens(h100, 'bf16');
    expect(achieved(bf16, 'bf16')).toBeCloseTo(FACTORS.gemmEff * (65536 / (65536 + halfBf16)), 12);
    expect(perf('llama-3.1-8b', {}, 1, 'fp8').gemmS(4096)).toBe(perf('llama-3.1-8b', { gemmEff8bit: FACTORS.gemmEff }, 1, 'fp8').gemmS(4096));
  });

  it('a chip without the format runs it at 16 bits, at gemm_eff (FP8 on A100)', () => {
    const a100 = catalog.silicon.get('a100-80gb')!;
    const on = (e: Partial<Efficiency>) => new RooflinePerf({
      model: catalog.models.get('llama-3.1-8b')!, silicon: a100, efficiency: { ...FACTORS, ...e }, tensorParallel: 1,
      dtype: 'fp8', kvDtype: 'fp8', kvFraction: 0.9, blockTokens: 16,
    });
    expect(on({ gemmEff8bit: 0.3 }).gemmS(4096)).toBe(on({}).gemmS(4096));
  });
});

describe('tensor-parallel all-reduce and host overhead', () => {
  it('all-reduce: latency per call (2 per layer) plus bytes at comm_eff of the link', () => {
    const m = catalog.models.get('llama-3.1-70b')!;
    const tp4 = perf('llama-3.1-70b', {}, 4);
    const slowLink = perf('llama-3.1-70b', { commEff: 0.25 }, 4);
    const comm = (p: RooflinePerf, n: number) => p.prefillS(n, 0) - p.gemmS(n) - p.overheadS;
    const latency = 2 * m.layers * h100.collectiveLatencyUs * 1e-6;
    const perToken = (2 * m.layers * 2 * (3 / 4) * m.hidden * 2) / (h100.interconnectGbps * 1e9 * FACTORS.commEff);
    expect(comm(tp4, 1024)).toBeCloseTo(latency + 1024 * perToken, 12);
    expect(comm(slowLink, 1024) - latency).toBeCloseTo(2 * 1024 * perToken, 12);
    expect(comm(perf('llama-3.1-70b', {}, 1, 'bf16'), 1024)).toBeCloseTo(0, 15);
    // A profile's comm_latency_us replaces the silicon's latency per call.
    const slowCalls = perf('llama-3.1-70b', { commLatencyUs: 30 }, 4);
    expect(comm(slowCalls, 1024)).toBeCloseTo(2 * m.layers * 30e-6 + 1024 * perToken, 12);
  });

  it('host overhead: a fixed part per iteration and a part per decoding sequence', () => {
    const a = perf('llama-3.1-8b', { overheadPerSeqUs: 0 });
    const b = perf('llama-3.1-8b', { overheadPerSeqUs: 25 });
    for (const batch of [1, 64, 512]) {
      expect(b.decodeStepS(batch, batch * 1000) - a.decodeStepS(batch, batch * 1000)).toBeCloseTo(batch * 25e-6, 12);
    }
    // It dominates a small model at large batch: at batch 512 an 8B step is mostly host time.
    expect(b.decodeStepS(512, 512 * 200) - b.overheadS).toBeGreaterThan(0);
    expect(512 * 25e-6).toBeGreaterThan(0.5 * (b.decodeStepS(512, 512 * 200) - 512 * 25e-6));
  });
});

describe('the collapsed engine sees the same step times', () => {
  it('decodeLines at step k equals decodeStepS of the grown context, tabulated batches and beyond', () => {
    const c = new Float64Array(5);
    for (const name of ['llama-3.1-70b', 'mixtral-8x7b']) {
      const p = perf(name, {}, 2, 'fp8', name === 'mixtral-8x7b');
      for (const b of [1, 3, 64, 1023, 1024, 3000]) {
        p.decodeLines(b, b * 700, c);
        for (const k of [0, 1, 50]) {
          const line = Math.max(c[0] + c[1] * k, c[2] + c[3] * k) + c[4];
          expect(line).toBeCloseTo(p.decodeStepS(b, b * 700 + b * k), 12);
        }
      }
    }
  });
});
