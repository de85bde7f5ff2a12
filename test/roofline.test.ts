/**
 * The physics of the roofline step-time model (docs/physics.md): properties a
 * real inference engine shows, on catalog chips and models, plus the closed-form decode-run sum.
 */
import { describe, expect, it } from 'vitest';
import { loadCatalog, resolveEfficiency } from '../src/catalog/catalog.js';
import { DTYPE_BYTES, RooflinePerf, decodeRunS, decodeStepsWithin, firstBoundaryAtOrAfter, peakFlops } from '../src/perf/roofline.js';
import type { Dtype } from '../src/scenario/schema.js';
import { mulberry32 } from './helpers/random.js';
import { ulpStep } from './helpers/float.js';

const catalog = loadCatalog();

function perf(model: string, silicon: string, tp: number, dtype: Dtype, kvDtype: Dtype = 'fp8', commLatencyUs?: number): RooflinePerf {
  const efficiency = resolveEfficiency(catalog, catalog.silicon.get(silicon)!)!.efficiency;
  return new RooflinePerf({
    model: catalog.models.get(model)!,
    silicon: catalog.silicon.get(silicon)!,
    efficiency: commLatencyUs === undefined ? efficiency : { ...efficiency, commLatencyUs },
    tensorParallel: tp,
    dtype,
    kvDtype,
    kvFraction: 0.9,
    blockTokens: 16,
  });
}


