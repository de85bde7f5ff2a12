/**
 * Routing: round-robin over a tier's replicas, or least-outstanding (queue + batch) through a
 * per-pool index of load levels (bitsets), with failover to the workload's fallback models. The
 * policy is one flag read per request; a new router is a branch in `route` (docs/extending.md).
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { LOAD_LEVELS, TOP_LEVEL } from './kinds.js';
import { enqueue, finish } from './replica.js';

/**
 * Places a request on a replica of its model, or of a fallback model; when nothing can take it,
 * it ends with `fateIfNone` (rejected for a new request, lost for one evicted by an outage).
 */
export function route(f: Fleet, q: number, fateIfNone: number, endAt: number): void {
  const rq = f.requests;
  const w = rq.workload[q];
  const tiers = f.tierReplicas[w];
  const needTokens = rq.promptTokens[q] + rq.outputTokens[q];
  const tierLimit = f.failoverOnOutage ? tiers.length : 1;
  const up = f.up;
  const queueLen = f.queueLen;
  const queueLimit = f.queueLimit;
  const maxTokens = f.maxTokens;
  for (let k = 0; k < tierLimit; k++) {
    const candidates = tiers[k];
    let best = NONE;
    // A replica that could serve but whose queue is full: the tier is overloaded, not down.
    let full = NONE;
    const n = candidates.length;
    if (f.leastOutstanding) {
      // The first replica with the fewest outstanding requests. Whole deployments are ruled in or
      // out first (outages, KV size and queue limits are per deployment); then the index answers,
      // or, past its top level or under a queue limit, a scan of the load arrays in id order.
      const batch = f.batch;
      const runs = f.tierRuns[w][k];
      let bestLoad = Infinity;
      scan: for (let i = 0; i < runs.length; i += 2) {
        const first = runs[i];
        if (up[first] === 0 || needTokens > maxTokens[first]) continue;
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
          const load = queueLen[r] + batch[r];
          if (load < bestLoad) {
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
    } else {
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
    }
    if (best === NONE) {
      if (full === NONE) continue; // whole tier down (or too small): fail over
      endAt = f.deploymentOf[full];
      if (f.failoverOnOverload) continue;
      break;
    }
    const d = f.deploymentOf[best];
    if (k > 0) rq.failedOver[q] = 1;
    f.recorder.interval.arrivals[d]++;
    enqueue(f, best, q, false);
    return;
  }
  finish(f, q, endAt, fateIfNone);
}

/** The lowest replica id of `pool` at load `level` (the level must be in use). */
export function firstAtLevel(f: Fleet, pool: number, level: number): number {
  const words = f.poolWords[pool];
  const base = f.poolBitsBase[pool] + level * words;
  for (let j = 0; j < words; j++) {
    const bits = f.levelBits[base + j];
    if (bits !== 0) return f.poolFirst[pool] + (j << 5) + (31 - Math.clz32(bits & -bits));
  }
  throw new Error(`internal: the routing index has no replica of pool ${pool} at load ${level}`);
}

/**
 * Replica r's queue + batch has just changed by `delta` (±1): moves it between the routing
 * index's levels. Every caller has already updated queueLen or batch, so the new load is theirs.
 */
export function loadMoved(f: Fleet, r: number, delta: number): void {
  const pool = f.poolOf[r];
  if (pool === NONE) return;
  const to = f.queueLen[r] + f.batch[r];
  const from = to - delta;
  const fromLevel = from < TOP_LEVEL ? from : TOP_LEVEL;
  const toLevel = to < TOP_LEVEL ? to : TOP_LEVEL;
  if (fromLevel === toLevel) return;
  const words = f.poolWords[pool];
  const k = r - f.poolFirst[pool];
  const at = f.poolBitsBase[pool] + (k >> 5);
  const bit = 1 << (k & 31);
  f.levelBits[at + fromLevel * words] ^= bit;
  f.levelBits[at + toLevel * words] |= bit;
  const counts = pool * LOAD_LEVELS;
  f.levelCount[counts + fromLevel]--;
  f.levelCount[counts + toLevel]++;
  const min = f.poolMinLevel[pool];
  if (toLevel < min || (fromLevel === min && f.levelCount[counts + fromLevel] === 0)) f.poolMinLevel[pool] = toLevel;
}
