/**
 * Routing: failover across a workload's tiers (its model, then its fallbacks), the policy's pick
 * within a tier (routers/, registered in routers/registry.ts), and the least-outstanding index of
 * load levels (bitsets per pool) that `loadMoved` keeps.
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { LOAD_LEVELS, TOP_LEVEL } from './kinds.js';
import { pickReplica } from './routers/registry.js';
import { enqueue, finish } from './replica.js';
import { batchRequeue } from './batch-tier.js';

/**
 * Places a request on a replica of its model, or of a fallback model; when nothing can take it,
 * it ends with `fateIfNone` (rejected for a new request, lost for one evicted by an outage).
 */
export function route(f: Fleet, q: number, fateIfNone: number, endAt: number): void {
  const rq = f.requests;
  const w = rq.workload[q];
  // A batch-tier request evicted by an outage waits for its own model again (batch-tier.ts).
  if (f.batchTier !== null && f.batchTier.isBatch[w] !== 0) return batchRequeue(f, q);
  const tiers = f.tierReplicas[w];
  const needTokens = rq.promptTokens[q] + rq.outputTokens[q];
  const tierLimit = f.failoverOnOutage ? tiers.length : 1;
  f.routeRequest[0] = q;
  for (let k = 0; k < tierLimit; k++) {
    const best = pickReplica(f, w, k, needTokens);
    // A replica that could serve but whose queue is full: the tier is overloaded, not down.
    const full = f.routeFull[0];
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
  const to = f.queueLen[r] + f.batch[r] - f.batchHeld[r];
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

/**
 * Takes replica r out of the routing index (autoscaler.ts: it stops taking requests, draining or
 * not provisioned). Its later load changes then leave the index alone (`loadMoved` skips it).
 */
export function indexRemove(f: Fleet, r: number): void {
  const pool = f.poolOf[r];
  if (pool === NONE) return;
  const load = f.queueLen[r] + f.batch[r] - f.batchHeld[r];
  const level = load < TOP_LEVEL ? load : TOP_LEVEL;
  const words = f.poolWords[pool];
  const k = r - f.poolFirst[pool];
  f.levelBits[f.poolBitsBase[pool] + (k >> 5) + level * words] &= ~(1 << (k & 31));
  const counts = pool * LOAD_LEVELS;
  f.levelCount[counts + level]--;
  if (level === f.poolMinLevel[pool] && f.levelCount[counts + level] === 0) {
    let next = level + 1;
    while (next < TOP_LEVEL && f.levelCount[counts + next] === 0) next++;
    // An empty pool (never with the autoscaler's first replica always serving) is scanned.
    f.poolMinLevel[pool] = next < LOAD_LEVELS ? next : TOP_LEVEL;
  }
  f.poolOf[r] = NONE;
}

/** Puts replica r back into `pool`'s routing index at its current load. */
export function indexAdd(f: Fleet, r: number, pool: number): void {
  if (pool === NONE || f.poolOf[r] !== NONE) return;
  f.poolOf[r] = pool;
  const load = f.queueLen[r] + f.batch[r] - f.batchHeld[r];
  const level = load < TOP_LEVEL ? load : TOP_LEVEL;
  const words = f.poolWords[pool];
  const k = r - f.poolFirst[pool];
  f.levelBits[f.poolBitsBase[pool] + (k >> 5) + level * words] |= 1 << (k & 31);
  const counts = pool * LOAD_LEVELS;
  f.levelCount[counts + level]++;
  if (level < f.poolMinLevel[pool]) f.poolMinLevel[pool] = level;
}

/**
 * Replica r's `up` from everything that can hold it out of routing: its deployment's outage
 * (downDepth), the autoscaler (provisioning, draining or off) and a partial incident or failure
 * (faults.ts). The one rule each of them applies when its own hold ends.
 */
export function refreshUp(f: Fleet, r: number): void {
  const d = f.deploymentOf[r];
  const live = f.autoscaler === null || f.autoscaler.live[r] !== 0;
  const held = f.faults !== null && f.faults.downCount[r] !== 0;
  f.up[r] = f.downDepth[d] === 0 && live && !held ? 1 : 0;
}
