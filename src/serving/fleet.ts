/**
 * Replicas, continuous batching, KV blocks, routing, failover and outages: everything that happens
 * to a request between its arrival and its fate. This is the hot loop; state lives in typed arrays
 * indexed by integer ids and nothing here allocates per event.
 *
 * Reading guide. A replica is in one of three phases:
 *  - IDLE: nothing to run.
 *  - PREFILL: one iteration prefilling the requests just admitted (vLLM-style prefill-first).
 *  - DECODE: a *run* of decode steps during which the batch does not change. The run is one event:
 *    its length is the sum of an arithmetic series (perf/roofline.ts) and it ends at the next
 *    completion or KV-exhaustion boundary, or earlier when an arrival could be admitted
 *    (`interruptRun`). With `stepMode` every run is one step: the reference the tests compare to.
 *    A prefill that nothing can follow but a decode run is planned with it as one event
 *    (`prefillThenDecode`): the run starts at the prefill's end, and an arrival before then
 *    turns it back into a prefill whose end admits again (PREFILLED).
 * At each boundary (`boundary`) the replica commits the finished steps, retires completed requests,
 * admits from its queue, preempts when KV blocks run out, and starts the next iteration.
 */
import type { Deployment, Scenario } from '../scenario/load.js';
import { NONE, RequestTable } from '../engine/requests.js';
import type { EventQueue } from '../engine/event-queue.js';
import { decodeRunS, decodeStepsWithin, firstBoundaryAtOrAfter } from '../perf/roofline.js';
import {
  FATE_COMPLETED,
  FATE_FAILED_OVER,
  FATE_LOST,
  FATE_REJECTED,
  FATE_TIMED_OUT,
  type Recorder,
} from '../metrics/recorder.js';

/**
 * The residue class (token count mod B) of the requests that open a new block going from step s to
 * s + 1: those whose phase ≡ −s (mod B). Floor-based, since `%` on a double is a C call in V8.
 */
function openingResidue(s: number, B: number): number {
  const t = s - Math.floor(s / B) * B;
  return t === 0 ? 0 : B - t;
}

const IDLE = 0;
const PREFILL = 1;
const DECODE = 2;
/** scheduler chunked: one iteration of decodes plus prefill chunks within the token budget. */
const MIXED = 3;
/** A prefill whose requests were already moved to decoding: its end only starts the next iteration. */
const PREFILLED = 4;

// Per-replica scheduler (deployment `scheduler:`); a disaggregated deployment's replicas take a pool role.
const SCHED_CONTINUOUS = 0;
const SCHED_CHUNKED = 1;
const SCHED_STATIC = 2;
const SCHED_PREFILL_POOL = 3;
const SCHED_DECODE_POOL = 4;
/** rq.baseStep of a request whose KV arrived from a prefill replica: it decodes on admission. */
const KV_TRANSFERRED = -1;

/**
 * Load levels the routing index keeps exactly (0 .. LOAD_LEVELS − 2); the last level holds every
 * replica with a larger load, and a pool whose smallest load is there is scanned instead.
 */
const LOAD_LEVELS = 64;
const TOP_LEVEL = LOAD_LEVELS - 1;

/** Most prompt tokens one prefill iteration takes in (vLLM's max_num_batched_tokens); at least one request always fits. */
export const PREFILL_TOKEN_BUDGET = 8192;

export class Fleet {
  readonly replicas: number;
  readonly requests = new RequestTable();
  readonly deploymentOf: Int32Array;
  readonly up: Uint8Array;
  readonly phase: Uint8Array;
  readonly queueHead: Int32Array;
  readonly queueTail: Int32Array;
  readonly queueLen: Int32Array;
  readonly batch: Int32Array;
  private readonly prefillCount: Int32Array;
  /** Requests past their prefill, in the completion heap. */
  private readonly heapCount: Int32Array;
  private readonly slotBase: Int32Array;
  private readonly slots: Int32Array;
  private readonly heap: Int32Array;
  /** Decode steps completed by the replica since it started. */
  private readonly step: Float64Array;
  /** Σ kvPhase over the batch: context held at step s is sumPhase + batch·s. */
  private readonly sumPhase: Float64Array;
  /**
   * KV blocks the batch holds at step s are Σ ceil((kvPhase + s) / B), exactly kvBlockBase plus a
   * sum over the residue table (kvBlocksAt, O(B)). Admission and run planning first ask an O(1)
   * upper bound (kvBlocksBound) and sum the table only when the bound says the cache may be full.
   */
  private readonly kvBlockBase: Float64Array;
  private readonly kvResidueBase: Int32Array;
  private readonly kvResidue: Int32Array;
  private readonly blockTokens: Int32Array;
  private readonly kvCapacityBlocks: Float64Array;
  private readonly runStartS: Float64Array;
  private readonly runSteps: Float64Array;
  private readonly runCoeffs: Float64Array;
  /** Per replica, its 5 coefficients in runCoeffs as a view made once (subarray per event would allocate). */
  private readonly runCoeffView: Float64Array[];
  /** Scratch for {@link firstBoundaryAtOrAfter}'s second result, the time of the boundary it found. */
  private readonly boundaryRunS = new Float64Array(1);
  /**
   * KV blocks held at the start of the current decode run, or the upper bound on them that planned it
   * (interruptRun makes it exact when the bound would refuse). The batch cannot change during a run.
   */
  private readonly runBlocks: Float64Array;
  /** Largest prompt + output a replica's whole KV cache can hold. */
  private readonly maxTokens: Float64Array;
  /** Waiting requests a replica takes before turning arrivals away (deployment `max_queue`). */
  private readonly queueLimit: Float64Array;
  /** ∫ 1/batch dt over busy time: a request's share of busy time is the difference across its stay. */
  private readonly shareIntegral: Float64Array;
  private readonly markS: Float64Array;
  readonly busyS: Float64Array;
  private readonly admitCounter: Float64Array;
  private readonly downDepth: Int32Array;
  /** Per workload, per model tier: the replicas serving that tier's model. */
  private readonly tierReplicas: Int32Array[][];
  /**
   * The same replicas as runs of consecutive ids within one deployment: [first, end) pairs in
   * ascending id order. Least-outstanding routing scans these, so a deployment that is
   * down or too small is skipped whole and the scan reads the load arrays in order.
   */
  private readonly tierRuns: Int32Array[][];
  private readonly tierFirstDeployment: number[][];
  /**
   * Least-outstanding routing index. A *pool* is one of the tierRuns ranges (runs of different
   * tiers are the same range or disjoint), or a disaggregated deployment's decode replicas, for
   * hand-offs. Per pool and load level (queue + batch): a bitset of its replicas at that level,
   * their count, and the smallest level in use. Routing takes the lowest set bit at the smallest
   * level instead of reading every replica's load, so its cost does not grow with replicas per
   * model (1.43x faster at 300-400 per model; README "Performance"). Pools with a queue limit are
   * still scanned: a full queue excludes a replica whatever its load. Loads change where a request
   * joins a queue, leaves a batch, or leaves a queue other than into the batch (`loadMoved`);
   * admission moves one from queue to batch and leaves the load as it was.
   */
  private readonly poolOf: Int32Array;
  private readonly poolFirst: Int32Array;
  private readonly poolWords: Int32Array;
  private readonly poolBitsBase: Int32Array;
  private readonly poolMinLevel: Int32Array;
  private readonly poolIndexed: Uint8Array;
  private readonly levelBits: Int32Array;
  private readonly levelCount: Int32Array;
  /** Per deployment, the pool of its decode replicas (disaggregated), or NONE. */
  private readonly decodePool: Int32Array;
  private readonly rrCursor: Int32Array[];
  private readonly leastOutstanding: boolean;
  private readonly failoverOnOutage: boolean;
  private readonly failoverOnOverload: boolean;
  private readonly deployments: Deployment[];
  private readonly sched: Uint8Array;
  private readonly firstReplicaOf: Int32Array;
  /** chunked: the request whose prompt is part-way through prefill (at most one), and tokens done. */
  private readonly chunkReq: Int32Array;
  private readonly chunkDone: Float64Array;
  /** chunked: requests whose prefill completes in the iteration in flight, linked through rq.next. */
  private readonly prefillList: Int32Array;
  /** chunked: whether the iteration in flight advances the decoding requests by a step. */
  private readonly mixedDecoders: Int32Array;

