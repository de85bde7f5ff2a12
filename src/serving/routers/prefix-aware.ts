/**
 * routing prefix-aware (llm-d's prefix-cache scorer beside its load scorer; Dynamo's KV-aware
 * router): each replica of the tier is scored
 *
 *     score = load − prefix_weight × hit
 *
 * where load is its requests queued plus batched and hit the share of the request's prompt already
 * in its prefix cache (blocks found from the start × block tokens / prompt tokens, 0–1), and the
 * lowest score takes the request (ties: the lowest id). With `prefix_weight` w, a replica holding
 * the whole prompt is preferred to one holding none until it has w more requests outstanding. A
 * request with no shared prefix, or a replica without a cache, has hit 0, so the policy is then
 * least-outstanding. The cache is read, never changed, so routing cannot disturb it.
 */
import type { Fleet } from '../fleet.js';
import { NONE } from '../../engine/requests.js';
import { cachedPrefixBlocks } from '../prefix-cache.js';

/** The replica of tier k of workload w to take a request of `needTokens`, or NONE; see `Router`. */
export function pickPrefixAware(f: Fleet, w: number, k: number, needTokens: number): number {
  const up = f.up;
  const queueLen = f.queueLen;
  const queueLimit = f.queueLimit;
  const maxTokens = f.maxTokens;
  const batch = f.batch;
  const candidates = f.tierReplicas[w][k];
  const q = f.routeRequest[0];
  const rq = f.requests;
  const shared = f.cache !== null && (rq.prefixChain[q] !== NONE || rq.sessionChain[q] !== NONE || rq.chainLeaf[q] !== NONE);
  const weight = f.prefixWeight / f.requests.promptTokens[q];
  let best = NONE;
  let full = NONE;
  let bestScore = Infinity;
  for (let i = 0; i < candidates.length; i++) {
    const r = candidates[i];
    if (up[r] === 0 || needTokens > maxTokens[r]) continue;
    let score = queueLen[r] + batch[r] - f.batchHeld[r];
    if (shared && f.caching[r] !== 0) score -= weight * cachedPrefixBlocks(f, r, q) * f.blockTokens[r];
    if (score < bestScore) {
      if (queueLen[r] >= queueLimit[r]) {
        full = r;
        continue;
      }
      bestScore = score;
      best = r;
    }
  }
  f.routeFull[0] = full;
  return best;
}