describe('roofline physics', () => {
  const llama = perf('llama-2-70b', 'h100-sxm', 2, 'fp8');

  it('derives weight and KV sizes from the architecture and dtype', () => {
    // A byte per parameter, but the embedding and LM head (2 x 32,000 x 8,192) stay 16-bit.
    const embed = 2 * 32000 * 8192;
    expect(llama.weightBytes).toBeCloseTo(68.98e9 + embed, -6);
    // 2 (K and V) x 80 layers x 8 KV heads x 128 x 1 byte
    expect(llama.kvBytesPerToken).toBe(163840);
    const bf16 = perf('llama-2-70b', 'h100-sxm', 2, 'bf16', 'bf16');
    expect(bf16.weightBytes).toBeCloseTo(2 * (llama.weightBytes - embed), -3);
    expect(bf16.kvBytesPerToken).toBe(2 * llama.kvBytesPerToken);
    expect(bf16.kvCapacityTokens).toBeLessThan(llama.kvCapacityTokens);
  });

  it('decode throughput rises with batch size and saturates once compute-bound', () => {
    const ctxPerRequest = 500;
    const tokS = (b: number) => b / llama.decodeStepS(b, b * ctxPerRequest);
    let prev = 0;
    for (const b of [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]) {
      const t = tokS(b);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
    // Memory-bound at small batch: doubling the batch nearly doubles throughput.
    expect(tokS(2) / tokS(1)).toBeGreaterThan(1.9);
    // Compute-bound at large batch: doubling the batch barely helps (from 1,024: below that the
    // fixed time per iteration, 160 collective calls and the host's, is still being amortised).
    expect(tokS(2048) / tokS(1024)).toBeLessThan(1.1);
  });

  it('TTFT (prefill time) grows with prompt length, faster than linearly once attention dominates', () => {
    let prev = 0;
    for (const p of [16, 128, 1024, 8192, 32768]) {
      const t = llama.prefillS(p, p * p);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
    const perToken = (p: number) => llama.prefillS(p, p * p) / p;
    expect(perToken(32768)).toBeGreaterThan(perToken(4096));
  });

  it('TPOT (decode step time) grows with the context the batch holds', () => {
    let prev = 0;
    for (const ctx of [0, 1000, 10000, 100000, 400000]) {
      const t = llama.decodeStepS(32, ctx);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
  });

  it('MoE: a small batch reads only the experts it touches; FLOPs follow active parameters', () => {
    const mixtral = perf('mixtral-8x7b', 'h100-sxm', 1, 'fp8');
    const m = catalog.models.get('mixtral-8x7b')!;
    // The dense part's embedding and LM head stay 16-bit: a byte more per parameter.
    const dense = (m.paramsB - m.expertParamsB) * 1e9 + 2 * 32000 * 4096;
    // One token touches 2 of 8 experts.
    expect(mixtral.weightBytesRead(1)).toBeCloseTo(dense + (m.expertParamsB * 1e9 * 2) / 8, -3);
    expect(mixtral.weightBytesRead(1)).toBeLessThan(0.4 * mixtral.weightBytes);
    expect(mixtral.weightBytesRead(8)).toBeGreaterThan(mixtral.weightBytesRead(1));
    expect(mixtral.weightBytesRead(256)).toBeCloseTo(mixtral.weightBytes, -3);
    // Dense models always read everything.
    expect(llama.weightBytesRead(1)).toBe(llama.weightBytes);
    // At batch 1 Mixtral (46.7B total) decodes faster than a dense 70B, nearly as fast as a ~13B.
    expect(mixtral.decodeStepS(1, 100)).toBeLessThan(0.5 * perf('llama-2-70b', 'h100-sxm', 1, 'fp8').decodeStepS(1, 100));
  });

  it('tensor parallelism divides the roofline terms but adds all-reduce time', () => {
    // At the silicon's collective latency (8 us): the fitted profile's comm_latency_us stands in for
    // more than a call's latency (docs/fidelity.md#what-the-fit-says) and is checked in physics-terms.
    const tp1 = perf('llama-2-7b', 'h100-sxm', 1, 'bf16', 'bf16', NaN);
    const tp2 = perf('llama-2-7b', 'h100-sxm', 2, 'bf16', 'bf16', NaN);
    const t1 = tp1.decodeStepS(1, 100);
    const t2 = tp2.decodeStepS(1, 100);
    expect(t2).toBeLessThan(t1);
    // 2 all-reduces x 32 layers x 8 us latency alone = 0.512 ms on top of half the roofline time.
    expect(t2 - (t1 - tp1.overheadS) / 2 - tp2.overheadS).toBeGreaterThan(0.5e-3);
  });

  it('maps Maia MX formats to their published peaks and bit widths', () => {
    const maia = catalog.silicon.get('maia-100')!;
    expect(peakFlops(maia, 'mx9')).toBe(maia.fp8Tflops * 1e12);
    expect(peakFlops(maia, 'mx6')).toBe(maia.fp4Tflops * 1e12);
    expect(DTYPE_BYTES.mx9).toBe(1.125);
    expect(DTYPE_BYTES.mx6).toBe(0.75);
    const mx6 = perf('llama-2-70b', 'maia-100', 4, 'mx6');
    expect(mx6.weightBytes).toBeCloseTo(68.98e9 * 0.75 + 2 * 32000 * 8192 * 1.25, -6);
    // A100 has no FP8: 8-bit weights still halve the bytes but compute runs at the bf16 peak.
    const a100 = catalog.silicon.get('a100-80gb')!;
    expect(peakFlops(a100, 'fp8')).toBe(a100.bf16Tflops * 1e12);
  });

  it('runs CPU silicon (Cobalt) through the same roofline, memory-bound on DDR', () => {
    const cpu = perf('mistral-7b', 'cobalt-100', 1, 'int8');
    const eff = catalog.efficiency.get('cpu')!;
    const cobalt = catalog.silicon.get('cobalt-100')!;
    const t = cpu.decodeStepS(1, 0);
    const expected = (7.25e9 + 2 * 32768 * 4096 + cpu.kvBytesPerToken) / (cobalt.memBwGbps * 1e9 * eff.memEff) + eff.overheadMs / 1000 + eff.overheadPerSeqUs * 1e-6;
    expect(t).toBeCloseTo(expected, 9);
  });
});

describe('closed-form decode runs', () => {
  function stepwise(c: Float64Array, n: number): number {
    let total = 0;
    for (let k = 0; k < n; k++) total += Math.max(c[0] + c[1] * k, c[2] + c[3] * k) + c[4];
    return total;
  }

  it('decodeLines evaluated at step k equals decodeStepS of the grown context', () => {
    const c = new Float64Array(5);
    for (const [b, ctx] of [[1, 10], [64, 20000], [512, 100000]]) {
      llama70(b, ctx, c);
      for (const k of [0, 1, 7, 300]) {
        const direct = perf('llama-2-70b', 'h100-sxm', 2, 'fp8').decodeStepS(b, ctx + b * k);
        expect(Math.max(c[0] + c[1] * k, c[2] + c[3] * k) + c[4]).toBeCloseTo(direct, 12);
      }
    }
  });

  it('decodeRunS equals the sum of single steps, including runs that cross from compute- to memory-bound', () => {
    const c = new Float64Array(5);
    // The roofline's own lines coincide (attention is its only term in the context); a measured
    // profile or a future term may not, so a run that starts compute-bound and turns
    // memory-bound as KV grows is checked on hand-made lines.
    c.set([0.03, 1e-6, 0.027, 3e-6, 1e-3]);
    expect(c[0]).toBeGreaterThan(c[2]);
    const crossK = (c[2] - c[0]) / (c[1] - c[3]);
    expect(crossK).toBeGreaterThan(0);
    expect(crossK).toBeLessThan(3000);
    for (const n of [0, 1, 2, Math.floor(crossK), Math.ceil(crossK), Math.ceil(crossK) + 1, 3000]) {
      expect(decodeRunS(c, n)).toBeCloseTo(stepwise(c, n), 9);
    }
    // Random lines, both orders, crossings inside and outside the run, ties.
    const rnd = mulberry32(7);
    for (let i = 0; i < 2000; i++) {
      c[0] = rnd() * 0.05;
      c[1] = rnd() < 0.1 ? 0 : rnd() * 1e-4;
      c[2] = rnd() < 0.05 ? c[0] : rnd() * 0.05;
      c[3] = rnd() < 0.1 ? c[1] : rnd() * 1e-4;
      c[4] = rnd() * 1e-3;
      const n = Math.floor(rnd() * 2000);
      const exact = stepwise(c, n);
      expect(Math.abs(decodeRunS(c, n) - exact)).toBeLessThanOrEqual(1e-9 * Math.max(1, exact));
      // decodeStepsWithin inverts it: the largest n whose run fits in the elapsed time.
      const elapsed = rnd() * exact;
      const m = decodeStepsWithin(c, elapsed, n);
      expect(decodeRunS(c, m)).toBeLessThanOrEqual(elapsed);
      if (m < n) expect(decodeRunS(c, m + 1)).toBeGreaterThan(elapsed);
    }
  });

  it('firstBoundaryAtOrAfter is the first step end at or after the elapsed time, and returns that end exactly', () => {
    // What an arrival mid-run waits for. Its walk starts from a quadratic estimate, so the cases
    // that matter are where the estimate is off: lines that cross, and elapsed times sitting on,
    // or one ulp either side of, a step end.
    const c = new Float64Array(5);
    const runS = new Float64Array(1);
    const rnd = mulberry32(11);
    const onEdge = [0, 0, 0];
    for (let i = 0; i < 20000; i++) {
      c[0] = rnd() * 0.05;
      c[1] = rnd() < 0.1 ? 0 : rnd() * 1e-4;
      c[2] = rnd() < 0.05 ? c[0] : rnd() * 0.05;
      c[3] = rnd() < 0.1 ? c[1] : rnd() * 1e-4;
      c[4] = rnd() < 0.2 ? 0 : rnd() * 1e-3;
      const maxSteps = 1 + Math.floor(rnd() * 2000);
      const k = Math.floor(rnd() * (maxSteps + 1));
      const end = decodeRunS(c, k);
      const pick = Math.floor(rnd() * 4);
      const elapsed = pick === 3 ? rnd() * decodeRunS(c, maxSteps) : [end, end > 0 ? ulpStep(end, -1n) : end, ulpStep(end, 1n)][pick];
      if (pick < 3) onEdge[pick]++;
      const n = firstBoundaryAtOrAfter(c, elapsed, maxSteps, runS);
      // The definition: the smallest n <= maxSteps with decodeRunS(c, n) >= elapsed, else maxSteps.
      let expected = 0;
      while (expected < maxSteps && decodeRunS(c, expected) < elapsed) expected++;
      expect(n).toBe(expected);
      if (!Number.isNaN(runS[0])) expect(runS[0]).toBe(decodeRunS(c, n));
    }
    expect(Math.min(...onEdge)).toBeGreaterThan(1000);
  });

  function llama70(b: number, ctx: number, c: Float64Array): void {
    perf('llama-2-70b', 'h100-sxm', 2, 'fp8').decodeLines(b, ctx, c);
  }
});