  constructor(
    scenario: Scenario,
    private readonly queue: EventQueue,
    private readonly replicaEntityBase: number,
    private readonly recorder: Recorder,
    private readonly stepMode: boolean,
    /**
     * The simulated time of the operation in progress: the event loop sets clockS[0] before it
     * calls arrive or onEvent (outageStart and settle set it themselves). Methods read it here
     * instead of taking the time as an argument: V8 boxes a double argument into a new heap object
     * at every call it does not inline, and passing the time down the call chain made garbage on
     * every event (README "Performance").
     */
    readonly clockS: Float64Array,
    /** routingIndex false: least-outstanding routing scans every replica (the reference tests compare the index to). */
    options: { routingIndex?: boolean } = {},
  ) {
    const deps = scenario.deployments;
    this.deployments = deps;
    const R = deps.reduce((n, d) => n + d.replicas, 0);
    this.replicas = R;
    this.deploymentOf = new Int32Array(R);
    this.slotBase = new Int32Array(R);
    this.kvResidueBase = new Int32Array(R);
    this.blockTokens = new Int32Array(R);
    this.kvCapacityBlocks = new Float64Array(R);
    this.sched = new Uint8Array(R);
    this.firstReplicaOf = new Int32Array(deps.length);
    this.chunkReq = new Int32Array(R).fill(NONE);
    this.chunkDone = new Float64Array(R);
    this.prefillList = new Int32Array(R).fill(NONE);
    this.mixedDecoders = new Int32Array(R);
    let r = 0;
    let slotsTotal = 0;
    let residueTotal = 0;
    for (const d of deps) {
      for (let i = 0; i < d.replicas; i++, r++) {
        this.deploymentOf[r] = d.index;
        this.slotBase[r] = slotsTotal;
        slotsTotal += d.maxBatch;
        this.kvResidueBase[r] = residueTotal;
        residueTotal += d.blockTokens;
        this.blockTokens[r] = d.blockTokens;
        this.kvCapacityBlocks[r] = d.perf.kvCapacityBlocks;
        this.sched[r] = schedulerOf(d.scheduler, i < d.prefillReplicas);
        if (i === 0) this.firstReplicaOf[d.index] = r;
      }
    }
    this.slots = new Int32Array(slotsTotal);
    this.heap = new Int32Array(slotsTotal);
    this.kvResidue = new Int32Array(residueTotal);
    this.up = new Uint8Array(R).fill(1);
    this.phase = new Uint8Array(R);
    this.queueHead = new Int32Array(R).fill(NONE);
    this.queueTail = new Int32Array(R).fill(NONE);
    this.queueLen = new Int32Array(R);
    this.batch = new Int32Array(R);
    this.prefillCount = new Int32Array(R);
    this.heapCount = new Int32Array(R);
    this.step = new Float64Array(R);
    this.sumPhase = new Float64Array(R);
    this.kvBlockBase = new Float64Array(R);
    this.runStartS = new Float64Array(R);
    this.runSteps = new Float64Array(R);
    this.runCoeffs = new Float64Array(R * 5);
    this.runCoeffView = [];
    for (let i = 0; i < R; i++) this.runCoeffView.push(this.runCoeffs.subarray(i * 5, i * 5 + 5));
    this.runBlocks = new Float64Array(R);
    this.maxTokens = new Float64Array(R);
    for (let i = 0; i < R; i++) this.maxTokens[i] = this.kvCapacityBlocks[i] * this.blockTokens[i];
    this.queueLimit = new Float64Array(R);
    for (let i = 0; i < R; i++) this.queueLimit[i] = deps[this.deploymentOf[i]].maxQueuePerReplica;
    this.shareIntegral = new Float64Array(R);
    this.markS = new Float64Array(R);
    this.busyS = new Float64Array(R);
    this.admitCounter = new Float64Array(R);
    this.downDepth = new Int32Array(deps.length);

    const replicasOfModel = (model: string) => {
      const ids: number[] = [];
      // Decode-pool replicas of a disaggregated deployment take requests only from its prefill pool.
      for (let i = 0; i < R; i++) {
        if (deps[this.deploymentOf[i]].model.id === model && this.sched[i] !== SCHED_DECODE_POOL) ids.push(i);
      }
      return Int32Array.from(ids);
    };
    this.tierReplicas = scenario.workloads.map((w) => [w.model, ...w.fallback].map(replicasOfModel));
    this.tierRuns = this.tierReplicas.map((tiers) => tiers.map((ids) => this.runsOf(ids)));
    this.tierFirstDeployment = scenario.workloads.map((w) =>
      [w.model, ...w.fallback].map((m) => deps.findIndex((d) => d.model.id === m)),
    );
    this.rrCursor = scenario.workloads.map((w) => new Int32Array(w.fallback.length + 1));
    const pools = new Map<number, number>();
    for (const tiers of this.tierRuns) {
      for (const runs of tiers) {
        for (let i = 0; i < runs.length; i += 2) if (!pools.has(runs[i])) pools.set(runs[i], runs[i + 1]);
      }
    }
    // A disaggregated deployment's decode replicas: a pool of their own, for hand-offs.
    this.decodePool = new Int32Array(deps.length).fill(NONE);
    for (const d of deps) {
      if (d.scheduler !== 'disaggregated') continue;
      const first = this.firstReplicaOf[d.index];
      pools.set(first + d.prefillReplicas, first + d.replicas);
    }
    const P = pools.size;
    this.poolOf = new Int32Array(R).fill(NONE);
    this.poolFirst = new Int32Array(P);
    this.poolWords = new Int32Array(P);
    this.poolBitsBase = new Int32Array(P);
    this.poolMinLevel = new Int32Array(P);
    this.poolIndexed = new Uint8Array(P);
    this.levelCount = new Int32Array(P * LOAD_LEVELS);
    let bitsTotal = 0;
    let p = 0;
    for (const [first, end] of pools) {
      const words = (end - first + 31) >> 5;
      this.poolFirst[p] = first;
      this.poolWords[p] = words;
      this.poolBitsBase[p] = bitsTotal;
      this.poolIndexed[p] = options.routingIndex !== false && this.queueLimit[first] === Infinity ? 1 : 0;
      this.levelCount[p * LOAD_LEVELS] = end - first;
      for (let i = first; i < end; i++) this.poolOf[i] = p;
      if (this.sched[first] === SCHED_DECODE_POOL) this.decodePool[this.deploymentOf[first]] = p;
      bitsTotal += words * LOAD_LEVELS;
      p++;
    }
    this.levelBits = new Int32Array(bitsTotal);
    for (let i = 0; i < R; i++) {
      const pool = this.poolOf[i];
      if (pool === NONE) continue;
      const k = i - this.poolFirst[pool];
      this.levelBits[this.poolBitsBase[pool] + (k >> 5)] |= 1 << (k & 31);
    }
    this.leastOutstanding = scenario.routing.policy === 'least-outstanding';
    this.failoverOnOutage = scenario.routing.failover !== 'never';
    this.failoverOnOverload = scenario.routing.failover === 'on-outage-or-overload';
    this.workloadTimeoutS = Float64Array.from(scenario.workloads.map((w) => w.timeoutS));
  }

