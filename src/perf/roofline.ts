/**
 * Step times from named physics terms (docs/physics.md "Formulas"; every factor is a column of
 * data/efficiency.csv with its unit, range and provenance).
 *
 * One serving iteration processes `n` new tokens (one per decoding request plus any prefill
 * tokens) of which `s` belong to decoding sequences; its attention spans `A` (query, key) pairs
 * and reads `R` cached tokens. Its time is the sum of kernels that run one after another:
 *
 *   t = max(gemm(n), weights(n)) + attention(A, R) + allReduce(n) + allToAll(n) + host(s)
 *
 *   gemm(n)      = 2 · (Pd · (n + tp·n½) + Pe/E · (k·n + E_t(n) · tp_e·m½) · λ_ep) / (tp · peak · gemm_eff)
 *                  (gemm_eff_8bit instead below 16 bits, when the profile gives it; tp_e = tp when
 *                  the experts are sharded over the chips, 1 when spread whole over them)
 *   weights(n)   = (weight_bytes_read(n) + kv · n) / (tp · mem_bw · mem_eff)
 *   attention    = max(4 · layers · heads · head_dim · A / (tp · peak(kv) · attn_eff),
 *                      kv · R / (tp · mem_bw · kv_read_eff))
 *   allReduce(n) = calls · (latency + 2 (tp−1)/tp · n · hidden · 2 B / (link_bw · comm_eff))
 *                  (latency: the profile's comm_latency_us, else the silicon's collective_latency_us)
 *   host(s)      = overhead_ms + overhead_per_seq_us · s
 *
 * With multi-head latent attention (model attention `mla`) kv is the latent, layers · (kv_lora_rank
 * + rope) bytes, and decode pairs cost 2 · layers · heads · (2 · kv_lora_rank + rope) FLOPs against
 * prefill pairs' 2 · layers · heads · (2 · head_dim + rope) (docs/physics.md).
 *
 * Pd: active parameters outside the routed experts; Pe: routed-expert parameters (E experts, top
 * k); E_t(n) = E (1 − (1 − k/E)^n) experts touched. `n + tp·n½` is n / (n / (n + tp·n½)): the GEMM
 * runs at gemm_eff · n / (n + tp·n½) of peak, a saturating curve in the tokens per iteration (small M
 * tiles waste the tensor cores); each touched expert's grouped GEMM likewise at its own tokens. The
 * half point grows with the chips a weight matrix is sharded over: each chip holds 1/tp of its
 * columns (or rows), so the same tokens make 1/tp of the output tiles per chip, and a GEMM needs tp
 * times the tokens to fill the chip's SMs (a whole expert on one chip, with expert parallelism, is not
 * sharded). n½ = gemm_half_ridge · ridge and m½ = moe_half_ridge · ridge (gemm_half_ridge when
 * empty), with ridge = peak · bytes per weight / (2 · mem_bw) the tokens at which the chip turns
 * from bandwidth- to compute-bound ({@link ridgeTokens}): a chip with more FLOPs per byte needs more
 * tokens to hide its weight tiles' loads.
 *
 * A decode step of b requests holding C context tokens has n = s = b and A = R = C, so with b fixed
 * the step time is one line in C (attention is the only term in C): the engine sums runs of such
 * steps in closed form, and everything that depends on b alone is tabulated once.
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
/**
 * Bytes per catalog `memory_gb`: vendors' memory figures are binary (HBM stacks hold 2^k bytes; an
 * "80 GB" H100 reports 81,559 MiB in nvidia-smi), so 80 GB of HBM is 80 GiB = 85.9e9 bytes.
 */
export const MEMORY_BYTES_PER_GB = 2 ** 30;

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

/**
 * The GEMM efficiency of weights in `dtype` on `silicon`: `gemm_eff_8bit` when the GEMM runs on a
 * datapath narrower than 16 bits (its peak is not the bf16 column), if the profile gives one;
 * otherwise `gemm_eff`. A chip without the format (A100 and FP8) runs it at 16 bits, at gemm_eff.
 */
export function gemmEffFor(silicon: Silicon, dtype: Dtype, eff: Efficiency): number {
  const lowBit = peakFlops(silicon, dtype) !== silicon.bf16Tflops * 1e12;
  return lowBit && Number.isFinite(eff.gemmEff8bit) ? eff.gemmEff8bit : eff.gemmEff;
}

