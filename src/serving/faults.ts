/**
 * Replica faults (docs/failures.md): partial incidents (`incidents[].replicas` / `replica`) and
 * random failures (deployment `failures: { mtbf, mttr }`) take single replicas down while the rest
 * of their deployment serves. Their requests are re-routed to the deployment's least-loaded live
 * replica first, then (routing.failover permitting) through the usual tiers, or are lost.
 *
 * Per replica, `downCount` counts what holds it down (partial incidents and a failure in progress);
 * whole-deployment outages stay `Fleet.downDepth`. A replica serves when neither holds it and the
 * autoscaler has it live. A down replica is out of the least-outstanding index (f.homePoolOf keeps its
 * pool), so routers never pick it; it stays provisioned and billed (at the idle rate).
 *
 * Random failures: each replica fails independently after an exponential time with mean mtbf, is
 * repaired after mttr (exponential with that mean, or constant), then runs again. Draws come from
 * one stream per deployment, `failures/<deployment>`, in event order, so adding failures leaves
 * every other stream's numbers as they were.
 */
import type { Fleet } from './fleet.js';
import type { Incident, Scenario } from '../scenario/load.js';
import { NONE } from '../engine/requests.js';
import { FATE_LOST } from '../metrics/recorder.js';
import { RandomStream } from '../workload/rng.js';
import { enqueue, finish } from './replica.js';
import { indexAdd, indexRemove, refreshUp, route } from './routing.js';
import { stopReplica } from './incidents.js';
import { OFF, accrue } from './autoscaler.js';

export class Faults {
  /** Per replica: partial incidents plus a failure in progress holding it down. */
  readonly downCount: Int32Array;
  /** Per replica: when downCount last rose from 0. */
  readonly downSinceS: Float64Array;
  /** Per replica: 1 while a random failure holds it down. */
  readonly failed: Uint8Array;
  /** Per deployment: replica-seconds down (settled when a replica comes back, and at the end) and random failures. */
  readonly downS: Float64Array;
  readonly failures: Int32Array;
  /** Per deployment: its failure stream, or null without `failures`. */
  readonly streams: (RandomStream | null)[];
  /** Per incident: the replicas a partial one took down at its start, and how many. */
  readonly taken: Int32Array[];
  readonly takenCount: Int32Array;

  constructor(
    scenario: Scenario,
    f: Fleet,
    /** Entity of replica r's failure-or-repair event: entityBase + r. */
    readonly entityBase: number,
  ) {
    const R = f.replicas;
    const D = scenario.deployments.length;
    this.downCount = new Int32Array(R);
    this.downSinceS = new Float64Array(R);
    this.failed = new Uint8Array(R);
    this.downS = new Float64Array(D);
    this.failures = new Int32Array(D);
    this.streams = scenario.deployments.map((d) => (d.failures === null ? null : new RandomStream(scenario.seed, `failures/${d.name}`)));
    this.taken = scenario.incidents.map((inc) => new Int32Array(inc.partial === null ? 0 : inc.partial.count));
    this.takenCount = new Int32Array(scenario.incidents.length);
  }
}

/** Whether a scenario takes single replicas down (then the fleet keeps a Faults). */
export function hasFaults(scenario: Scenario): boolean {
  return scenario.incidents.some((i) => i.partial !== null) || scenario.deployments.some((d) => d.failures !== null);
}

export function faultsOf(scenario: Scenario, f: Fleet, entityBase: number): Faults | null {
  return hasFaults(scenario) ? new Faults(scenario, f, entityBase) : null;
}

/** The autoscaler's active replica-time counts held replicas out: settle it before a hold changes. */
function settleActive(f: Fleet, r: number): void {
  const d = f.deploymentOf[r];
  if (f.autoscaler !== null && f.deployments[d].autoscale !== null) accrue(f, d, f.clockS[0]);
}

/** Replica r goes down (one more hold on it), at the clock's time; true when it was serving-capable before. */
function hold(f: Fleet, r: number): boolean {
  const x = f.faults!;
  settleActive(f, r);
  if (x.downCount[r]++ > 0) return false;
  x.downSinceS[r] = f.clockS[0];
  f.up[r] = 0;
  indexRemove(f, r);
  return true;
}

/** One hold on replica r ends, at the clock's time; with none left it serves again (if its deployment is up and the autoscaler has it live). */
function release(f: Fleet, r: number): void {
  const x = f.faults!;
  settleActive(f, r);
  if (--x.downCount[r] > 0) return;
  const d = f.deploymentOf[r];
  x.downS[d] += f.clockS[0] - x.downSinceS[r];
  const live = f.autoscaler === null ? 1 : f.autoscaler.live[r];
  refreshUp(f, r);
  if (live !== 0) indexAdd(f, r, f.homePoolOf[r]);
}

