/**
 * The fleet: every replica's state in typed arrays indexed by integer ids, and the entry points the
 * simulation drives (arrive, onEvent, outages, observation). This is the hot loop's data; nothing
 * in the serving layer allocates per event. The behaviour lives beside it, one concern per file,
 * as functions over this state (a class per concern would put a property load and a polymorphic
 * call between every step):
 *  - replica.ts: queue, batch, iteration boundaries and decode runs (the reading guide to phases);
 *  - intake.ts: a new request's row, then quotas, the batch tier or routing;
 *  - kv-blocks.ts: KV block accounting and preemption; completion-heap.ts: who finishes next;
 *  - prefix-cache.ts: shared prompt blocks kept per replica, referenced while in use, LRU-evicted;
 *  - schedulers/: one file per batching policy, registered in schedulers/registry.ts;
 *  - routing.ts: round-robin, least-outstanding and its index, failover; incidents.ts: outages; faults.ts: single replicas down;
 *  - autoscaler.ts: replicas provisioned, serving and drained as demand moves (deployment `autoscale`);
 *  - quota.ts: tenant and workload rate limits; priority.ts: queue classes; batch-tier.ts: backfill.
 */
import type { Deployment, Scenario } from '../scenario/load.js';
import { NONE, RequestTable } from '../engine/requests.js';
import type { EventQueue } from '../engine/event-queue.js';
import type { Recorder } from '../metrics/recorder.js';
import { LOAD_LEVELS, SCHED_DECODE_POOL } from './kinds.js';
import { boundary, touch } from './replica.js';
import { kvBlocksNow } from './kv-blocks.js';
import { outageEnd, outageStart } from './incidents.js';
import { schedulerOf } from './schedulers/registry.js';
import { routerOf } from './routers/registry.js';
import { runsOf } from './routers/least-outstanding.js';
import { hostTierOf, PrefixCache, sharedDeployments, sharesPrompts } from './prefix-cache.js';
import { newRequest, place, sharePrompt } from './intake.js';
import { RandomStream } from '../workload/rng.js';
import { Autoscaler } from './autoscaler.js';
import { quotasOf, type Quotas } from './quota.js';
import { priorityOf, type Priority } from './priority.js';
import { batchTierOf, type BatchTier } from './batch-tier.js';
import { faultsOf, type Faults } from './faults.js';
export { PREFILL_TOKEN_BUDGET } from './kinds.js';

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
  readonly prefillCount: Int32Array;
  readonly heapCount: Int32Array; // requests past their prefill, in the completion heap
  readonly slotBase: Int32Array;
  readonly slots: Int32Array;
  readonly heap: Int32Array;
  readonly heapKey: Float64Array; // each heap entry's (finishStep, admitSeq), completion-heap.ts
  /** Decode steps completed by the replica since it started. */
  readonly step: Float64Array;
  /** Σ kvPhase over the batch: context held at step s is sumPhase + batch·s. */
  readonly sumPhase: Float64Array;
  /**
   * KV blocks the batch holds at step s are Σ ceil((kvPhase + s) / B), exactly kvBlockBase plus a
   * sum over the residue table (kvBlocksAt, O(B)). Admission and run planning first ask an O(1)
   * upper bound (kvBlocksBound) and sum the table only when the bound says the cache may be full.
   */
  readonly kvBlockBase: Float64Array;
  readonly kvResidueBase: Int32Array;
  readonly kvResidue: Int32Array;
  readonly blockTokens: Int32Array;
  /**
   * KV blocks the batch's private blocks may use: the replica's blocks less those of its prefix
   * cache that requests reference (prefix-cache.ts); all of them without prefix caching.
   */
  readonly kvCapacityBlocks: Float64Array;
  /** The replica's KV blocks. */
  readonly kvTotalBlocks: Float64Array;
  /** 1 where the replica keeps a prefix cache (deployment `prefix_caching`, not a decode pool, reachable by a workload with shared blocks: sharedDeployments). */
  readonly caching: Uint8Array;
  /** Whether a workload's requests may share prompt blocks (prefix, session, hash chains: sharesPrompts). */
  readonly sharedPrompts: boolean;
  /** The prefix caches of the caching replicas, or null when none caches. */
  readonly cache: PrefixCache | null;
  /** Scratch for prefix-cache.ts `probe`: blocks skipped, blocks shared, entries newly referenced, skipped blocks copied from the host tier. */
  readonly probe = new Int32Array(4);
  /** Prompt tokens prefilled (computed, not found in the prefix cache) over the run, recomputations included. */
  readonly promptTokensComputed = new Float64Array(1);
  /** Σ over the batch of tokens held in shared cache blocks (attention still reads them). */
  readonly sharedTokens: Float64Array;
  /** Per workload: the segment id of its prefix group 0, and its prefix length in tokens (0: none). */
  readonly prefixChainBase: Int32Array;
  readonly prefixTokensOf: Int32Array;
  readonly runStartS: Float64Array;
  readonly runSteps: Float64Array;
  readonly runCoeffs: Float64Array;
  /** Per replica, its 5 coefficients in runCoeffs as a view made once (subarray per event would allocate). */
  readonly runCoeffView: Float64Array[];
  /** Scratch for {@link firstBoundaryAtOrAfter}'s second result, the time of the boundary it found. */
  readonly boundaryRunS = new Float64Array(1);
  /**
   * KV blocks held at the start of the current decode run, or the upper bound on them that planned it
   * (interruptRun makes it exact when the bound would refuse). The batch cannot change during a run.
   */
  readonly runBlocks: Float64Array;
  /** Largest prompt + output a replica's whole KV cache can hold. */
  readonly maxTokens: Float64Array;
  /** Waiting requests a replica takes before turning arrivals away (deployment `max_queue`). */
  readonly queueLimit: Float64Array;
  /** ∫ 1/batch dt over busy time: a request's share of busy time is the difference across its stay. */
  readonly shareIntegral: Float64Array;
  readonly markS: Float64Array;
  readonly busyS: Float64Array;
  readonly admitCounter: Float64Array;
  readonly downDepth: Int32Array;
  /** Single replicas down (partial incidents, random failures: faults.ts), or null when the scenario has neither. */
  readonly faults: Faults | null;
  /** The autoscaling policy's state (which replicas are live, draining...), or null when no deployment autoscales. */
  readonly autoscaler: Autoscaler | null;
  /** Quota buckets (quota.ts) and queue classes (priority.ts), or null when no workload or tenant sets them. */
  readonly quotas: Quotas | null;
  readonly priority: Priority | null;
  /** The batch tier (batch-tier.ts) or null, and per replica the batch-tier requests in its batch (left out of routing loads). */
  readonly batchTier: BatchTier | null;
  readonly batchHeld: Int32Array;
  /** Per workload, per model tier: the replicas serving that tier's model. */
  readonly tierReplicas: Int32Array[][];
  /**
   * The same replicas as runs of consecutive ids within one deployment: [first, end) pairs in
   * ascending id order. Least-outstanding routing scans these, so a deployment that is
   * down or too small is skipped whole and the scan reads the load arrays in order.
   */
  readonly tierRuns: Int32Array[][];
  readonly tierFirstDeployment: number[][];
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
  readonly poolOf: Int32Array;
  /** Per replica: its pool as built (poolOf is NONE while it is out of the index: down, off or draining). */
  readonly homePoolOf: Int32Array;
  readonly poolFirst: Int32Array;
  readonly poolWords: Int32Array;
  readonly poolBitsBase: Int32Array;
  readonly poolMinLevel: Int32Array;
  readonly poolIndexed: Uint8Array;
  readonly levelBits: Int32Array;
  readonly levelCount: Int32Array;
  /** Per deployment, the pool of its decode replicas (disaggregated), or NONE. */
  readonly decodePool: Int32Array;
  readonly rrCursor: Int32Array[];
  /** The routing policy: an index into ROUTERS (routers/registry.ts). */
  readonly router: number;
  /** A router's second answer: a replica that could serve but whose queue is full, or NONE. */
  readonly routeFull = new Int32Array(1);
  /** The request being routed, for routers that read it (prefix-aware). */
  readonly routeRequest = new Int32Array(1);
  /** routing prefix-aware: outstanding requests a whole-prompt cache hit is worth (`routing.prefix_weight`). */
  readonly prefixWeight: number;
  /** routing power-of-two: its draws (stream `routing/power-of-two`). */
  readonly routingRandom: RandomStream;
  readonly failoverOnOutage: boolean;
  readonly failoverOnOverload: boolean;
  readonly deployments: Deployment[];
  readonly sched: Uint8Array;
  readonly firstReplicaOf: Int32Array;
  /** chunked: the request whose prompt is part-way through prefill (at most one), and tokens done. */
  readonly chunkReq: Int32Array;
  readonly chunkDone: Float64Array;
  /** chunked: requests whose prefill completes in the iteration in flight, linked through rq.next. */
  readonly prefillList: Int32Array;
  /** chunked: whether the iteration in flight advances the decoding requests by a step. */
  readonly mixedDecoders: Int32Array;
  /** Whether a workload generates hidden reasoning tokens (then boundaries stamp first visible tokens). */
  readonly reasoning: boolean;

  constructor(
    scenario: Scenario,
    readonly queue: EventQueue,
    readonly replicaEntityBase: number,
    readonly recorder: Recorder,
    readonly stepMode: boolean,
    /**
     * The simulated time of the operation in progress: the event loop sets clockS[0] before it
     * calls arrive or onEvent (outageStart and settle set it themselves). Methods read it here
     * instead of taking the time as an argument: V8 boxes a double argument into a new heap object
     * at every call it does not inline, and passing the time down the call chain made garbage on
     * every event (README "Performance").
     */
    readonly clockS: Float64Array,
    /** routingIndex false: least-outstanding routing scans every replica (the reference tests compare the index to). provisionEntityBase: autoscaler.ts. */
    options: { routingIndex?: boolean; provisionEntityBase?: number; failureEntityBase?: number } = {},
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
    this.kvTotalBlocks = new Float64Array(R);
    this.caching = new Uint8Array(R);
    this.sharedTokens = new Float64Array(R);
    this.sched = new Uint8Array(R);
    this.firstReplicaOf = new Int32Array(deps.length);
    this.chunkReq = new Int32Array(R).fill(NONE);
    this.chunkDone = new Float64Array(R);
    this.prefillList = new Int32Array(R).fill(NONE);
    this.mixedDecoders = new Int32Array(R);
    const shared = sharedDeployments(scenario);
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
        this.kvTotalBlocks[r] = d.perf.kvCapacityBlocks;
        this.sched[r] = schedulerOf(d.scheduler, i < d.prefillReplicas);
        // A decode-pool replica receives its requests' KV whole from the prefill pool.
        this.caching[r] = d.prefixCaching && shared[d.index] !== 0 && this.sched[r] !== SCHED_DECODE_POOL ? 1 : 0;
        if (i === 0) this.firstReplicaOf[d.index] = r;
      }
    }
    this.sharedPrompts = scenario.workloads.some(sharesPrompts);
    this.cache = this.caching.includes(1) ? new PrefixCache(R, ...hostTierOf(deps, this.deploymentOf)) : null;
    this.prefixChainBase = Int32Array.from(scenario.workloads, (w) => w.prefixSegmentBase);
    this.prefixTokensOf = Int32Array.from(scenario.workloads, (w) => (w.prefix === null ? 0 : w.prefix.tokens));
    this.nextSegment = scenario.workloads.reduce((n, w) => n + (w.prefix === null ? 0 : w.prefix.groups), 0);
    this.slots = new Int32Array(slotsTotal);
    this.heap = new Int32Array(slotsTotal);
    this.heapKey = new Float64Array(2 * slotsTotal);
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
    this.runCoeffView = Array.from({ length: R }, (_, i) => this.runCoeffs.subarray(i * 5, i * 5 + 5));
    this.runBlocks = new Float64Array(R);
    this.maxTokens = Float64Array.from(this.kvCapacityBlocks, (blocks, i) => blocks * this.blockTokens[i]);
    this.queueLimit = Float64Array.from(this.deploymentOf, (d) => deps[d].maxQueuePerReplica);
    this.reasoning = scenario.workloads.some((w) => w.reasoningTokens !== null);
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
    this.tierRuns = this.tierReplicas.map((tiers) => tiers.map((ids) => runsOf(this.deploymentOf, ids)));
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
    this.homePoolOf = Int32Array.from(this.poolOf);
    this.levelBits = new Int32Array(bitsTotal);
    for (let i = 0; i < R; i++) {
      const pool = this.poolOf[i];
      if (pool === NONE) continue;
      const k = i - this.poolFirst[pool];
      this.levelBits[this.poolBitsBase[pool] + (k >> 5)] |= 1 << (k & 31);
    }
    this.router = routerOf(scenario.routing.policy);
    this.prefixWeight = scenario.routing.prefix_weight;
    this.routingRandom = new RandomStream(scenario.seed, 'routing/power-of-two');
    this.failoverOnOutage = scenario.routing.failover !== 'never';
    this.failoverOnOverload = scenario.routing.failover === 'on-outage-or-overload';
    this.workloadTimeoutS = Float64Array.from(scenario.workloads.map((w) => w.timeoutS));
    // The frontend of the deployment a workload is routed to first (a failed-over request keeps it).
    this.workloadFrontendS = Float64Array.from(this.tierFirstDeployment.map((t) => (t[0] >= 0 ? deps[t[0]].perf.frontendS : 0)));
    this.batchHeld = new Int32Array(R);
    this.faults = faultsOf(scenario, this, options.failureEntityBase ?? 0);
    this.autoscaler = deps.some((d) => d.autoscale !== null) ? new Autoscaler(this, options.provisionEntityBase ?? 0) : null;
    this.quotas = quotasOf(scenario);
    this.priority = priorityOf(scenario, R);
    this.batchTier = batchTierOf(scenario, this);
  }

  arrivalCount = 0;
  /** The next unused segment id (prefix groups come first; each conversation then takes one). */
  nextSegment = 0;
  readonly workloadTimeoutS: Float64Array;
  /** Per workload: client-side time outside the engine (frontend_ms), by which the client sent the request before the engine sees it. */
  readonly workloadFrontendS: Float64Array;

  /**
   * Called with the request's workload, its id and whether it completed whenever a request ends
   * (completed, rejected, timed out or lost), at clockS[0], before its id is reused: closed-loop
   * arrivals send a user's next request from it, sessions their next turn. One function set once
   * per run, so the hot path pays a null check, not an allocation.
   */
  onRequestEnd: ((workload: number, q: number, completed: boolean) => void) | null = null;

  /**
   * A new request arrives from workload `w` (no shared prompt: no prefix, session or hash chain), at
   * clockS[0]. outputTokens counts the hidden reasoningTokens. Kept small so V8 inlines it into the
   * event loop: the shared-prompt columns keep their defaults (RequestTable) unless a workload of
   * the run can set them, and reasoningTokens stays 0 unless one reasons.
   */
  arrive(w: number, promptTokens: number, outputTokens: number, reasoningTokens: number): void {
    const q = newRequest(this, w, promptTokens, outputTokens, reasoningTokens);
    if (this.sharedPrompts) sharePrompt(this, q, NONE, 0, NONE, NONE, NONE, -1, -1);
    place(this, q, w);
  }

  /**
   * arrive for a request that may share prompt blocks. `group`: the workload's prefix group its
   * prompt starts with (its first prefix-tokens tokens), or NONE. `sessionSegment`: the
   * conversation segment its history is cached under (a turn of a session), or NONE; `session` the
   * workload's slot for the conversation, handed back through onRequestEnd. `chain`: the last node
   * of a trace row's hash chain (cache.chains), or NONE. `conversation`, `turn`: a session turn's
   * ids for requests.csv (-1 outside one).
   */
  arriveShared(w: number, promptTokens: number, outputTokens: number, group: number, sessionSegment: number, session: number, reasoningTokens: number, chain: number, conversation: number, turn: number): void {
    const q = newRequest(this, w, promptTokens, outputTokens, reasoningTokens);
    const prefixed = group !== NONE;
    sharePrompt(this, q, prefixed ? this.prefixChainBase[w] + group : NONE, prefixed ? this.prefixTokensOf[w] : 0, chain, sessionSegment, session, conversation, turn);
    place(this, q, w);
  }

  /** The replica's event, at clockS[0]: the end of an iteration or decode run. */
  onEvent(r: number): void { boundary(this, r); }

  /** Takes a deployment down: its requests fail over (or are lost) and its replicas stop. */
  outageStart(d: number, nowS: number): void { outageStart(this, d, nowS); }
  outageEnd(d: number, nowS: number): void { outageEnd(this, d, nowS); }

  // ---- observation for the timeseries ----
  /** Settles busy time up to now on every replica (for per-interval busy fractions). */
  settle(nowS: number): void {
    this.clockS[0] = nowS;
    for (let r = 0; r < this.replicas; r++) touch(this, r);
  }

  /** KV blocks in use at `nowS`, counting decode steps finished inside a collapsed run. */
  kvBlocksNow(r: number, nowS: number): number { return kvBlocksNow(this, r, nowS); }

  kvCapacity(r: number): number { return this.kvTotalBlocks[r]; }
}