/**
 * The chip's ridge point in tokens per iteration for weights in `dtype`: a GEMM over n tokens does
 * 2n FLOPs per weight, so n = peak × bytes per weight / (2 × memory bandwidth) is where its FLOPs
 * per weight byte read equal the chip's FLOPs per byte of bandwidth (A100 FP16 153, H100 295 at
 * BF16 and at FP8). The GEMM curve's half points are shares of it (docs/physics.md#formulas).
 */
export function ridgeTokens(silicon: Silicon, dtype: Dtype): number {
  return (peakFlops(silicon, dtype) * DTYPE_BYTES[dtype]) / (2 * silicon.memBwGbps * 1e9);
}

/** Fixed time of one collective call (µs): the profile's `comm_latency_us` if given, else the silicon's, else 0. */
export function collectiveLatencyUs(silicon: Silicon, eff: Efficiency): number {
  if (Number.isFinite(eff.commLatencyUs)) return eff.commLatencyUs;
  return Number.isFinite(silicon.collectiveLatencyUs) ? silicon.collectiveLatencyUs : 0;
}

/** Batch sizes whose decode terms {@link RooflinePerf.decodeLines} tabulates (larger ones are computed). */
const DECODE_TABLE_BATCHES = 1024;
/** Token counts whose MoE expert-touch fractions {@link RooflinePerf} tabulates. */
const MOE_TABLE_TOKENS = 16384;

/**
 * The KV sizing inputs of a stack that sizes its cache from free memory: the replica's reserved
 * bytes and activation bytes at `maxNumTokens` tokens per iteration (docs/physics.md#kv-cache-memory).
 */
export function kvFreeMemory(
  model: Model,
  tensorParallel: number,
  maxNumTokens: number,
  stack: { reservedGbPerChip: number; activationHiddenMultiple: number },
): { reservedBytes: number; activationBytes: number } {
  return {
    reservedBytes: tensorParallel * stack.reservedGbPerChip * MEMORY_BYTES_PER_GB,
    // Each chip holds one block's live tensors for max_num_tokens tokens (TensorRT reuses them
    // across layers); counted unsharded on every chip, which errs towards less KV.
    activationBytes: tensorParallel * maxNumTokens * stack.activationHiddenMultiple * ACTIVATION_BYTES * model.hidden,
  };
}

export interface PerfInputs {
  model: Model;
  silicon: Silicon;
  efficiency: Efficiency;
  tensorParallel: number;
  dtype: Dtype;
  kvDtype: Dtype;
  kvFraction: number;
  blockTokens: number;
  /**
   * Set when the stack sizes its KV cache from free memory (data/stacks.csv kv_memory `free`,
   * TensorRT-LLM): KV = kvFraction × (device memory − reserved − activations − weights) instead of
   * kvFraction × device memory − weights. Bytes for the whole replica (tp chips).
   */
  kvFree?: { reservedBytes: number; activationBytes: number };
  /** Experts spread over the tp chips (expert parallel) rather than each sharded over all of them. */
  expertParallel?: boolean;
  /** The routed experts' weight format when it differs from `dtype` (MoE only). */
  expertDtype?: Dtype;
}

/**
 * The derived numbers of one deployment and its step-time function. Immutable after construction;
 * the engine keeps one per deployment.
 */
