/**
 * Step times from the roofline (README "How fleetsim computes time").
 *
 * One serving iteration processes `tokens` new tokens (one per decoding request plus any prefill
 * tokens) whose attention spans `attended` (query, key) pairs in total. Its time is
 *
 *   max(compute / (tp · peakFlops · mfu), bytes / (tp · memBw · mbu)) + comm + overhead
 *
 *   compute = 2 · activeParams · tokens + 4 · layers · heads · headDim · attended
 *   bytes   = weightBytesRead(tokens) + kvBytesPerToken · (attended_kv_reads + written tokens)
 *   comm    = 2 · layers · (latency + 2 (tp−1)/tp · tokens · hidden · 2 B / linkBw)   (tp > 1)
 *
 * A decode step of b requests holding C context tokens has tokens = b and attended = C, so with b
 * fixed the step time is the max of two lines in C: the engine sums runs of such steps in closed form.
 */
import type { Dtype } from '../scenario/schema.js';
import type { Efficiency, Model, Silicon } from '../catalog/catalog.js';

/**
 * Bytes per element. MX formats (Rouhani et al. 2023, "With Shared Microexponents, A Little Shifting
 * Goes a Long Way", arXiv:2302.08007) carry a shared 8-bit exponent per 16 elements and a 1-bit
 * micro-exponent per 2, so MX9 averages 9 bits, MX6 6 bits and MX4 4 bits per element.
 */
export const DTYPE_BYTES: Record<Dtype, number> = {
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
  fp4: 0.5,
  mx9: 9 / 8,
  mx6: 6 / 8,
  mx4: 4 / 8,
};

const ACTIVATION_BYTES = 2;

/** Peak dense throughput (FLOP/s) a chip offers for matmuls with weights in `dtype`. */
export function peakFlops(silicon: Silicon, dtype: Dtype): number {
  const tera = 1e12;
  const bf16 = silicon.bf16Tflops * tera;
  const pick = (x: number) => (Number.isFinite(x) && x > 0 ? x * tera : NaN);
  switch (dtype) {
    case 'bf16':
    case 'fp16':
      return bf16;
    case 'fp8':
      return pick(silicon.fp8Tflops) || bf16;
    case 'int8':
      return pick(silicon.int8Tops) || pick(silicon.fp8Tflops) || bf16;
    // 4-bit weights are usually dequantised into an 8-bit or 16-bit datapath unless the chip has FP4.
    case 'int4':
      return pick(silicon.int8Tops) || pick(silicon.fp8Tflops) || bf16;
    case 'fp4':
      return pick(silicon.fp4Tflops) || pick(silicon.fp8Tflops) || bf16;
    // Maia publishes MX9 and MX6 peaks, stored in the fp8 and fp4 columns (data/silicon.csv); MX4
    // runs at the MX6 rate (no separate figure). On other chips MX9 maps to the 8-bit datapath and
    // MX6/MX4 to the 4-bit one (OCP MXFP8/MXFP4 on Blackwell), falling back as above.
    case 'mx9':
      return pick(silicon.fp8Tflops) || pick(silicon.int8Tops) || bf16;
    case 'mx6':
    case 'mx4':
      return pick(silicon.fp4Tflops) || pick(silicon.fp8Tflops) || bf16;
  }
}

/** Batch sizes whose decode terms {@link RooflinePerf.decodeLines} tabulates (larger ones are computed). */
const DECODE_TABLE_BATCHES = 1024;
/** Token counts whose MoE weight reads {@link RooflinePerf.weightBytesRead} tabulates. */
const MOE_TABLE_TOKENS = 16384;

export interface PerfInputs {
  model: Model;
  silicon: Silicon;
  efficiency: Efficiency;
  tensorParallel: number;
  dtype: Dtype;
  kvDtype: Dtype;
  kvFraction: number;
  blockTokens: number;
}

/**
 * The derived numbers of one deployment and its step-time function. Immutable after construction;
 * the engine keeps one per deployment.
 */
