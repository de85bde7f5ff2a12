/**
 * Autoscaling (deployment `autoscale:`, docs/autoscaling.md): a policy run by a periodic event per
 * autoscaled deployment, over the fleet's typed arrays, allocating nothing per event.
 *
 * An autoscaled deployment holds `max` replica slots; each is in one state:
 *  - OFF: not provisioned, not billed;
 *  - PROVISIONING: decided, billed from the decision, not serving until `scale_up_delay` has passed
 *    (provisioning and weight loading);
 *  - SERVING: takes requests (in the routing index);
 *  - DRAINING: takes no new requests, finishes what it holds (batch and queue, as a gracefully
 *    stopped vLLM does), then goes OFF; billed until then.
 * Slots are taken lowest id first and given back highest id first, so the deployment's first
 * replica always serves (min >= 1), unless a partial incident or failure holds it (faults.ts).
 *
 * The rule is Kubernetes HPA's: desired = ceil(serving × metric / target), no change within a 10%
 * tolerance, at most max(2 × current, current + 4) (HPA's default scale-up policies), clamped to
 * [min, max]; a scale-up is acted on at once (counting replicas still provisioning as there), a
 * scale-down only after every recommendation over `scale_down_delay` was below the current count,
 * and then to the largest of them (HPA's stabilization window). ttft_p90 steps down one replica at
 * a time, when TTFT is under half its target (see autoscaleTick).
 */
import type { Fleet } from './fleet.js';
import { indexAdd, indexRemove, refreshUp } from './routing.js';
import { touch } from './replica.js';

export const OFF = 0;
export const PROVISIONING = 1;
export const SERVING = 2;
export const DRAINING = 3;

/** Kubernetes HPA's default tolerance (`--horizontal-pod-autoscaler-tolerance`, 0.1): a metric within 10% of target changes nothing. */
export const TOLERANCE = 0.1;

/** Kubernetes HPA's default scale-up policies (100% and 4 pods per period, the larger applies). */
export const SCALE_UP_PODS = 4;

const METRIC_UTILIZATION = 0;
const METRIC_QUEUE = 1;
const METRIC_TTFT_P90 = 2;

export class Autoscaler {
  /** Per replica: OFF, PROVISIONING, SERVING or DRAINING (SERVING for every replica of a fixed deployment). */
  readonly state: Uint8Array;
  /** Per replica: 1 where it takes requests when its deployment is up (SERVING); 1 where it is DRAINING. */
  readonly live: Uint8Array;
  readonly draining: Uint8Array;
  /** Per deployment: replicas billed (provisioning, serving, draining), and serving or draining. */
  readonly provisioned: Int32Array;
  readonly active: Int32Array;
  /** Per deployment: the most replicas billed at once. */
  readonly peak: Int32Array;
  /** Per deployment: billed replica-seconds are settled up to this time. */
  readonly markS: Float64Array;
  /** [period * D + d]: billed replica-seconds per calendar period (the ledger's replica-time). */
  readonly periodReplicaS: Float64Array;
  /** Per deployment: billed replica-seconds since the last report interval (timeseries). */
  readonly intervalReplicaS: Float64Array;
  /**
   * Per deployment: ∫ (serving + draining, less those a partial incident or failure holds down) dt,
   * the utilization metric's denominator: a down replica cannot be busy, so counting it would read
   * the live replicas as idler than they are and hold back a scale-up exactly when capacity is lost.
   */
  readonly activeReplicaS: Float64Array;
  readonly busyAtTickS: Float64Array;
  readonly activeAtTickS: Float64Array;
  /** Per deployment: when recommendations first fell below the count (NaN: they have not), and their largest since. */
  readonly downSinceS: Float64Array;
  readonly downMax: Int32Array;
  /** Per deployment: replicas provisioned and drained (or cancelled) over the run. */
  readonly scaleUps: Int32Array;
  readonly scaleDowns: Int32Array;
  /** Per deployment: queue_per_replica samples since the last decision, and their sum. */
  readonly samples: Int32Array;
  readonly sampleSum: Float64Array;
  /** Told of every replica's change of state, at the clock's time (tests, tracing); null in runs. */
  onChange: ((replica: number, state: number) => void) | null = null;
  /** Per deployment: its metric as a small integer. */
  readonly metric: Uint8Array;
  /** The autoscaled deployments' indices, in order: tick entity k is deployment deps[k]. */
  readonly deps: Int32Array;