export class RooflinePerf {
  readonly weightBytes: number;
  /**
   * Bytes of the replica's memory the weights and the KV cache share: kv_fraction of all memory, or
   * (a stack sizing KV from free memory) all memory less the reserve and activations, of which the
   * KV cache gets kv_fraction of what the weights leave.
   */
  readonly weightsAndKvBytes: number;
  readonly kvBytesPerToken: number;
  readonly kvCapacityTokens: number;
  readonly kvCapacityBlocks: number;
  /** Seconds per GEMM FLOP of the whole replica at gemm_eff (before the token-count curve). */
  readonly sPerFlop: number;
  /** Seconds per weight byte streamed by the whole replica at mem_eff. */
  readonly sPerByte: number;
  /** Fixed host time per iteration (overhead_ms). */
  readonly overheadS: number;
  /** Host time per decoding sequence in an iteration (overhead_per_seq_us). */
  readonly overheadPerSeqS: number;
  /** Client-side time per request outside the engine (frontend_ms): added to TTFT and end-to-end latency, not to GPU time. */
  readonly frontendS: number;
  /** Seconds of attention per context token a decode step reads: max(FLOP time, KV read time). */
  readonly attnPerCtxS: number;
  private readonly denseActiveParams: number;
  private readonly expertParamsPerExpert: number;
  private readonly experts: number;
  private readonly expertsPerToken: number;
  /** gemm_half_ridge × ridge × tp: the tokens at which a GEMM sharded over tp chips reaches half of gemm_eff. */
  private readonly gemmHalfTokens: number;
  /** moe_half_ridge × ridge × tp with sharded experts (× 1 with experts spread whole over the chips). */
  private readonly moeHalfTokens: number;
  private readonly moeImbalance: number;
  private readonly sPerAttnFlop: number;
  private readonly sPerKvByte: number;
  private readonly attnFlopsPerPair: number;
  /** FLOPs per (query, key) pair of a decode step: the prefill form except with MLA (absorbed weights). */
  private readonly attnDecodeFlopsPerPair: number;
  private readonly mla: boolean;
  /** Seconds per routed-expert GEMM FLOP: sPerFlop unless the experts have their own dtype. */
  private readonly sPerExpertFlop: number;
  private readonly expertDtypeApart: boolean;
  /** Sliding-window layers: their window (tokens) and KV bytes / attention FLOPs per token or pair (0 without). */
  private readonly window: number;
  private readonly slideKvBytesPerToken: number;
  private readonly slideFlopsPerPair: number;
  /** Per decoding sequence: a sliding layer's window read (s) and compute (s); 0 without sliding layers. */
  private readonly slideReadPerSeqS: number;
  private readonly slideComputePerSeqS: number;
  /** Seconds per context token of the full-attention layers: compute and KV read apart. */
  private readonly attnComputePerCtxS: number;
  private readonly attnReadPerCtxS: number;
  private readonly denseWeightBytes: number;
  private readonly expertWeightBytes: number;
  private readonly expertTouchMiss: number;
  private readonly commLatencyS: number;
  private readonly commSPerToken: number;
  private readonly a2aLatencyS: number;
  private readonly a2aSPerToken: number;
  private readonly kvTransferSPerToken: number;
  private readonly kvTransferLatencyS: number;
  /** MoE: share of experts t tokens touch, 1 − miss^t, for integer t < MOE_TABLE_TOKENS (empty when dense). */
  private readonly moeTouched: Float64Array;
  /** [2·batch + 0/1]: a decode step's batch-only linear-layer time and fixed (comm + host) time. */
  private readonly decodeByBatch: Float64Array;