export class RooflinePerf {
  readonly weightBytes: number;
  readonly kvBytesPerToken: number;
  readonly kvCapacityTokens: number;
  readonly kvCapacityBlocks: number;
  /** Seconds per FLOP of the whole replica at its achieved efficiency. */
  readonly sPerFlop: number;
  /** Seconds per byte moved from memory by the whole replica at its achieved efficiency. */
  readonly sPerByte: number;
  readonly overheadS: number;
  private readonly activeParams: number;
  private readonly attnFlopsPerPair: number;
  private readonly denseWeightBytes: number;
  private readonly expertWeightBytes: number;
  private readonly expertTouchMiss: number;
  private readonly commLatencyS: number;
  private readonly commSPerToken: number;
  private readonly kvTransferSPerToken: number;
  private readonly kvTransferLatencyS: number;
  /** MoE: weightBytesRead(t) for integer t < MOE_TABLE_TOKENS (empty for dense models). */
  private readonly moeWeightBytes: Float64Array;
  private readonly computePerCtxS: number;
  private readonly memoryPerCtxS: number;
  /** [3·batch + 0/1/2]: decode step's compute, memory and fixed terms that depend on the batch size only. */
  private readonly decodeByBatch: Float64Array;

  constructor(readonly inputs: PerfInputs) {
    const { model, silicon, efficiency, tensorParallel: tp, dtype, kvDtype } = inputs;
    const wBytes = DTYPE_BYTES[dtype];
    this.weightBytes = model.paramsB * 1e9 * wBytes;
    this.expertWeightBytes = model.expertParamsB * 1e9 * wBytes;
    this.denseWeightBytes = this.weightBytes - this.expertWeightBytes;
    // Probability that one token leaves a given expert untouched; a batch of n tokens touches
    // 1 − miss^n of the experts (independent routing, the usual first-order model).
    this.expertTouchMiss = model.experts > 1 ? 1 - model.expertsPerToken / model.experts : 0;
    this.kvBytesPerToken = 2 * model.layers * model.kvHeads * model.headDim * DTYPE_BYTES[kvDtype];
    const usableBytes = tp * silicon.memoryGb * 1e9 * inputs.kvFraction - this.weightBytes;
    this.kvCapacityBlocks = Math.max(0, Math.floor(usableBytes / this.kvBytesPerToken / inputs.blockTokens));
    this.kvCapacityTokens = this.kvCapacityBlocks * inputs.blockTokens;
    this.activeParams = model.activeParamsB * 1e9;
    this.attnFlopsPerPair = 4 * model.layers * model.heads * model.headDim;
    this.sPerFlop = 1 / (tp * peakFlops(silicon, dtype) * efficiency.mfu);
    this.sPerByte = 1 / (tp * silicon.memBwGbps * 1e9 * efficiency.mbu);
    this.overheadS = efficiency.overheadMs / 1000;
    // Disaggregated serving ships a prompt's KV from a prefill to a decode replica; each of the tp
    // chips sends its shard over its own link (silicon without a listed interconnect: no cost).
    {
      const linkBytesPerS = (Number.isFinite(silicon.interconnectGbps) ? silicon.interconnectGbps : 0) * 1e9;
      this.kvTransferSPerToken = linkBytesPerS > 0 ? this.kvBytesPerToken / (tp * linkBytesPerS) : 0;
      this.kvTransferLatencyS = (Number.isFinite(silicon.collectiveLatencyUs) ? silicon.collectiveLatencyUs : 0) * 1e-6;
    }
    if (tp > 1) {
      const linkBytesPerS = (Number.isFinite(silicon.interconnectGbps) ? silicon.interconnectGbps : 0) * 1e9;
      const latencyS = (Number.isFinite(silicon.collectiveLatencyUs) ? silicon.collectiveLatencyUs : 0) * 1e-6;
      this.commLatencyS = 2 * model.layers * latencyS;
      this.commSPerToken =
        linkBytesPerS > 0 ? (2 * model.layers * 2 * ((tp - 1) / tp) * model.hidden * ACTIVATION_BYTES) / linkBytesPerS : 0;
    } else {
      this.commLatencyS = 0;
      this.commSPerToken = 0;
    }
    // Every iteration of an MoE model asks how many weight bytes its tokens touch (a Math.pow);
    // token counts are small integers, so the answers are tabulated once.
    this.moeWeightBytes = new Float64Array(this.expertWeightBytes === 0 ? 0 : MOE_TABLE_TOKENS);
    for (let t = 0; t < this.moeWeightBytes.length; t++) this.moeWeightBytes[t] = this.moeWeightBytesAt(t);
    this.computePerCtxS = this.attnFlopsPerPair * this.sPerFlop;
    this.memoryPerCtxS = this.kvBytesPerToken * this.sPerByte;
    // A decode run starts at every batch change; its batch-only terms (a Math.pow for MoE weight
    // reads among them) are looked up rather than recomputed.
    this.decodeByBatch = new Float64Array(3 * DECODE_TABLE_BATCHES);
    for (let b = 0; b < DECODE_TABLE_BATCHES; b++) {
      this.decodeByBatch[3 * b] = this.decodeComputeS(b);
      this.decodeByBatch[3 * b + 1] = this.decodeMemoryS(b);
      this.decodeByBatch[3 * b + 2] = this.decodeFixedS(b);
    }
  }

