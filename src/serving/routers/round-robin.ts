/**
 * routing round-robin: per workload and tier, a cursor over the tier's replicas; the next one up,
 * large enough and with room in its queue takes the request.
 */
import type { Fleet } from '../fleet.js';
import { NONE } from '../../engine/requests.js';

/** The replica of tier k of workload w to take a request of `needTokens`, or NONE; see `Router`. */
export function pickRoundRobin(f: Fleet, w: number, k: number, needTokens: number): number {
  const up = f.up;
  const queueLen = f.queueLen;
  const queueLimit = f.queueLimit;
  const maxTokens = f.maxTokens;
  const candidates = f.tierReplicas[w][k];
  const n = candidates.length;
  let full = NONE;
  let best = NONE;
  const start = f.rrCursor[w][k];
  for (let j = 0; j < n; j++) {
    let idx = start + j;
    if (idx >= n) idx -= n;
    const r = candidates[idx];
    if (up[r] === 0 || needTokens > maxTokens[r]) continue;
    if (queueLen[r] >= queueLimit[r]) {
      full = r;
      continue;
    }
    best = r;
    f.rrCursor[w][k] = idx + 1 === n ? 0 : idx + 1;
    break;
  }
  f.routeFull[0] = full;
  return best;
}