  constructor(readonly inputs: PerfInputs) {
    const { model, silicon, efficiency: eff, tensorParallel: tp, dtype, kvDtype } = inputs;
    const wBytes = DTYPE_BYTES[dtype];
    const moe = model.experts > 1 && model.expertParamsB > 0;
    const expertDtype = moe && inputs.expertDtype !== undefined ? inputs.expertDtype : dtype;
    this.expertDtypeApart = expertDtype !== dtype;
    const eBytes = DTYPE_BYTES[expertDtype];
    // Quantised checkpoints keep the input embedding and the LM head in 16 bits (TensorRT Model
    // Optimizer's default configs disable the lm_head quantizer and leave nn.Embedding alone; DeepSeek
    // ships its FP8 weights so), so those 2 · vocab · hidden parameters count 2 bytes each.
    const embedParams = wBytes < 2 && Number.isFinite(model.vocabSize) ? 2 * model.vocabSize * model.hidden : 0;
    const embedExtraBytes = embedParams * (2 - wBytes);
    this.weightBytes = embedExtraBytes + (this.expertDtypeApart
      ? (model.paramsB - model.expertParamsB) * 1e9 * wBytes + model.expertParamsB * 1e9 * eBytes
      : model.paramsB * 1e9 * wBytes);
    this.expertWeightBytes = moe ? model.expertParamsB * 1e9 * eBytes : 0;
    this.denseWeightBytes = this.weightBytes - this.expertWeightBytes;
    this.experts = moe ? model.experts : 1;
    this.expertsPerToken = moe ? model.expertsPerToken : 1;
    // Probability that one token leaves a given expert untouched; a batch of n tokens touches
    // 1 − miss^n of the experts (independent routing, the usual first-order model).
    this.expertTouchMiss = moe ? 1 - model.expertsPerToken / model.experts : 0;
    this.expertParamsPerExpert = moe ? (model.expertParamsB * 1e9) / model.experts : 0;
    this.denseActiveParams = model.activeParamsB * 1e9 - this.expertParamsPerExpert * this.expertsPerToken * (moe ? 1 : 0);
    // MLA caches one compressed latent (kv_lora_rank) plus the shared RoPE key per layer, for K and V
    // together (DeepSeek-V2, arXiv:2405.04434, section 2.1); GQA caches K and V per KV head.
    this.mla = model.attention === 'mla';
    // Sliding-window layers keep only their window per sequence: the per-token KV (capacity, reads
    // over the context, transfers) counts the full-attention layers; the window is a per-sequence term.
    const slidingLayers = Number.isFinite(model.slidingLayers) ? model.slidingLayers : 0;
    const fullLayers = model.layers - slidingLayers;
    this.window = slidingLayers > 0 ? model.slidingWindow : 0;
    this.slideKvBytesPerToken = 2 * slidingLayers * model.kvHeads * model.headDim * DTYPE_BYTES[kvDtype];
    this.slideFlopsPerPair = 4 * slidingLayers * model.heads * model.headDim;
    this.kvBytesPerToken = this.mla
      ? model.layers * (model.kvLoraRank + model.qkRopeHeadDim) * DTYPE_BYTES[kvDtype]
      : 2 * fullLayers * model.kvHeads * model.headDim * DTYPE_BYTES[kvDtype];
    const memoryBytes = tp * silicon.memoryGb * MEMORY_BYTES_PER_GB;
    this.weightsAndKvBytes = inputs.kvFree
      ? memoryBytes - inputs.kvFree.reservedBytes - inputs.kvFree.activationBytes
      : memoryBytes * inputs.kvFraction;
    const usableBytes = inputs.kvFree
      ? inputs.kvFraction * (this.weightsAndKvBytes - this.weightBytes)
      : this.weightsAndKvBytes - this.weightBytes;
    this.kvCapacityBlocks = Math.max(0, Math.floor(usableBytes / this.kvBytesPerToken / inputs.blockTokens));
    this.kvCapacityTokens = this.kvCapacityBlocks * inputs.blockTokens;
    this.attnFlopsPerPair = 4 * fullLayers * model.heads * model.headDim;
    this.attnDecodeFlopsPerPair = this.attnFlopsPerPair;
    if (this.mla) {
      // Prefill decompresses the latent and attends per head: q·k over head_dim + rope, p·v over
      // head_dim (qk_nope_head_dim = v_head_dim). Decode absorbs the up-projections into q and the
      // output (as FlashMLA and vLLM do) and attends over the latent itself: q·k over
      // kv_lora_rank + rope, p·v over kv_lora_rank, per query head.
      this.attnFlopsPerPair = 2 * model.layers * model.heads * (2 * model.headDim + model.qkRopeHeadDim);
      this.attnDecodeFlopsPerPair = 2 * model.layers * model.heads * (2 * model.kvLoraRank + model.qkRopeHeadDim);
    }
    const bytesPerS = tp * silicon.memBwGbps * 1e9;
    this.sPerFlop = 1 / (tp * peakFlops(silicon, dtype) * gemmEffFor(silicon, dtype, eff));
    this.sPerExpertFlop = this.expertDtypeApart ? 1 / (tp * peakFlops(silicon, expertDtype) * gemmEffFor(silicon, expertDtype, eff)) : this.sPerFlop;
    this.sPerByte = 1 / (bytesPerS * eff.memEff);
    this.sPerAttnFlop = 1 / (tp * peakFlops(silicon, kvDtype) * eff.attnEff);
    this.sPerKvByte = 1 / (bytesPerS * eff.kvReadEff);
    const attnCompute = this.attnDecodeFlopsPerPair * this.sPerAttnFlop;
    const attnMemory = this.kvBytesPerToken * this.sPerKvByte;
    this.attnPerCtxS = attnCompute > attnMemory ? attnCompute : attnMemory;
    this.attnComputePerCtxS = attnCompute;
    this.attnReadPerCtxS = attnMemory;
    this.slideComputePerSeqS = this.slideFlopsPerPair * this.window * this.sPerAttnFlop;
    this.slideReadPerSeqS = this.slideKvBytesPerToken * this.window * this.sPerKvByte;
    const expertParallel = moe && tp > 1 && inputs.expertParallel === true;
    // Sharded over tp chips a GEMM's tokens make 1/tp of the output tiles per chip, so filling the
    // chip takes tp times the tokens; an expert held whole by one chip (expert parallel) is not sharded.
    // Sharded over tp chips a GEMM's tokens make 1/tp of the output tiles per chip, so filling the
    // chip takes tp times the tokens; an expert held whole by one chip (expert parallel) is not sharded.
    // The half point is a share of the chip's ridge point: a GEMM over few tokens waits on its
    // weight tiles, and the tokens that hide a tile's load behind its math grow with the chip's
    // FLOPs per byte of bandwidth (A100 FP16 153 tokens, H100 BF16 or FP8 295).
    this.gemmHalfTokens = eff.gemmHalfRidge * ridgeTokens(silicon, dtype) * tp;
    // Experts without a curve of their own (empty moe_half_ridge) follow the dense GEMMs' curve.
    const moeHalfRidge = Number.isFinite(eff.moeHalfRidge) ? eff.moeHalfRidge : eff.gemmHalfRidge;
    this.moeHalfTokens = moeHalfRidge * ridgeTokens(silicon, expertDtype) * (expertParallel ? 1 : tp);
    // Sharded experts split every expert's work evenly over the chips; spread experts leave the
    // chip with the busiest experts setting the pace.
    this.moeImbalance = expertParallel ? eff.moeImbalance : 1;
    this.overheadS = eff.overheadMs / 1000;
    this.overheadPerSeqS = eff.overheadPerSeqUs * 1e-6;
    this.frontendS = (eff.frontendMs > 0 ? eff.frontendMs : 0) / 1000;
    const linkBytesPerS = (Number.isFinite(silicon.interconnectGbps) ? silicon.interconnectGbps : 0) * 1e9;
    const latencyS = collectiveLatencyUs(silicon, eff) * 1e-6;
    // Disaggregated serving ships a prompt's KV from a prefill to a decode replica; each of the tp
    // chips sends its shard over its own link (silicon without a listed interconnect: no cost).
    this.kvTransferSPerToken = linkBytesPerS > 0 ? this.kvBytesPerToken / (tp * linkBytesPerS) : 0;
    this.kvTransferLatencyS = latencyS;
    if (tp > 1) {
      // Megatron layout: one all-reduce after attention and one after the FFN per layer; with
      // experts spread over the chips the FFN's all-reduce becomes a dispatch and a combine
      // all-to-all of each token's hidden state to its k experts.
      const moeLayers = Number.isFinite(model.moeLayers) ? model.moeLayers : model.layers;
      const calls = expertParallel ? 2 * model.layers - moeLayers : 2 * model.layers;
      const linkEff = linkBytesPerS * eff.commEff;
      this.commLatencyS = calls * latencyS;
      this.commSPerToken = linkEff > 0 ? (calls * 2 * ((tp - 1) / tp) * model.hidden * ACTIVATION_BYTES) / linkEff : 0;
      this.a2aLatencyS = expertParallel ? 2 * moeLayers * latencyS : 0;
      this.a2aSPerToken =
        expertParallel && linkEff > 0
          ? (2 * moeLayers * model.expertsPerToken * ((tp - 1) / tp) * model.hidden * ACTIVATION_BYTES) / linkEff
          : 0;
    } else {
      this.commLatencyS = 0;
      this.commSPerToken = 0;
      this.a2aLatencyS = 0;
      this.a2aSPerToken = 0;
    }
    // Every MoE iteration asks how many experts its tokens touch (a Math.pow); token counts are
    // small integers, so the answers are tabulated once.
    this.moeTouched = new Float64Array(this.expertWeightBytes === 0 ? 0 : MOE_TABLE_TOKENS);
    for (let t = 0; t < this.moeTouched.length; t++) this.moeTouched[t] = 1 - Math.pow(this.expertTouchMiss, t);
    // A decode run starts at every batch change; its batch-only terms are looked up rather than recomputed.
    this.decodeByBatch = new Float64Array(2 * DECODE_TABLE_BATCHES);
    for (let b = 0; b < DECODE_TABLE_BATCHES; b++) {
      this.decodeByBatch[2 * b] = this.linearS(b);
      this.decodeByBatch[2 * b + 1] = this.fixedS(b, b);
    }
  }

