/**
 * scheduler disaggregated: a deployment split into a prefill pool and a decode pool. Prefill
 * replicas admit prefill-first, ship the KV and hand each request to the least-loaded decode
 * replica, which takes it straight into decoding.
 */
import type { Fleet } from '../fleet.js';
import { NONE } from '../../engine/requests.js';
import { SCHED_PREFILL_POOL, SCHED_DECODE_POOL, KV_TRANSFERRED, TOP_LEVEL } from '../kinds.js';
import { evict } from '../incidents.js';
import { decodeOrIdle, enqueue, removeFromBatch } from '../replica.js';
import { firstAtLevel } from '../routing.js';
import { admitPrefillFirst } from './continuous.js';

/**
 * scheduler disaggregated: a prefill-pool replica hands a prefilled request (its first token out,
 * its KV shipped) to the least-loaded decode-pool replica of the same deployment.
 */
export function handOff(f: Fleet, r: number, q: number): void {
  const rq = f.requests;
  removeFromBatch(f, r, q);
  const d = f.deploymentOf[r];
  const dep = f.deployments[d];
  const first = f.firstReplicaOf[d];
  let best = NONE;
  // The pool is up or down whole (outages are per deployment); the index answers as in route.
  const pool = f.decodePool[d];
  const level = f.poolMinLevel[pool];
  if (f.up[first + dep.prefillReplicas] !== 0 && level < TOP_LEVEL && f.poolIndexed[pool] === 1) {
    best = firstAtLevel(f, pool, level);
  } else {
    let bestLoad = Infinity;
    for (let i = first + dep.prefillReplicas; i < first + dep.replicas; i++) {
      const load = f.queueLen[i] + f.batch[i];
      if (f.up[i] !== 0 && load < bestLoad) {
        bestLoad = load;
        best = i;
      }
    }
  }
  if (best === NONE) {
    evict(f, q, d);
    return;
  }
  rq.baseStep[q] = KV_TRANSFERRED;
  enqueue(f, best, q, false);
}

export function startPrefillPool(f: Fleet, r: number): void {
  const d = f.deployments[f.deploymentOf[r]];
  if (f.queueLen[r] > 0 && f.batch[r] < d.maxBatch && admitPrefillFirst(f, r, SCHED_PREFILL_POOL)) return;
  decodeOrIdle(f, r);
}

export function startDecodePool(f: Fleet, r: number): void {
  const d = f.deployments[f.deploymentOf[r]];
  if (f.queueLen[r] > 0 && f.batch[r] < d.maxBatch && admitPrefillFirst(f, r, SCHED_DECODE_POOL)) return;
  decodeOrIdle(f, r);
}