/**
 * Partial incident i starts, at the clock's time: `replica` takes that replica; `replicas` N the N
 * highest-numbered replicas that are provisioned (all of a fixed deployment's), fewer if fewer are.
 */
export function partialStart(f: Fleet, i: number, inc: Incident): void {
  const x = f.faults!;
  const d = inc.deployment;
  const first = f.firstReplicaOf[d];
  const taken = x.taken[i];
  let k = 0;
  if (inc.partial!.index !== null) taken[k++] = first + inc.partial!.index;
  else {
    const a = f.autoscaler;
    for (let r = first + f.deployments[d].replicas - 1; r >= first && k < taken.length; r--) {
      if (a !== null && a.state[r] === OFF) continue;
      taken[k++] = r;
    }
  }
  x.takenCount[i] = k;
  // Every replica goes down before any request moves, so none is sent to a sibling about to fail.
  for (let j = 0; j < k; j++) hold(f, taken[j]);
  for (let j = 0; j < k; j++) stopReplica(f, taken[j], d, f.clockS[0], true);
}

export function partialEnd(f: Fleet, i: number): void {
  const x = f.faults!;
  for (let j = 0; j < x.takenCount[i]; j++) release(f, x.taken[i][j]);
}

/** The first failure of every replica of a deployment with `failures`, drawn in replica order. */
export function scheduleFailures(f: Fleet): void {
  const x = f.faults;
  if (x === null) return;
  for (let r = 0; r < f.replicas; r++) {
    const d = f.deploymentOf[r];
    const cfg = f.deployments[d].failures;
    if (cfg === null) continue;
    f.queue.schedule(x.entityBase + r, x.streams[d]!.exponential(1 / cfg.mtbfS));
  }
}

/** Replica r's failure or repair event, at the clock's time; the next one is drawn and scheduled. */
export function failureEvent(f: Fleet, r: number): void {
  const x = f.faults!;
  const d = f.deploymentOf[r];
  const cfg = f.deployments[d].failures!;
  const nowS = f.clockS[0];
  const stream = x.streams[d]!;
  if (x.failed[r] === 0) {
    x.failed[r] = 1;
    x.failures[d]++;
    if (hold(f, r)) stopReplica(f, r, d, nowS, true);
    f.queue.schedule(x.entityBase + r, nowS + (cfg.repair === 'constant' ? cfg.mttrS : stream.exponential(1 / cfg.mttrS)));
  } else {
    x.failed[r] = 0;
    release(f, r);
    f.queue.schedule(x.entityBase + r, nowS + stream.exponential(1 / cfg.mtbfS));
  }
}

/**
 * A request on a replica of deployment d that went down alone: it starts over on the deployment's
 * least-loaded live replica with room (whatever routing.policy; a load balancer's retry, not a
 * failover), else, as from a whole outage, on another deployment or fallback, or it is lost.
 */
export function evictWithin(f: Fleet, q: number, d: number): void {
  const rq = f.requests;
  rq.generated[q] = 0;
  rq.firstTokenS[q] = -1;
  rq.visibleS[q] = -1;
  rq.failedOver[q] = 1;
  // A batch-tier request waits for its own model again (batch-tier.ts, through route).
  if (f.batchTier !== null && f.batchTier.isBatch[rq.workload[q]] !== 0) return route(f, q, FATE_LOST, d);
  const needTokens = rq.promptTokens[q] + rq.outputTokens[q];
  const first = f.firstReplicaOf[d];
  const end = first + f.deployments[d].replicas;
  let best = NONE;
  let bestLoad = Infinity;
  for (let r = first; r < end; r++) {
    if (f.up[r] === 0 || needTokens > f.maxTokens[r] || f.queueLen[r] >= f.queueLimit[r]) continue;
    const load = f.queueLen[r] + f.batch[r] - f.batchHeld[r];
    if (load < bestLoad) {
      bestLoad = load;
      best = r;
    }
  }
  if (best !== NONE) {
    f.recorder.interval.arrivals[d]++;
    enqueue(f, best, q, false);
    return;
  }
  if (!f.failoverOnOutage) return finish(f, q, d, FATE_LOST);
  route(f, q, FATE_LOST, d);
}

/** Per deployment at the run's end `endS`: replica-hours down (replicas still down counted to endS) and random failures. */
export function faultTotals(f: Fleet, endS: number): { downS: Float64Array; failures: Int32Array } | null {
  const x = f.faults;
  if (x === null) return null;
  const downS = Float64Array.from(x.downS);
  for (let r = 0; r < f.replicas; r++) if (x.downCount[r] > 0) downS[f.deploymentOf[r]] += endS - x.downSinceS[r];
  return { downS, failures: Int32Array.from(x.failures) };
}
