/**
 * Incidents: a deployment's outage takes all its replicas down at once; their requests fail over
 * to another replica or fallback model (routing.failover) or are lost. Outages of single replicas
 * (partial incidents, random failures) are faults.ts's; they share stopReplica.
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { FATE_LOST } from '../metrics/recorder.js';
import { IDLE } from './kinds.js';
import { finish, removeFromBatch, touch } from './replica.js';
import { loadMoved, refreshUp, route } from './routing.js';
import { retire } from './autoscaler.js';
import { evictWithin } from './faults.js';

/** Takes a deployment down: its requests fail over (or are lost) and its replicas stop. */
export function outageStart(f: Fleet, d: number, nowS: number): void {
  f.clockS[0] = nowS;
  f.downDepth[d]++;
  if (f.downDepth[d] > 1) return;
  // Every replica goes down before any request moves, so none is sent to a sibling about to fail.
  for (let r = 0; r < f.replicas; r++) if (f.deploymentOf[r] === d) f.up[r] = 0;
  for (let r = 0; r < f.replicas; r++) if (f.deploymentOf[r] === d) stopReplica(f, r, d, nowS, false);
}

/**
 * Replica r of deployment d stops (already marked down): its batch and queue leave, to another
 * replica or fallback (evict), or with `alone` (faults.ts: the rest of d still serves) to a live
 * replica of d first (evictWithin).
 */
export function stopReplica(f: Fleet, r: number, d: number, nowS: number, alone: boolean): void {
  const rq = f.requests;
  touch(f, r);
  f.queue.cancel(f.replicaEntityBase + r);
  f.phase[r] = IDLE;
  f.prefillCount[r] = 0;
  f.chunkReq[r] = NONE;
  f.chunkDone[r] = 0;
  f.prefillList[r] = NONE;
  while (f.batch[r] > 0) {
    const q = f.slots[f.slotBase[r] + f.batch[r] - 1];
    removeFromBatch(f, r, q);
    // A prefill planned with its run (prefillThenDecode) recorded a first token still to come;
    // at an outage at that very instant the prefill's own event would have come second.
    if (rq.firstTokenS[q] >= nowS) rq.firstTokenS[q] = -1;
    if (rq.visibleS[q] >= nowS) rq.visibleS[q] = -1;
    if (alone) evictWithin(f, q, d);
    else evict(f, q, d);
  }
  while (f.queueLen[r] > 0) {
    const q = f.queueHead[r];
    f.queueHead[r] = rq.next[q];
    f.queueLen[r]--;
    loadMoved(f, r, -1);
    if (alone) evictWithin(f, q, d);
    else evict(f, q, d);
  }
  f.queueTail[r] = NONE;
  // The replica's memory is gone with it, and its prefix cache.
  if (f.caching[r] !== 0) f.cache!.clearReplica(r);
  // A draining replica (autoscaler.ts) has nothing left to finish.
  if (f.autoscaler !== null && f.autoscaler.draining[r] !== 0) retire(f, r);
}

export function evict(f: Fleet, q: number, d: number): void {
  const rq = f.requests;
  if (!f.failoverOnOutage) {
    finish(f, q, d, FATE_LOST);
    return;
  }
  // The answer starts over elsewhere: tokens generated on the failed replica are gone.
  rq.generated[q] = 0;
  rq.firstTokenS[q] = -1;
  rq.visibleS[q] = -1;
  rq.failedOver[q] = 1;
  route(f, q, FATE_LOST, d);
}

export function outageEnd(f: Fleet, d: number, _nowS: number): void {
  f.downDepth[d]--;
  if (f.downDepth[d] > 0) return;
  // Replicas of an autoscaled deployment still provisioning or gone stay out (Autoscaler.live), and
  // replicas a partial incident or failure holds (faults.ts).
  for (let r = 0; r < f.replicas; r++) if (f.deploymentOf[r] === d) refreshUp(f, r);
}