  /** Weight bytes an iteration over `tokens` tokens reads (MoE: only the experts they touch). */
  weightBytesRead(tokens: number): number {
    if (this.expertWeightBytes === 0) return this.weightBytes;
    const i = tokens | 0;
    if (i === tokens && i >= 0 && i < MOE_TABLE_TOKENS) return this.moeWeightBytes[i];
    return this.moeWeightBytesAt(tokens);
  }

  private moeWeightBytesAt(tokens: number): number {
    return this.denseWeightBytes + this.expertWeightBytes * (1 - Math.pow(this.expertTouchMiss, tokens));
  }

  /** Time of one iteration; see the file comment for the terms. `kvTokensRead` are context tokens attended. */
  iterationS(tokens: number, attendedPairs: number, kvTokensRead: number): number {
    const compute = (2 * this.activeParams * tokens + this.attnFlopsPerPair * attendedPairs) * this.sPerFlop;
    const memory = (this.weightBytesRead(tokens) + this.kvBytesPerToken * (kvTokensRead + tokens)) * this.sPerByte;
    return (compute > memory ? compute : memory) + this.commLatencyS + this.commSPerToken * tokens + this.overheadS;
  }

  /** Time to move the KV of `tokens` tokens from one replica to another over the chip interconnect. */
  kvTransferS(tokens: number): number {
    return tokens > 0 ? this.kvTransferLatencyS + tokens * this.kvTransferSPerToken : 0;
  }

  /** One decode step of `batch` requests holding `contextTokens` tokens in total. */
  decodeStepS(batch: number, contextTokens: number): number {
    return this.iterationS(batch, contextTokens, contextTokens);
  }

  /** Prefill of prompts totalling `tokens`, whose squared lengths sum to `sumSquares` (causal attention). */
  prefillS(tokens: number, sumSquares: number): number {
    return this.iterationS(tokens, sumSquares / 2, 0);
  }

  /**
   * A chunked-prefill iteration: `decodeBatch` requests decoding over `decodeContext` tokens, plus
   * prefill chunks of `prefillTokens` whose attention spans `prefillPairs` (query, key) pairs and
   * reads `prefillKvRead` tokens of KV already cached by earlier chunks. One roofline over the lot:
   * the chunk's compute fills the decode step's memory-bound slack (Sarathi's point).
   */
  mixedS(decodeBatch: number, decodeContext: number, prefillTokens: number, prefillPairs: number, prefillKvRead: number): number {
    return this.iterationS(decodeBatch + prefillTokens, decodeContext + prefillPairs, decodeContext + prefillKvRead);
  }

  /**
   * Coefficients of a decode step as two lines in the step index k of a run in which `batch` stays
   * fixed and the context starts at `contextTokens`: t(k) = max(cA + cB·k, mA + mB·k) + fixed.
   * Written into `out` (length 5) so the hot loop allocates nothing.
   */
  decodeLines(batch: number, contextTokens: number, out: Float64Array): void {
    const computePerCtx = this.computePerCtxS;
    const memoryPerCtx = this.memoryPerCtxS;
    const table = this.decodeByBatch;
    if (batch < DECODE_TABLE_BATCHES) {
      // The same expressions as below, evaluated once per batch size: identical doubles.
      const i = 3 * batch;
      out[0] = table[i] + computePerCtx * contextTokens;
      out[2] = table[i + 1] + memoryPerCtx * contextTokens;
      out[4] = table[i + 2];
    } else {
      out[0] = this.decodeComputeS(batch) + computePerCtx * contextTokens;
      out[2] = this.decodeMemoryS(batch) + memoryPerCtx * contextTokens;
      out[4] = this.decodeFixedS(batch);
    }
    out[1] = computePerCtx * batch;
    out[3] = memoryPerCtx * batch;
  }

  private decodeComputeS(batch: number): number {
    return 2 * this.activeParams * batch * this.sPerFlop;
  }

  private decodeMemoryS(batch: number): number {
    return (this.weightBytesRead(batch) + this.kvBytesPerToken * batch) * this.sPerByte;
  }

  private decodeFixedS(batch: number): number {
    return this.commLatencyS + this.commSPerToken * batch + this.overheadS;
  }
}

/**
 * Whether the compute line of a run is on top at step 0 (on a tie, the steeper one, which is on top
 * from then on). That line stays on top until the crossing point, if the run reaches it.
 */