  /** Splits ascending replica ids into [first, end) runs of consecutive ids within one deployment. */
  private runsOf(ids: Int32Array): Int32Array {
    const runs: number[] = [];
    for (let i = 0; i < ids.length; ) {
      let j = i + 1;
      while (j < ids.length && ids[j] === ids[j - 1] + 1 && this.deploymentOf[ids[j]] === this.deploymentOf[ids[i]]) j++;
      runs.push(ids[i], ids[j - 1] + 1);
      i = j;
    }
    return Int32Array.from(runs);
  }

  private arrivalCount = 0;
  private readonly workloadTimeoutS: Float64Array;

  /**
   * Called with the request's workload whenever a request ends (completed, rejected, timed out or
   * lost), at clockS[0]: closed-loop arrivals send a user's next request from it. One function set
   * once per run, so the hot path pays a null check, not an allocation.
   */
  onRequestEnd: ((workload: number) => void) | null = null;

  /** A new request arrives from workload `w`, at clockS[0]. */
  arrive(w: number, promptTokens: number, outputTokens: number): void {
    const q = this.requests.alloc();
    const rq = this.requests;
    rq.seq[q] = this.arrivalCount++;
    rq.arrivalS[q] = this.clockS[0];
    rq.workload[q] = w;
    rq.promptTokens[q] = promptTokens;
    rq.outputTokens[q] = outputTokens;
    rq.generated[q] = 0;
    rq.firstTokenS[q] = -1;
    rq.failedOver[q] = 0;
    this.route(q, FATE_REJECTED, this.tierFirstDeployment[w][0]);
  }