  /** Share of the routed experts an iteration over `tokens` tokens touches (1 for dense models). */
  private touched(tokens: number): number {
    if (this.expertWeightBytes === 0) return 1;
    const i = tokens | 0;
    if (i === tokens && i >= 0 && i < MOE_TABLE_TOKENS) return this.moeTouched[i];
    return 1 - Math.pow(this.expertTouchMiss, tokens);
  }

  /** Weight bytes an iteration over `tokens` tokens reads (MoE: only the experts they touch). */
  weightBytesRead(tokens: number): number {
    if (this.expertWeightBytes === 0) return this.weightBytes;
    return this.denseWeightBytes + this.expertWeightBytes * this.touched(tokens);
  }

  /**
   * GEMM time of `tokens` tokens: dense layers at the token-count curve, each touched expert's
   * grouped GEMM at the curve of the tokens it receives (k·n spread over E·touched experts).
   */
  gemmS(tokens: number): number {
    if (tokens <= 0) return 0;
    let flops = 2 * this.denseActiveParams * (tokens + this.gemmHalfTokens);
    if (this.expertWeightBytes > 0) {
      const touchedExperts = this.experts * this.touched(tokens);
      const expertFlops = 2 * this.expertParamsPerExpert * (this.expertsPerToken * tokens + touchedExperts * this.moeHalfTokens) * this.moeImbalance;
      // Experts in their own dtype run at that dtype's peak.
      if (this.expertDtypeApart) return flops * this.sPerFlop + expertFlops * this.sPerExpertFlop;
      flops += expertFlops;
    }
    return flops * this.sPerFlop;
  }