  constructor(
    f: Fleet,
    /** Entity of replica r's provisioning-done event: provisionEntityBase + r. */
    readonly provisionEntityBase: number,
  ) {
    const R = f.replicas;
    const D = f.deployments.length;
    const P = f.recorder.calendar.periods.length;
    this.state = new Uint8Array(R).fill(SERVING);
    this.live = new Uint8Array(R).fill(1);
    this.draining = new Uint8Array(R);
    this.provisioned = new Int32Array(D);
    this.active = new Int32Array(D);
    this.peak = new Int32Array(D);
    this.markS = new Float64Array(D);
    this.periodReplicaS = new Float64Array(P * D);
    this.intervalReplicaS = new Float64Array(D);
    this.activeReplicaS = new Float64Array(D);
    this.busyAtTickS = new Float64Array(D);
    this.activeAtTickS = new Float64Array(D);
    this.downSinceS = new Float64Array(D).fill(NaN);
    this.downMax = new Int32Array(D);
    this.scaleUps = new Int32Array(D);
    this.scaleDowns = new Int32Array(D);
    this.metric = new Uint8Array(D);
    this.samples = new Int32Array(D);
    this.sampleSum = new Float64Array(D);
    const deps: number[] = [];
    for (const d of f.deployments) {
      const a = d.autoscale;
      if (a === null) continue;
      deps.push(d.index);
      this.metric[d.index] = a.metric === 'utilization' ? METRIC_UTILIZATION : a.metric === 'queue_per_replica' ? METRIC_QUEUE : METRIC_TTFT_P90;
      if (a.metric === 'ttft_p90') f.recorder.watchTtft();
      const first = f.firstReplicaOf[d.index];
      for (let i = 0; i < d.replicas; i++) {
        const r = first + i;
        if (i < a.initial) continue;
        this.state[r] = OFF;
        this.live[r] = 0;
        f.up[r] = 0;
        indexRemove(f, r);
      }
      this.provisioned[d.index] = a.initial;
      this.active[d.index] = a.initial;
      this.peak[d.index] = a.initial;
    }
    this.deps = Int32Array.from(deps);
  }
}

/** Settles deployment d's billed and serving replica-seconds up to `nowS`, split by calendar period. */
export function accrue(f: Fleet, d: number, nowS: number): void {
  const a = f.autoscaler!;
  const fromS = a.markS[d];
  if (!(nowS > fromS)) return;
  const n = a.provisioned[d];
  const D = f.deployments.length;
  a.intervalReplicaS[d] += n * (nowS - fromS);
  a.activeReplicaS[d] += (a.active[d] - heldActive(f, d)) * (nowS - fromS);
  const calendar = f.recorder.calendar;
  let t = fromS;
  while (t < nowS) {
    const p = calendar.periodAt(t);
    const endS = Math.min(nowS, calendar.periods[p].endS);
    a.periodReplicaS[p * D + d] += n * (endS - t);
    t = endS;
  }
  a.markS[d] = nowS;
}

/** Deployment d's serving or draining replicas that a partial incident or failure holds down (faults.ts calls accrue before each hold and release). */
function heldActive(f: Fleet, d: number): number {
  if (f.faults === null) return 0;
  const a = f.autoscaler!;
  const held = f.faults.downCount;
  const first = f.firstReplicaOf[d];
  const end = first + f.deployments[d].autoscale!.max;
  let n = 0;
  for (let r = first; r < end; r++) if (held[r] !== 0 && (a.state[r] === SERVING || a.state[r] === DRAINING)) n++;
  return n;
}

/**
 * Samples per decision of queue_per_replica: the decision reads the mean of this many samples
 * spread over its interval (one a second at the default 15 s), not one instant's queue, which
 * flapped under constant load. Knative's autoscaler likewise averages per-second samples.
 */
export const SAMPLES_PER_DECISION = 15;

/**
 * Deployment d's periodic event at the clock's time: simulate.ts schedules it SAMPLES_PER_DECISION
 * times per `autoscale.interval`; every SAMPLES_PER_DECISION-th is a decision.
 */
