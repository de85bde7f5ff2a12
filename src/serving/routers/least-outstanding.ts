/**
 * routing least-outstanding: the first replica (lowest id) with the fewest requests queued plus
 * batched. Whole deployments are ruled in or out first (whole outages, KV size and queue limits are per
 * deployment); then the routing index (routing.ts, `loadMoved`) answers with the lowest set bit at a
 * pool's smallest load level, or, past its top level or under a queue limit, a scan of the load
 * arrays in id order.
 */
import type { Fleet } from '../fleet.js';
import { NONE } from '../../engine/requests.js';
import { TOP_LEVEL } from '../kinds.js';
import { firstAtLevel } from '../routing.js';

/** The replica of tier k of workload w to take a request of `needTokens`, or NONE; see `Router`. */
export function pickLeastOutstanding(f: Fleet, w: number, k: number, needTokens: number): number {
  const up = f.up;
  const queueLen = f.queueLen;
  const queueLimit = f.queueLimit;
  const maxTokens = f.maxTokens;
  const batch = f.batch;
  const held = f.batchHeld;
  const runs = f.tierRuns[w][k];
  let best = NONE;
  let full = NONE;
  let bestLoad = Infinity;
  scan: for (let i = 0; i < runs.length; i += 2) {
    const first = runs[i];
    // A deployment in a whole outage is skipped at once; single replicas down (faults.ts,
    // autoscaled slots not serving) are out of the index and skipped by the scan.
    if (f.downDepth[f.deploymentOf[first]] !== 0 || needTokens > maxTokens[first]) continue;
    const pool = f.poolOf[first];
    const level = f.poolMinLevel[pool];
    if (level < TOP_LEVEL && f.poolIndexed[pool] === 1) {
      if (level < bestLoad) {
        bestLoad = level;
        best = firstAtLevel(f, pool, level);
        if (level === 0) break;
      }
      continue;
    }
    const limit = queueLimit[first];
    const end = runs[i + 1];
    for (let r = first; r < end; r++) {
      // Batch-tier requests held there give way to any arrival (batch-tier.ts): not load.
      const load = queueLen[r] + batch[r] - held[r];
      if (load < bestLoad) {
        // A replica of an autoscaled deployment that is not serving (provisioning, draining, off).
        if (up[r] === 0) continue;
        if (queueLen[r] >= limit) {
          full = r;
          continue;
        }
        bestLoad = load;
        best = r;
        if (load === 0) break scan;
      }
    }
  }
  f.routeFull[0] = full;
  return best;
}

/** Splits ascending replica ids into [first, end) runs of consecutive ids within one deployment (Fleet.tierRuns, scanned above). */
export function runsOf(deploymentOf: Int32Array, ids: Int32Array): Int32Array {
  const runs: number[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i + 1;
    while (j < ids.length && ids[j] === ids[j - 1] + 1 && deploymentOf[ids[j]] === deploymentOf[ids[i]]) j++;
    runs.push(ids[i], ids[j - 1] + 1);
    i = j;
  }
  return Int32Array.from(runs);
}