  /** Linear layers of an iteration over `tokens` tokens: GEMM or weight streaming (plus KV writes), whichever binds. */
  private linearS(tokens: number): number {
    if (tokens <= 0) return 0;
    const compute = this.gemmS(tokens);
    const memory = (this.weightBytesRead(tokens) + this.kvBytesPerToken * tokens) * this.sPerByte;
    return compute > memory ? compute : memory;
  }

  /** Collectives over `tokens` tokens plus host time of an iteration with `decodeSeqs` decoding sequences. */
  private fixedS(tokens: number, decodeSeqs: number): number {
    return (
      this.commLatencyS + this.commSPerToken * tokens + this.a2aLatencyS + this.a2aSPerToken * tokens +
      this.overheadS + this.overheadPerSeqS * decodeSeqs
    );
  }

  /** Attention over `pairs` prefill (query, key) pairs reading `kvTokensRead` cached tokens. */
  attentionS(pairs: number, kvTokensRead: number): number {
    return this.attentionSplitS(0, pairs, kvTokensRead, 0, 0);
  }

  /**
   * Attention over `decodePairs` pairs of decoding queries and `prefillPairs` of prompt queries,
   * reading `kvTokensRead` cached tokens. The two kinds differ in FLOPs per pair only with MLA.
   */
  private attentionSplitS(decodePairs: number, prefillPairs: number, kvTokensRead: number, decodeSeqs: number, prefillTokens: number): number {
    if (this.window > 0) return this.attentionSlidingS(decodePairs, prefillPairs, kvTokensRead, decodeSeqs, prefillTokens);
    // Without MLA the FLOPs are one product over all pairs, as before the split (same doubles).
    const compute = this.mla
      ? (this.attnDecodeFlopsPerPair * decodePairs + this.attnFlopsPerPair * prefillPairs) * this.sPerAttnFlop
      : this.attnFlopsPerPair * (decodePairs + prefillPairs) * this.sPerAttnFlop;
    const memory = this.kvBytesPerToken * kvTokensRead * this.sPerKvByte;
    return compute > memory ? compute : memory;
  }

