/**
 * routing power-of-two (Mitzenmacher's "power of two choices"; a common gateway policy): two
 * distinct replicas of the tier drawn at random, the one with fewer requests queued plus batched
 * takes the request (a tie: the first drawn). Draws come from the run's own stream
 * `routing/power-of-two`, so runs are deterministic. A drawn replica that is down, too small for
 * the request or has a full queue cannot take it; when neither can, the tier is scanned for the
 * least-loaded replica that can, so the policy never turns away a request another would take.
 */
import type { Fleet } from '../fleet.js';
import { NONE } from '../../engine/requests.js';

/** The replica of tier k of workload w to take a request of `needTokens`, or NONE; see `Router`. */
export function pickPowerOfTwo(f: Fleet, w: number, k: number, needTokens: number): number {
  const candidates = f.tierReplicas[w][k];
  const n = candidates.length;
  f.routeFull[0] = NONE;
  if (n === 0) return NONE;
  const i = Math.floor(f.routingRandom.next() * n);
  let j = n > 1 ? Math.floor(f.routingRandom.next() * (n - 1)) : i;
  if (n > 1 && j >= i) j++;
  const a = candidates[i];
  const b = candidates[j];
  const okA = takes(f, a, needTokens);
  const okB = takes(f, b, needTokens);
  if (okA && okB) return f.queueLen[b] + f.batch[b] - f.batchHeld[b] < f.queueLen[a] + f.batch[a] - f.batchHeld[a] ? b : a;
  if (okA) return a;
  if (okB) return b;
  let best = NONE;
  let bestLoad = Infinity;
  let full = NONE;
  for (let x = 0; x < n; x++) {
    const r = candidates[x];
    if (f.up[r] === 0 || needTokens > f.maxTokens[r]) continue;
    if (f.queueLen[r] >= f.queueLimit[r]) {
      full = r;
      continue;
    }
    const load = f.queueLen[r] + f.batch[r] - f.batchHeld[r];
    if (load < bestLoad) {
      bestLoad = load;
      best = r;
    }
  }
  f.routeFull[0] = full;
  return best;
}

function takes(f: Fleet, r: number, needTokens: number): boolean {
  return f.up[r] !== 0 && needTokens <= f.maxTokens[r] && f.queueLen[r] < f.queueLimit[r];
}
