/**
 * A replica's saturated rate, from its step-time model: the rate a replica kept full approaches,
 * used wherever a run is compared with what its fleet could do (explain's full-load figures, the
 * loader's "cannot keep up" warning, the reports' capacity used). At mean prompt P and output O
 * tokens the batch holds as many requests as max_batch and the KV cache allow at the mean context
 * (P + O/2), and every request's prefill is amortised over its output tokens:
 *   replica output tok/s = B·O / (O·decodeStepS(B, B·ctx) + prefillS(B·P, B·P²))
 */
export interface StepTimes {
  readonly kvCapacityTokens: number;
  decodeStepS(batch: number, contextTokens: number): number;
  prefillS(tokens: number, sumSquares: number): number;
}

export interface Saturation {
  /** Requests in the saturated batch (at least 1, even when the KV cache holds less than one). */
  batch: number;
  /** The batch max_batch and the KV cache allow at the mean context, possibly 0. */
  fit: number;
  outputTokensPerS: number;
  requestsPerS: number;
}

export function saturatedReplica(perf: StepTimes, maxBatch: number, promptTokens: number, outputTokens: number): Saturation {
  const P = promptTokens;
  const O = Math.max(1, outputTokens);
  const ctx = P + O / 2;
  const fit = Math.min(maxBatch, Math.floor(perf.kvCapacityTokens / ctx));
  const b = Math.max(1, fit);
  const outputTokensPerS = (b * O) / (O * perf.decodeStepS(b, b * ctx) + perf.prefillS(b * P, b * P * P));
  return { batch: b, fit, outputTokensPerS, requestsPerS: outputTokensPerS / O };
}