function computeOnTop(c: Float64Array): boolean {
  return c[0] > c[2] || (c[0] === c[2] && c[1] >= c[3]);
}

/** Time of step k of a run with coefficients `c`: the term {@link decodeRunS} sums. */
function decodeStepAtS(c: Float64Array, k: number): number {
  const compute = c[0] + c[1] * k;
  const memory = c[2] + c[3] * k;
  return (compute > memory ? compute : memory) + c[4];
}

/**
 * Total time of the first n steps of a run with coefficients `c` from {@link RooflinePerf.decodeLines}.
 * The two lines cross at most once, so the sum splits into at most two arithmetic series.
 */
export function decodeRunS(c: Float64Array, n: number): number {
  if (n <= 0) return 0;
  const cA = c[0], cB = c[1], mA = c[2], mB = c[3];
  const computeFirst = computeOnTop(c);
  const slopeDiff = cB - mB;
  let split = n;
  // Parallel lines never cross. (Not `cross = … ? Infinity : …`: a value merged with an `Infinity`
  // that never ran before V8 optimised this is kept boxed, a heap object per call.)
  if (slopeDiff !== 0) {
    const cross = (mA - cA) / slopeDiff;
    if (cross > 0 && cross < n) split = Math.ceil(cross);
  }
  // Σ_{k=k0}^{k1−1} (a + b·k) = (k1 − k0)·a + b·(k1(k1 − 1) − k0(k0 − 1))/2, for steps 0..split−1 on
  // the line on top at step 0 and split..n−1 on the other. Written out rather than as a helper:
  // a helper V8 does not inline boxes its double arguments and result on every call.
  const a0 = computeFirst ? cA : mA;
  const b0 = computeFirst ? cB : mB;
  const a1 = computeFirst ? mA : cA;
  const b1 = computeFirst ? mB : cB;
  const first = split * a0 + (b0 * (split * (split - 1))) / 2;
  const rest = n <= split ? 0 : (n - split) * a1 + (b1 * (n * (n - 1) - split * (split - 1))) / 2;
  return first + rest + n * c[4];
}

/** Largest n ≤ maxSteps whose first n steps end no later than `elapsedS` into the run. */
export function decodeStepsWithin(c: Float64Array, elapsedS: number, maxSteps: number): number {
  let lo = 0;
  let hi = maxSteps;
  if (decodeRunS(c, hi) <= elapsedS) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (decodeRunS(c, mid) <= elapsedS) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Smallest n <= maxSteps whose first n steps of a run end at or after `elapsedS`: the boundary an
 * arrival mid-run waits for. Equal to stepping `decodeStepsWithin` up by one when it falls short,
 * but this runs once per arrival, so it starts from the root of the quadratic the step line on top
 * at the run's start gives (the run's time when the lines do not cross), which is exact up to
 * rounding, and walks, checking with decodeRunS itself; the binary search is the fallback for the
 * rare long walk. The answer's decodeRunS goes to runS[0] (NaN when the fallback found the answer),
 * so the caller need not compute it again.
 */
export function firstBoundaryAtOrAfter(c: Float64Array, elapsedS: number, maxSteps: number, runS: Float64Array): number {
  runS[0] = NaN;
  const computeFirst = computeOnTop(c);
  const a = (computeFirst ? c[0] : c[2]) + c[4];
  const b = computeFirst ? c[1] : c[3];
  if (a > 0 && b >= 0) {
    // a·n + b·n(n − 1)/2 = elapsed, in the form without cancellation.
    const p = a - b / 2;
    let n = Math.ceil((2 * elapsedS) / (p + Math.sqrt(p * p + 2 * b * elapsedS)));
    if (!(n >= 0)) n = 0;
    else if (n > maxSteps) n = maxSteps;
    let t = decodeRunS(c, n);
    for (let i = 0; i < 8; i++) {
      if (n < maxSteps && t < elapsedS) {
        n++;
        t = decodeRunS(c, n);
        continue;
      }
      // t less step n − 1 is decodeRunS(c, n − 1) to within a few ulps of t (every term is
      // positive): when it falls well short of elapsed, so does the exact value, which is then
      // not computed.
      if (n > 0 && t - decodeStepAtS(c, n - 1) >= elapsedS - 1e-9 * t) {
        const before = decodeRunS(c, n - 1);
        if (before >= elapsedS) {
          n--;
          t = before;
          continue;
        }
      }
      runS[0] = t;
      return n;
    }
  }
  const m = decodeStepsWithin(c, elapsedS, maxSteps);
  return m < maxSteps && decodeRunS(c, m) < elapsedS ? m + 1 : m;
}