  /**
   * Attention with sliding-window layers: the full layers as above; each sliding layer attends to
   * at most `window` keys per query and keeps at most `window` tokens per sequence. A decoding
   * sequence reads its window (its whole context if shorter: an overestimate below the window); a
   * prompt's queries span min(causal pairs, tokens · window), and a chunk reads at most one window
   * of the earlier chunks' KV (one prompt is part-way at a time).
   */
  private attentionSlidingS(decodePairs: number, prefillPairs: number, kvTokensRead: number, decodeSeqs: number, prefillTokens: number): number {
    const slidePrefillPairs = prefillPairs < prefillTokens * this.window ? prefillPairs : prefillTokens * this.window;
    const prefillRead = kvTokensRead - decodePairs;
    const slidePrefillRead = prefillRead < this.window ? prefillRead : this.window;
    const compute =
      (this.attnFlopsPerPair * (decodePairs + prefillPairs) + this.slideFlopsPerPair * slidePrefillPairs) * this.sPerAttnFlop +
      this.slideComputePerSeqS * decodeSeqs;
    const memory =
      (this.kvBytesPerToken * kvTokensRead + this.slideKvBytesPerToken * slidePrefillRead) * this.sPerKvByte +
      this.slideReadPerSeqS * decodeSeqs;
    return compute > memory ? compute : memory;
  }

  /** Time of one iteration; see the file comment for the terms. */
  private iterationS(tokens: number, decodePairs: number, prefillPairs: number, kvTokensRead: number, decodeSeqs: number): number {
    const attention = this.attentionSplitS(decodePairs, prefillPairs, kvTokensRead, decodeSeqs, tokens - decodeSeqs);
    return this.linearS(tokens) + attention + this.fixedS(tokens, decodeSeqs);
  }

  /** Time to move the KV of `tokens` tokens from one replica to another over the chip interconnect. */
  kvTransferS(tokens: number): number {
    return tokens > 0 ? this.kvTransferLatencyS + tokens * this.kvTransferSPerToken : 0;
  }

  /** One decode step of `batch` requests holding `contextTokens` tokens in total. */
  decodeStepS(batch: number, contextTokens: number): number {
    return this.iterationS(batch, contextTokens, 0, contextTokens, batch);
  }

  /** Prefill of prompts totalling `tokens`, whose squared lengths sum to `sumSquares` (causal attention). */
  prefillS(tokens: number, sumSquares: number): number {
    return this.iterationS(tokens, 0, sumSquares / 2, 0, 0);
  }

  /**
   * A chunked-prefill iteration: `decodeBatch` requests decoding over `decodeContext` tokens, plus
   * prefill chunks of `prefillTokens` whose attention spans `prefillPairs` (query, key) pairs and
   * reads `prefillKvRead` tokens of KV already cached by earlier chunks. The chunk's GEMMs share
   * the decode step's weight reads (Sarathi's point): one linear-layer term over all the tokens.
   */
  mixedS(decodeBatch: number, decodeContext: number, prefillTokens: number, prefillPairs: number, prefillKvRead: number): number {
    return this.iterationS(decodeBatch + prefillTokens, decodeContext, prefillPairs, decodeContext + prefillKvRead, decodeBatch);
  }

  /**
   * Coefficients of a decode step as two lines in the step index k of a run in which `batch` stays
   * fixed and the context starts at `contextTokens`: t(k) = max(cA + cB·k, mA + mB·k) + fixed.
   * Attention is the only term in the context, and it is proportional to it, so both lines are the
   * same line. Written into `out` (length 5) so the hot loop allocates nothing.
   */
  decodeLines(batch: number, contextTokens: number, out: Float64Array): void {
    const perCtx = this.attnPerCtxS;
    let linear: number, fixed: number;
    if (batch < DECODE_TABLE_BATCHES) {
      // The same expressions as below, evaluated once per batch size: identical doubles.
      linear = this.decodeByBatch[2 * batch];
      fixed = this.decodeByBatch[2 * batch + 1];
    } else {
      linear = this.linearS(batch);
      fixed = this.fixedS(batch, batch);
    }
    if (this.window > 0) {
      // Sliding layers add a per-sequence window term: attention's compute and read are two lines.
      out[0] = linear + this.attnComputePerCtxS * contextTokens + this.slideComputePerSeqS * batch;
      out[1] = this.attnComputePerCtxS * batch;
      out[2] = linear + this.attnReadPerCtxS * contextTokens + this.slideReadPerSeqS * batch;
      out[3] = this.attnReadPerCtxS * batch;
      out[4] = fixed;
      return;
    }
    const start = linear + perCtx * contextTokens;
    out[0] = start;
    out[1] = perCtx * batch;
    out[2] = start;
    out[3] = perCtx * batch;
    out[4] = fixed;
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