export function autoscaleTick(f: Fleet, d: number): void {
  const a = f.autoscaler!;
  let outstanding = 0;
  let serving = 0;
  const first = f.firstReplicaOf[d];
  const end = first + f.deployments[d].replicas;
  const held = f.faults === null ? null : f.faults.downCount;
  for (let r = first; r < end; r++) {
    // A replica a partial incident or failure holds down is not serving (faults.ts).
    if (a.state[r] !== SERVING || (held !== null && held[r] !== 0)) continue;
    serving++;
    outstanding += f.queueLen[r] + f.batch[r] - f.batchHeld[r];
  }
  a.sampleSum[d] += serving > 0 ? outstanding / serving : 0;
  if (++a.samples[d] < SAMPLES_PER_DECISION) return;
  decide(f, d);
}

/** Deployment d's decision at the clock's time. */
function decide(f: Fleet, d: number): void {
  const a = f.autoscaler!;
  const cfg = f.deployments[d].autoscale!;
  const nowS = f.clockS[0];
  accrue(f, d, nowS);
  const first = f.firstReplicaOf[d];
  const end = first + cfg.max;
  let serving = 0;
  let pending = 0;
  let busyS = 0;
  const held = f.faults === null ? null : f.faults.downCount;
  for (let r = first; r < end; r++) {
    const s = a.state[r];
    touch(f, r);
    // Summed over every slot, so the total is cumulative whichever replicas come and go.
    busyS += f.busyS[r];
    if (s === SERVING && (held === null || held[r] === 0)) serving++;
    else if (s === PROVISIONING) pending++;
    else if (s === DRAINING && f.queueLen[r] === 0 && f.batch[r] === 0) retire(f, r);
  }
  let metric = NaN;
  const m = a.metric[d];
  if (m === METRIC_QUEUE) metric = a.sampleSum[d] / a.samples[d];
  else if (m === METRIC_UTILIZATION) {
    const activeS = a.activeReplicaS[d] - a.activeAtTickS[d];
    metric = activeS > 0 ? (busyS - a.busyAtTickS[d]) / activeS : NaN;
  } else metric = f.recorder.windowTtftQuantile(d, 0.9);
  a.sampleSum[d] = 0;
  a.samples[d] = 0;
  a.busyAtTickS[d] = busyS;
  a.activeAtTickS[d] = a.activeReplicaS[d];

  // A deployment in an outage has no reading worth acting on (its replicas are down): hold, as
  // HPA does with no ready pods. A partial outage does not hold: the replicas still serving are
  // `serving`, so the rule sizes from them and may provision replacements (docs/failures.md).
  if (f.downDepth[d] > 0) {
    a.downSinceS[d] = NaN;
    return;
  }
  const current = serving + pending;
  let desired = current;
  // No reading (no requests completed in the window for ttft_p90): hold.
  if (metric === metric && serving > 0) {
    const ratio = metric / cfg.target;
    if (m === METRIC_TTFT_P90) {
      // Latency does not fall in proportion to replicas (it flattens at the prefill time), so
      // below target a proportional rule would always recommend min: step down one at a time,
      // and only with TTFT under half its target.
      if (ratio > 1 + TOLERANCE) desired = Math.ceil(serving * ratio);
      else if (ratio < 0.5) desired = current - 1;
    } else if (Math.abs(ratio - 1) > TOLERANCE) desired = Math.ceil(serving * ratio);
  }
  // HPA's default scale-up limit per decision: the larger of doubling and four more.
  const upLimit = Math.max(2 * current, current + SCALE_UP_PODS);
  if (desired > upLimit) desired = upLimit;
  if (desired < cfg.min) desired = cfg.min;
  if (desired > cfg.max) desired = cfg.max;
  if (desired > current) {
    a.downSinceS[d] = NaN;
    provision(f, d, desired - current);
  } else if (desired < current) {
    if (a.downSinceS[d] !== a.downSinceS[d]) {
      a.downSinceS[d] = nowS;
      a.downMax[d] = desired;
    } else if (desired > a.downMax[d]) a.downMax[d] = desired;
    if (nowS - a.downSinceS[d] >= cfg.scaleDownDelayS) {
      release(f, d, current - a.downMax[d]);
      a.downSinceS[d] = NaN;
    }
  } else a.downSinceS[d] = NaN;
}