  /**
   * Places a request on a replica of its model, or of a fallback model; when nothing can take it,
   * it ends with `fateIfNone` (rejected for a new request, lost for one evicted by an outage).
   */
  private route(q: number, fateIfNone: number, endAt: number): void {
    const rq = this.requests;
    const w = rq.workload[q];
    const tiers = this.tierReplicas[w];
    const needTokens = rq.promptTokens[q] + rq.outputTokens[q];
    const tierLimit = this.failoverOnOutage ? tiers.length : 1;
    const up = this.up;
    const queueLen = this.queueLen;
    const queueLimit = this.queueLimit;
    const maxTokens = this.maxTokens;
    for (let k = 0; k < tierLimit; k++) {
      const candidates = tiers[k];
      let best = NONE;
      // A replica that could serve but whose queue is full: the tier is overloaded, not down.
      let full = NONE;
      const n = candidates.length;
      if (this.leastOutstanding) {
        // The first replica with the fewest outstanding requests. Whole deployments are ruled in or
        // out first (outages, KV size and queue limits are per deployment); then the index answers,
        // or, past its top level or under a queue limit, a scan of the load arrays in id order.
        const batch = this.batch;
        const runs = this.tierRuns[w][k];
        let bestLoad = Infinity;
        scan: for (let i = 0; i < runs.length; i += 2) {
          const first = runs[i];
          if (up[first] === 0 || needTokens > maxTokens[first]) continue;
          const pool = this.poolOf[first];
          const level = this.poolMinLevel[pool];
          if (level < TOP_LEVEL && this.poolIndexed[pool] === 1) {
            if (level < bestLoad) {
              bestLoad = level;
              best = this.firstAtLevel(pool, level);
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
        const start = this.rrCursor[w][k];
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
          this.rrCursor[w][k] = idx + 1 === n ? 0 : idx + 1;
          break;
        }
      }
      if (best === NONE) {
        if (full === NONE) continue; // whole tier down (or too small): fail over
        endAt = this.deploymentOf[full];
        if (this.failoverOnOverload) continue;
        break;
      }
      const d = this.deploymentOf[best];
      if (k > 0) rq.failedOver[q] = 1;
      this.recorder.interval.arrivals[d]++;
      this.enqueue(best, q, false);
      return;
    }
    this.finish(q, endAt, fateIfNone);
  }

  private finish(q: number, deployment: number, fate: number): void {
    const rq = this.requests;
    this.recorder.ended(rq.workload[q], deployment, fate, rq.arrivalS[q]);
    this.recorder.requestLog?.record(rq, q, deployment, fate, this.clockS[0]);
    const w = rq.workload[q];
    rq.release(q);
    if (this.onRequestEnd !== null) this.onRequestEnd(w);
  }

  private enqueue(r: number, q: number, front: boolean): void {
    const rq = this.requests;
    const wasEmpty = this.queueLen[r] === 0;
    if (wasEmpty) {
      rq.next[q] = NONE;
      this.queueHead[r] = q;
      this.queueTail[r] = q;
    } else if (front) {
      rq.next[q] = this.queueHead[r];
      this.queueHead[r] = q;
    } else {
      rq.next[q] = NONE;
      rq.next[this.queueTail[r]] = q;
      this.queueTail[r] = q;
    }
    this.queueLen[r]++;
    this.loadMoved(r, 1);
    if (front) return;
    const phase = this.phase[r];
    if (phase === IDLE) this.boundary(r);
    // Static batching admits nothing until its batch has drained, so arrivals never cut a run short.
    else if (phase === DECODE && wasEmpty && !this.stepMode && this.sched[r] !== SCHED_STATIC) this.interruptRun(r, q);
  }

  /**
   * An arrival to a decoding replica that could admit it cuts the run short at the end of the
   * step in progress; one that could not (batch full, KV short) leaves the run alone.
   */
  private interruptRun(r: number, q: number): void {
    const nowS = this.clockS[0];
    if (nowS < this.runStartS[r]) {
      // The run was planned with the prefill still in flight (prefillThenDecode): the arrival waits
      // for the prefill's end, where the replica admits again, as when the prefill is its own event.
      this.phase[r] = PREFILLED;
      this.queue.schedule(this.replicaEntityBase + r, this.runStartS[r]);
      return;
    }
    const d = this.deployments[this.deploymentOf[r]];
    if (this.batch[r] >= d.maxBatch) return;
    // As at admission: a request arriving with its KV (disaggregated hand-off) needs no block for a
    // prefill token; reserving one here would skip interrupts that step mode makes.
    const rq = this.requests;
    const transferred = this.sched[r] === SCHED_DECODE_POOL && rq.baseStep[q] === KV_TRANSFERRED;
    const need = this.blocksFor(r, rq.promptTokens[q] + rq.generated[q] + (transferred ? 0 : 1));
    if (this.runBlocks[r] + need > this.kvCapacityBlocks[r]) {
      // runBlocks may be the bound; the batch has not changed since the run started at step[r].
      this.runBlocks[r] = this.kvBlocksAt(r, this.step[r]);
      if (this.runBlocks[r] + need > this.kvCapacityBlocks[r]) return;
    }
    const c = this.runCoeffView[r];
    const elapsedS = nowS - this.runStartS[r];
    const planned = this.runSteps[r];
    // An arrival at the very instant the run started (a hand-off in the same event) still waits
    // for the step in flight, as it does in step mode: the earliest boundary is after one step.
    const n = firstBoundaryAtOrAfter(c, elapsedS, planned, this.boundaryRunS);
    const m = Math.max(1, n);
    if (m >= planned) return;
    this.runSteps[r] = m;
    const known = this.boundaryRunS[0];
    const runS = m === n && !Number.isNaN(known) ? known : decodeRunS(c, m);
    this.queue.schedule(this.replicaEntityBase + r, this.runStartS[r] + runS);
  }

  /** The lowest replica id of `pool` at load `level` (the level must be in use). */
  private firstAtLevel(pool: number, level: number): number {
    const words = this.poolWords[pool];
    const base = this.poolBitsBase[pool] + level * words;
    for (let j = 0; j < words; j++) {
      const bits = this.levelBits[base + j];
      if (bits !== 0) return this.poolFirst[pool] + (j << 5) + (31 - Math.clz32(bits & -bits));
    }
    throw new Error(`internal: the routing index has no replica of pool ${pool} at load ${level}`);
  }

  /**
   * Replica r's queue + batch has just changed by `delta` (±1): moves it between the routing
   * index's levels. Every caller has already updated queueLen or batch, so the new load is theirs.
   */
  private loadMoved(r: number, delta: number): void {
    const pool = this.poolOf[r];
    if (pool === NONE) return;
    const to = this.queueLen[r] + this.batch[r];
    const from = to - delta;
    const fromLevel = from < TOP_LEVEL ? from : TOP_LEVEL;
    const toLevel = to < TOP_LEVEL ? to : TOP_LEVEL;
    if (fromLevel === toLevel) return;
    const words = this.poolWords[pool];
    const k = r - this.poolFirst[pool];
    const at = this.poolBitsBase[pool] + (k >> 5);
    const bit = 1 << (k & 31);
    this.levelBits[at + fromLevel * words] ^= bit;
    this.levelBits[at + toLevel * words] |= bit;
    const counts = pool * LOAD_LEVELS;
    this.levelCount[counts + fromLevel]--;
    this.levelCount[counts + toLevel]++;
    const min = this.poolMinLevel[pool];
    if (toLevel < min || (fromLevel === min && this.levelCount[counts + fromLevel] === 0)) this.poolMinLevel[pool] = toLevel;
  }

  private blocksFor(r: number, tokens: number): number {
    const b = this.blockTokens[r];
    return Math.ceil(tokens / b);
  }

  /** KV blocks the batch holds at replica step s: Σ ceil((phase_i + s) / B), in O(B) via residues. */
  private kvBlocksAt(r: number, s: number): number {
    const B = this.blockTokens[r];
    const base = this.kvResidueBase[r];
    let total = this.kvBlockBase[r];
    for (let rho = 0; rho < B; rho++) {
      const n = this.kvResidue[base + rho];
      if (n !== 0) total += n * Math.floor((rho + s + B - 1) / B);
    }
    return total;
  }

  /**
   * An upper bound on kvBlocksAt(r, s) in O(1): Σ ceil(x_i / B) ≤ floor((Σ x_i + b·(B − 1)) / B),
   * with Σ x_i = sumPhase + b·s the tokens held. Exact integers in doubles, so the bound is sound.
   */
  private kvBlocksBound(r: number, s: number): number {
    const B = this.blockTokens[r];
    const b = this.batch[r];
    return Math.floor((this.sumPhase[r] + b * (s + B - 1)) / B);
  }

  /**
   * Whether a cache holding `blocks` (exact, or an upper bound) has room for the batch's next decode
   * step without preempting: a step opens at most one block per request.
   */
  private holdsNextStep(r: number, blocks: number): boolean {
    return blocks + this.batch[r] <= this.kvCapacityBlocks[r];
  }

  /** Blocks the batch opens going from step s to s + 1: requests whose tokens reach a multiple of B. */
  private kvOpening(r: number, s: number): number {
    return this.kvResidue[this.kvResidueBase[r] + openingResidue(s, this.blockTokens[r])];
  }

  private kvAdd(r: number, phase: number, sign: number): void {
    const B = this.blockTokens[r];
    const a = Math.floor(phase / B);
    this.kvBlockBase[r] += sign * a;
    this.kvResidue[this.kvResidueBase[r] + (phase - a * B)] += sign;
    this.sumPhase[r] += sign * phase;
  }

  /** Most decode steps from `s` the KV cache can hold before it needs more blocks than it has. */
  private kvStepsLeft(r: number, s: number, blocksAtS: number, limit: number): number {
    const B = this.blockTokens[r];
    const b = this.batch[r];
    const free = this.kvCapacityBlocks[r] - blocksAtS;
    if (free < 0) return 0;
    // Every B steps each request crosses exactly one block boundary.
    const cycles = Math.floor(free / b);
    let n = cycles * B;
    if (n >= limit) return limit;
    let used = this.kvCapacityBlocks[r] - free + cycles * b;
    const base = this.kvResidueBase[r];
    // Going from step t to t+1, requests whose tokens reach a multiple of B open a block; the
    // residue that does so steps down by one (mod B) as t steps up.
    let rho = openingResidue(s + n, B);
    for (;;) {
      used += this.kvResidue[base + rho];
      if (used > this.kvCapacityBlocks[r] || n >= limit) return Math.min(n, limit);
      n++;
      rho = rho === 0 ? B - 1 : rho - 1;
    }
  }

  /** Adds the elapsed busy time to the replica's share integral. Call before the batch changes. */
  private touch(r: number): void {
    const nowS = this.clockS[0];
    const b = this.batch[r];
    if (b > 0) {
      const dt = nowS - this.markS[r];
      this.shareIntegral[r] += dt / b;
      this.busyS[r] += dt;
    }
    this.markS[r] = nowS;
  }

  /** `extra`: 1 reserves KV for the token this request's prefill produces; 0 for a request arriving with its KV. */
  private addToBatch(r: number, q: number, extra = 1): void {
    const rq = this.requests;
    const b = this.batch[r];
    this.slots[this.slotBase[r] + b] = q;
    rq.slot[q] = b;
    this.batch[r] = b + 1;
    rq.shareMark[q] = this.shareIntegral[r];
    rq.admitSeq[q] = this.admitCounter[r]++;
    rq.heapPos[q] = NONE;
    // Reserve KV for the prompt, the tokens already generated, and the token this prefill produces.
    const phase = rq.promptTokens[q] + rq.generated[q] + extra - this.step[r];
    rq.kvPhase[q] = phase;
    this.kvAdd(r, phase, 1);
  }

  /** Removes a request from its replica's batch (and completion heap), settling its cost share. */
  private removeFromBatch(r: number, q: number): void {
    const rq = this.requests;
    if (rq.heapPos[q] !== NONE) this.heapRemove(r, q);
    const base = this.slotBase[r];
    const last = this.batch[r] - 1;
    const s = rq.slot[q];
    const moved = this.slots[base + last];
    this.slots[base + s] = moved;
    rq.slot[moved] = s;
    this.batch[r] = last;
    this.loadMoved(r, -1);
    this.kvAdd(r, rq.kvPhase[q], -1);
    this.recorder.busyShare(rq.workload[q], this.deploymentOf[r], this.shareIntegral[r] - rq.shareMark[q]);
  }

  /** The replica's event, at clockS[0]: the end of an iteration or decode run. */
  onEvent(r: number): void {
    this.boundary(r);
  }

  private boundary(r: number): void {
    const rq = this.requests;
    const nowS = this.clockS[0];
    this.touch(r);
    const phase = this.phase[r];
    if (phase === PREFILL) {
      this.finishPrefill(r, nowS);
    } else if (phase === MIXED) {
      let s = this.step[r];
      if (this.mixedDecoders[r] > 0) {
        s += 1;
        this.step[r] = s;
        const hb = this.slotBase[r];
        while (this.heapCount[r] > 0 && rq.finishStep[this.heap[hb]] <= s) this.complete(r, this.heap[hb]);
      }
      let q = this.prefillList[r];
      this.prefillList[r] = NONE;
      while (q !== NONE) {
        const nextQ = rq.next[q];
        const g = rq.generated[q] + 1;
        rq.generated[q] = g;
        rq.baseStep[q] = s;
        if (rq.firstTokenS[q] < 0) rq.firstTokenS[q] = nowS;
        // Re-anchor its KV at this step: it holds prompt + generated tokens now (steps that passed
        // while its prompt was still being chunked added none).
        this.kvAdd(r, rq.kvPhase[q], -1);
        const kvPhase = rq.promptTokens[q] + g - s;
        rq.kvPhase[q] = kvPhase;
        this.kvAdd(r, kvPhase, 1);
        if (g >= rq.outputTokens[q]) this.complete(r, q);
        else {
          rq.finishStep[q] = s + (rq.outputTokens[q] - g);
          this.heapPush(r, q);
        }
        q = nextQ;
      }
    } else if (phase === DECODE) {
      const s = this.step[r] + this.runSteps[r];
      this.step[r] = s;
      const hb = this.slotBase[r];
      while (this.heapCount[r] > 0 && rq.finishStep[this.heap[hb]] <= s) this.complete(r, this.heap[hb]);
    }
    this.startIteration(r);
  }

  /**
   * The prefilled requests have their first token at `nowS`: each completes, is handed off, or
   * decodes. `nowS` is ahead of the clock only from prefillThenDecode, which it calls only when
   * none completes or is handed off (both happen at the clock's time).
   */
  private finishPrefill(r: number, nowS: number): void {
    const rq = this.requests;
    const base = this.slotBase[r];
    const b = this.batch[r];
    const s = this.step[r];
    // The prefilled requests are the last prefillCount slots; completing one swaps from the end,
    // so walk from the end down.
    for (let i = b - 1; i >= b - this.prefillCount[r]; i--) {
      const q = this.slots[base + i];
      const g = rq.generated[q] + 1;
      rq.generated[q] = g;
      rq.baseStep[q] = s;
      if (rq.firstTokenS[q] < 0) rq.firstTokenS[q] = nowS;
      if (g >= rq.outputTokens[q]) this.complete(r, q);
      else if (this.sched[r] === SCHED_PREFILL_POOL) this.handOff(r, q);
      else {
        rq.finishStep[q] = s + (rq.outputTokens[q] - g);
        this.heapPush(r, q);
      }
    }
    this.prefillCount[r] = 0;
  }

  /**
   * Plans the decode run that follows a prefill ending at runStartS[r] (the caller sets it) now, as
   * one event, when nothing else can happen at the prefill's end: no request completes or leaves
   * there, nothing waits to be admitted, and the run needs no preemption. Until then only an
   * arrival or an outage touches the replica; `interruptRun` turns the first back into the
   * prefill's own event. Busy time is then accumulated across the prefill's end in one step, which
   * may differ in the last bit.
   */
  private prefillThenDecode(r: number): boolean {
    if (this.queueLen[r] > 0 || !this.holdsNextStep(r, this.kvBlocksBound(r, this.step[r]))) return false;
    const rq = this.requests;
    const base = this.slotBase[r];
    const b = this.batch[r];
    for (let i = b - this.prefillCount[r]; i < b; i++) {
      const q = this.slots[base + i];
      if (rq.generated[q] + 1 >= rq.outputTokens[q]) return false;
    }
    this.finishPrefill(r, this.runStartS[r]);
    this.startDecodeRun(r);
    return true;
  }

  private complete(r: number, q: number): void {
    const rq = this.requests;
    const d = this.deploymentOf[r];
    this.removeFromBatch(r, q);
    this.recorder.completed(rq, q, d);
    const fate = rq.failedOver[q] === 1 ? FATE_FAILED_OVER : FATE_COMPLETED;
    this.recorder.requestLog?.record(rq, q, d, fate, this.clockS[0]);
    const w = rq.workload[q];
    rq.release(q);
    if (this.onRequestEnd !== null) this.onRequestEnd(w);
  }

  private startIteration(r: number): void {
    const kind = this.sched[r];
    if (kind === SCHED_CHUNKED) {
      this.startChunked(r);
      return;
    }
    const nowS = this.clockS[0];
    const d = this.deployments[this.deploymentOf[r]];
    const rq = this.requests;
    if (this.queueLen[r] > 0 && this.batch[r] < d.maxBatch && (kind !== SCHED_STATIC || this.batch[r] === 0)) {
      let admitted = 0;
      let tokens = 0;
      let sumSquares = 0;
      const s = this.step[r];
      let blocksUsed = this.kvBlocksBound(r, s);
      let blocksExact = false;
      const capacity = this.kvCapacityBlocks[r];
      while (this.queueLen[r] > 0 && this.batch[r] < d.maxBatch) {
        const q = this.queueHead[r];
        const prefillTokens = rq.promptTokens[q] + rq.generated[q];
        // A decode-pool replica takes transferred requests straight into decoding; once it has
        // admitted one to recompute (preempted here), the rest wait, so the prefilled requests
        // stay the last `prefillCount` slots.
        const transferred = kind === SCHED_DECODE_POOL && rq.baseStep[q] === KV_TRANSFERRED;
        if (transferred && admitted > 0) break;
        const need = this.blocksFor(r, prefillTokens + (transferred ? 0 : 1));
        if (blocksUsed + need > capacity) {
          if (blocksExact) break;
          // The bound says no; the exact count (which includes those just admitted) decides.
          blocksUsed = this.kvBlocksAt(r, s);
          blocksExact = true;
          if (blocksUsed + need > capacity) break;
        }
        // Static batching prefills its whole batch at once.
        if (admitted > 0 && kind !== SCHED_STATIC && tokens + prefillTokens > PREFILL_TOKEN_BUDGET) break;
        this.queueHead[r] = rq.next[q];
        this.queueLen[r]--;
        if (transferred) {
          this.addToBatch(r, q, 0);
          blocksUsed += need;
          rq.baseStep[q] = s;
          rq.finishStep[q] = s + (rq.outputTokens[q] - rq.generated[q]);
          this.heapPush(r, q);
          continue;
        }
        if (rq.firstTokenS[q] < 0 && nowS - rq.arrivalS[q] > this.workloadTimeoutS[rq.workload[q]]) {
          this.loadMoved(r, -1);
          this.finish(q, d.index, FATE_TIMED_OUT);
          continue;
        }
        this.addToBatch(r, q);
        blocksUsed += need;
        admitted++;
        tokens += prefillTokens;
        sumSquares += prefillTokens * prefillTokens;
      }
      if (admitted > 0) {
        this.prefillCount[r] = admitted;
        this.phase[r] = PREFILL;
        // A prefill-pool replica also ships the prompts' KV to the decode pool before it is done.
        const transferS = kind === SCHED_PREFILL_POOL ? d.perf.kvTransferS(tokens + admitted) : 0;
        const endS = nowS + d.perf.prefillS(tokens, sumSquares) + transferS;
        // Where a fused run would start (runStartS is read only while the replica decodes).
        this.runStartS[r] = endS;
        if (this.stepMode || kind === SCHED_PREFILL_POOL || !this.prefillThenDecode(r)) {
          this.queue.schedule(this.replicaEntityBase + r, endS);
        }
        return;
      }
    }
    if (this.batch[r] === 0) {
      this.phase[r] = IDLE;
      return;
    }
    this.runStartS[r] = nowS;
    this.startDecodeRun(r);
  }

  /**
   * A run of decode steps over the whole batch (every request in it is past its prefill), starting
   * at runStartS[r], which the caller sets: the clock's time, or a prefill's end (prefillThenDecode,
   * whose runs never preempt, so preemption below always happens at the clock's time).
   */
  private startDecodeRun(r: number): void {
    const startS = this.runStartS[r];
    const d = this.deployments[this.deploymentOf[r]];
    const rq = this.requests;
    // Make room for the next step: preempt the latest admitted until the KV cache holds it.
    const s = this.step[r];
    const capacity = this.kvCapacityBlocks[r];
    let blocks = this.kvBlocksBound(r, s);
    // When the bound leaves room, blocks stays the bound; otherwise it is the exact count from here on.
    const bounded = this.holdsNextStep(r, blocks);
    if (!bounded) {
      blocks = this.kvBlocksAt(r, s);
      while (this.batch[r] > 0 && blocks + this.kvOpening(r, s) > capacity) {
        this.preemptLatest(r);
        blocks = this.kvBlocksAt(r, s);
      }
      if (this.batch[r] === 0) {
        this.startIteration(r);
        return;
      }
    }
    this.runBlocks[r] = blocks;
    const toFinish = rq.finishStep[this.heap[this.slotBase[r]]] - s;
    let steps = 1;
    if (!this.stepMode) {
      // Blocks never shrink as steps pass, so a cache that holds the run's last step holds them all.
      if (this.kvBlocksBound(r, s + toFinish) <= capacity) steps = toFinish;
      else steps = this.kvStepsLeft(r, s, bounded ? this.kvBlocksAt(r, s) : blocks, toFinish);
    }
    // A run of no steps would end where it starts and be planned again, forever: only a bug in the
    // KV accounting above could cause it, so fail loudly rather than hang.
    if (!(steps >= 1)) throw new Error(`internal: replica ${r} planned a decode run of ${steps} steps at ${startS} s`);
    const c = this.runCoeffView[r];
    const b = this.batch[r];
    d.perf.decodeLines(b, this.sumPhase[r] + b * s, c);
    this.phase[r] = DECODE;
    this.runSteps[r] = steps;
    this.queue.schedule(this.replicaEntityBase + r, startS + decodeRunS(c, steps));
  }

  private preemptLatest(r: number): void {
    const rq = this.requests;
    const base = this.slotBase[r];
    let victim = this.slots[base];
    for (let i = 1; i < this.batch[r]; i++) {
      const q = this.slots[base + i];
      if (rq.admitSeq[q] > rq.admitSeq[victim]) victim = q;
    }
    // Recompute later: keep the tokens generated so far, give back their KV. A prompt still being
    // chunked has generated nothing; its chunks are recomputed with it.
    if (victim === this.chunkReq[r]) {
      this.chunkReq[r] = NONE;
      this.chunkDone[r] = 0;
    } else rq.generated[victim] += this.step[r] - rq.baseStep[victim];
    this.removeFromBatch(r, victim);
    this.recorder.preemptions[this.deploymentOf[r]]++;
    this.enqueue(r, victim, true);
  }

  /**
   * scheduler chunked (Sarathi-Serve): every iteration carries one token per decoding request and
   * fills the rest of `chunk_tokens` with prompt chunks, the unfinished prompt first, then new
   * admissions (at most one prompt part-way at a time). An iteration with prompt chunks is one
   * event; with none, the decodes run collapsed as under `continuous`.
   */
  private startChunked(r: number): void {
    const nowS = this.clockS[0];
    const d = this.deployments[this.deploymentOf[r]];
    const rq = this.requests;
    const capacity = this.kvCapacityBlocks[r];
    const s = this.step[r];
    let blocks = this.kvBlocksAt(r, s);
    // Room for the decoding requests' next token, as before a decode run.
    while (this.heapCount[r] > 0 && blocks + this.kvOpening(r, s) > capacity) {
      this.preemptLatest(r);
      blocks = this.kvBlocksAt(r, s);
    }
    const decoders = this.heapCount[r];
    // At least one prompt token per iteration, so a prompt always progresses however large the batch.
    let budget = Math.max(1, d.chunkTokens - decoders);
    let tokens = 0;
    let pairs = 0;
    let kvRead = 0;
    let listTail = NONE;
    const q0 = this.chunkReq[r];
    if (q0 !== NONE) {
      const need = rq.promptTokens[q0] + rq.generated[q0];
      const done = this.chunkDone[r];
      const c = Math.min(budget, need - done);
      tokens += c;
      // Causal attention of c new queries over `done` cached keys and each other.
      pairs += c * done + (c * (c + 1)) / 2;
      kvRead += done;
      budget -= c;
      if (done + c >= need) {
        this.chunkReq[r] = NONE;
        this.chunkDone[r] = 0;
        rq.next[q0] = NONE;
        this.prefillList[r] = q0;
        listTail = q0;
      } else this.chunkDone[r] = done + c;
    }
    while (budget > 0 && this.chunkReq[r] === NONE && this.queueLen[r] > 0 && this.batch[r] < d.maxBatch) {
      const q = this.queueHead[r];
      const need = rq.promptTokens[q] + rq.generated[q];
      const needBlocks = this.blocksFor(r, need + 1);
      if (blocks + needBlocks > capacity) break;
      this.queueHead[r] = rq.next[q];
      this.queueLen[r]--;
      if (rq.firstTokenS[q] < 0 && nowS - rq.arrivalS[q] > this.workloadTimeoutS[rq.workload[q]]) {
        this.loadMoved(r, -1);
        this.finish(q, d.index, FATE_TIMED_OUT);
        continue;
      }
      this.addToBatch(r, q);
      blocks += needBlocks;
      const c = Math.min(budget, need);
      tokens += c;
      pairs += (c * (c + 1)) / 2;
      budget -= c;
      if (c >= need) {
        rq.next[q] = NONE;
        if (listTail === NONE) this.prefillList[r] = q;
        else rq.next[listTail] = q;
        listTail = q;
      } else {
        this.chunkReq[r] = q;
        this.chunkDone[r] = c;
      }
    }
    if (tokens > 0) {
      let context = 0;
      const hb = this.slotBase[r];
      for (let i = 0; i < decoders; i++) context += rq.kvPhase[this.heap[hb + i]] + s;
      this.mixedDecoders[r] = decoders;
      this.phase[r] = MIXED;
      this.queue.schedule(this.replicaEntityBase + r, nowS + d.perf.mixedS(decoders, context, tokens, pairs, kvRead));
      return;
    }
    if (this.batch[r] === 0) {
      this.phase[r] = IDLE;
      return;
    }
    this.runStartS[r] = nowS;
    this.startDecodeRun(r);
  }

  /**
   * scheduler disaggregated: a prefill-pool replica hands a prefilled request (its first token out,
   * its KV shipped) to the least-loaded decode-pool replica of the same deployment.
   */
  private handOff(r: number, q: number): void {
    const rq = this.requests;
    this.removeFromBatch(r, q);
    const d = this.deploymentOf[r];
    const dep = this.deployments[d];
    const first = this.firstReplicaOf[d];
    let best = NONE;
    // The pool is up or down whole (outages are per deployment); the index answers as in route.
    const pool = this.decodePool[d];
    const level = this.poolMinLevel[pool];
    if (this.up[first + dep.prefillReplicas] !== 0 && level < TOP_LEVEL && this.poolIndexed[pool] === 1) {
      best = this.firstAtLevel(pool, level);
    } else {
      let bestLoad = Infinity;
      for (let i = first + dep.prefillReplicas; i < first + dep.replicas; i++) {
        const load = this.queueLen[i] + this.batch[i];
        if (this.up[i] !== 0 && load < bestLoad) {
          bestLoad = load;
          best = i;
        }
      }
    }
    if (best === NONE) {
      this.evict(q, d);
      return;
    }
    rq.baseStep[q] = KV_TRANSFERRED;
    this.enqueue(best, q, false);
  }

  // ---- completion heap: the batch's requests ordered by (finishStep, admitSeq) ----

  private less(a: number, b: number): boolean {
    const rq = this.requests;
    const fa = rq.finishStep[a];
    const fb = rq.finishStep[b];
    return fa < fb || (fa === fb && rq.admitSeq[a] < rq.admitSeq[b]);
  }

  /**
   * less(a, b) as 1 or 0, so sift-down can add it to pick the earlier child without a branch: which
   * child is earlier is a coin toss, while the loops' exits (kept on less) are mostly predicted.
   */
  private lessBit(a: number, b: number): number {
    const rq = this.requests;
    const fa = rq.finishStep[a];
    const fb = rq.finishStep[b];
    return +(fa < fb) | (+(fa === fb) & +(rq.admitSeq[a] < rq.admitSeq[b]));
  }

  private heapPush(r: number, q: number): void {
    const i = this.heapCount[r]++;
    this.heap[this.slotBase[r] + i] = q;
    this.siftUp(r, i);
  }

  private heapRemove(r: number, q: number): void {
    const base = this.slotBase[r];
    const rq = this.requests;
    const i = rq.heapPos[q];
    const last = --this.heapCount[r];
    rq.heapPos[q] = NONE;
    if (i === last) return;
    const moved = this.heap[base + last];
    this.heap[base + i] = moved;
    rq.heapPos[moved] = i;
    this.siftUp(r, i);
    this.siftDown(r, rq.heapPos[moved]);
  }

  private siftUp(r: number, i: number): void {
    const base = this.slotBase[r];
    const rq = this.requests;
    const q = this.heap[base + i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = this.heap[base + parent];
      if (!this.less(q, p)) break;
      this.heap[base + i] = p;
      rq.heapPos[p] = i;
      i = parent;
    }
    this.heap[base + i] = q;
    rq.heapPos[q] = i;
  }

  private siftDown(r: number, i: number): void {
    const base = this.slotBase[r];
    const rq = this.requests;
    const n = this.heapCount[r];
    const q = this.heap[base + i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n) child += this.lessBit(this.heap[base + child + 1], this.heap[base + child]);
      const c = this.heap[base + child];
      if (!this.less(c, q)) break;
      this.heap[base + i] = c;
      rq.heapPos[c] = i;
      i = child;
    }
    this.heap[base + i] = q;
    rq.heapPos[q] = i;
  }

  // ---- incidents ----

  /** Takes a deployment down: its requests fail over (or are lost) and its replicas stop. */
  outageStart(d: number, nowS: number): void {
    this.clockS[0] = nowS;
    this.downDepth[d]++;
    if (this.downDepth[d] > 1) return;
    const rq = this.requests;
    // Every replica goes down before any request moves, so none is sent to a sibling about to fail.
    for (let r = 0; r < this.replicas; r++) if (this.deploymentOf[r] === d) this.up[r] = 0;
    for (let r = 0; r < this.replicas; r++) {
      if (this.deploymentOf[r] !== d) continue;
      this.touch(r);
      this.queue.cancel(this.replicaEntityBase + r);
      this.phase[r] = IDLE;
      this.prefillCount[r] = 0;
      this.chunkReq[r] = NONE;
      this.chunkDone[r] = 0;
      this.prefillList[r] = NONE;
      while (this.batch[r] > 0) {
        const q = this.slots[this.slotBase[r] + this.batch[r] - 1];
        this.removeFromBatch(r, q);
        // A prefill planned with its run (prefillThenDecode) recorded a first token still to come;
        // at an outage at that very instant the prefill's own event would have come second.
        if (rq.firstTokenS[q] >= nowS) rq.firstTokenS[q] = -1;
        this.evict(q, d);
      }
      while (this.queueLen[r] > 0) {
        const q = this.queueHead[r];
        this.queueHead[r] = rq.next[q];
        this.queueLen[r]--;
        this.loadMoved(r, -1);
        this.evict(q, d);
      }
      this.queueTail[r] = NONE;
    }
  }

  private evict(q: number, d: number): void {
    const rq = this.requests;
    if (!this.failoverOnOutage) {
      this.finish(q, d, FATE_LOST);
      return;
    }
    // The answer starts over elsewhere: tokens generated on the failed replica are gone.
    rq.generated[q] = 0;
    rq.firstTokenS[q] = -1;
    rq.failedOver[q] = 1;
    this.route(q, FATE_LOST, d);
  }

  outageEnd(d: number, _nowS: number): void {
    this.downDepth[d]--;
    if (this.downDepth[d] > 0) return;
    for (let r = 0; r < this.replicas; r++) if (this.deploymentOf[r] === d) this.up[r] = 1;
  }

  // ---- observation for the timeseries ----

  /** Settles busy time up to now on every replica (for per-interval busy fractions). */
  settle(nowS: number): void {
    this.clockS[0] = nowS;
    for (let r = 0; r < this.replicas; r++) this.touch(r);
  }

  /** KV blocks in use at `nowS`, counting decode steps finished inside a collapsed run. */
  kvBlocksNow(r: number, nowS: number): number {
    let s = this.step[r];
    if (this.phase[r] === DECODE) {
      const c = this.runCoeffView[r];
      s += decodeStepsWithin(c, nowS - this.runStartS[r], this.runSteps[r]);
    }
    return this.batch[r] === 0 ? 0 : this.kvBlocksAt(r, s);
  }

  kvCapacity(r: number): number {
    return this.kvCapacityBlocks[r];
  }
}

function schedulerOf(kind: Deployment['scheduler'], prefillPool: boolean): number {
  switch (kind) {
    case 'continuous':
      return SCHED_CONTINUOUS;
    case 'chunked':
      return SCHED_CHUNKED;
    case 'static':
      return SCHED_STATIC;
    case 'disaggregated':
      return prefillPool ? SCHED_PREFILL_POOL : SCHED_DECODE_POOL;
  }
}