/** Starts provisioning up to `count` replicas of deployment d (lowest free slots first), billed from now. */
function provision(f: Fleet, d: number, count: number): void {
  const a = f.autoscaler!;
  const cfg = f.deployments[d].autoscale!;
  const first = f.firstReplicaOf[d];
  const readyS = f.clockS[0] + cfg.scaleUpDelayS;
  for (let r = first; r < first + cfg.max && count > 0; r++) {
    if (a.state[r] !== OFF) continue;
    a.state[r] = PROVISIONING;
    if (a.onChange !== null) a.onChange(r, PROVISIONING);
    a.provisioned[d]++;
    a.scaleUps[d]++;
    count--;
    f.queue.schedule(a.provisionEntityBase + r, readyS);
  }
  if (a.provisioned[d] > a.peak[d]) a.peak[d] = a.provisioned[d];
}

/** Gives back `count` replicas of deployment d: those still provisioning first, then the highest serving, which drain. */
function release(f: Fleet, d: number, count: number): void {
  const a = f.autoscaler!;
  const cfg = f.deployments[d].autoscale!;
  const first = f.firstReplicaOf[d];
  for (let r = first + cfg.max - 1; r >= first && count > 0; r--) {
    if (a.state[r] !== PROVISIONING) continue;
    a.state[r] = OFF;
    if (a.onChange !== null) a.onChange(r, OFF);
    a.provisioned[d]--;
    a.scaleDowns[d]++;
    f.queue.cancel(a.provisionEntityBase + r);
    count--;
  }
  // r > first: the first replica never drains (see the header).
  for (let r = first + cfg.max - 1; r > first && count > 0; r--) {
    if (a.state[r] !== SERVING) continue;
    a.state[r] = DRAINING;
    if (a.onChange !== null) a.onChange(r, DRAINING);
    a.scaleDowns[d]++;
    count--;
    a.live[r] = 0;
    f.up[r] = 0;
    a.draining[r] = 1;
    indexRemove(f, r);
    if (f.queueLen[r] === 0 && f.batch[r] === 0) retire(f, r);
  }
}

/** Replica r's provisioning and weight loading are done, at the clock's time: it serves. */
export function provisioned(f: Fleet, r: number): void {
  const a = f.autoscaler!;
  const d = f.deploymentOf[r];
  accrue(f, d, f.clockS[0]);
  a.state[r] = SERVING;
  if (a.onChange !== null) a.onChange(r, SERVING);
  a.active[d]++;
  a.live[r] = 1;
  // A slot a partial incident or failure holds stays down (and out of routing) until it ends (faults.ts).
  const held = f.faults !== null && f.faults.downCount[r] !== 0;
  refreshUp(f, r);
  touch(f, r);
  if (!held) indexAdd(f, r, f.homePoolOf[r]);
}

/** A draining replica holds nothing more, at the clock's time: it leaves and stops being billed. */
export function retire(f: Fleet, r: number): void {
  const a = f.autoscaler!;
  const d = f.deploymentOf[r];
  accrue(f, d, f.clockS[0]);
  a.state[r] = OFF;
  if (a.onChange !== null) a.onChange(r, OFF);
  a.provisioned[d]--;
  a.active[d]--;
  a.draining[r] = 0;
  // Its memory goes with it, and its prefix cache.
  if (f.caching[r] !== 0) f.cache!.clearReplica(r);
}

/** Replicas of deployment d serving and provisioning now (the timeseries columns). */
export function countStates(f: Fleet, d: number, out: Int32Array): void {
  const a = f.autoscaler!;
  const first = f.firstReplicaOf[d];
  const end = first + f.deployments[d].replicas;
  const held = f.faults === null ? null : f.faults.downCount;
  out[0] = 0;
  out[1] = 0;
  for (let r = first; r < end; r++) {
    // As decide() counts them: a replica a partial incident or failure holds down is not serving.
    if (a.state[r] === SERVING && (held === null || held[r] === 0)) out[0]++;
    else if (a.state[r] === PROVISIONING) out[1]++;
  }
}
