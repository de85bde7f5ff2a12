/**
 * The event loop. Entities with at most one pending event each: one arrival stream per workload
 * (arrivals are generated lazily, so the queue holds O(streams + replicas) events), one per
 * replica, the report-interval timer and two per incident (start, end). Ties at equal times run in
 * the order they were scheduled (see event-queue.ts), so results never depend on heap internals.
 */
import { EventQueue } from '../engine/event-queue.js';
import type { Scenario } from '../scenario/load.js';
import { Fleet } from '../serving/fleet.js';
import { Recorder, type RequestLog } from '../metrics/recorder.js';
import { Calendar } from '../metrics/calendar.js';
import { RandomStream } from '../workload/rng.js';
import { ClosedArrivals, makeArrivalSource, TraceArrivals, type ArrivalSource } from '../workload/arrivals.js';
import type { MooncakeReader } from '../workload/mooncake.js';
import { makeLengthSampler, type LengthSampler } from '../workload/lengths.js';
import { PrefixSampler } from '../workload/prefix.js';
import { DurationSampler, SessionArrivals } from '../workload/sessions.js';
import { kickIdle } from '../serving/batch-tier.js';
import { failureEvent, faultTotals, hasFaults, partialEnd, partialStart, scheduleFailures } from '../serving/faults.js';
import { accrue, autoscaleTick, provisioned, countStates, SERVING, DRAINING, SAMPLES_PER_DECISION } from '../serving/autoscaler.js';

/** State of one deployment over one report interval, handed to the report writer. */
export interface IntervalSnapshot {
  index: number;
  startS: number;
  endS: number;
  /** Per deployment, at the interval's end: requests waiting, requests in batches, KV blocks used / capacity. */
  queueDepth: Float64Array;
  batchSize: Float64Array;
  kvUsedFraction: Float64Array;
  /** Per deployment, over the interval: busy replica-seconds / (replicas × interval). */
  busyFraction: Float64Array;
  arrivals: Float64Array;
  /** Per atom (workload × deployment): completed requests and their tokens. */
  completions: Float64Array;
  inputTokens: Float64Array;
  outputTokens: Float64Array;
  /** Per atom: of inputTokens, those served from the prefix cache. */
  cachedInputTokens: Float64Array;
  /** Per deployment, autoscaled ones only (docs/autoscaling.md): replicas serving and provisioning at the interval's end, and billed replica-seconds over it. */
  replicasServing: Float64Array;
  replicasProvisioning: Float64Array;
  replicaS: Float64Array;
}

/**
 * Arrival streams up to this many are scanned for the next arrival; more are kept in a queue. A
 * judgement, not a measured crossover: with 3 streams the queue measured no faster than the scan
 * (1.006, 11 pairs) and with 60 it was 7% faster.
 */
const STREAMS_SCANNED = 8;

/** What the event loop does after simulate's otherEvent. */
const TICKED = 0;
const CHECK_STREAMS = 1;
const RUN_OVER = 2;

export interface SimulationOptions {
  /** Called once per report interval, in order; the snapshot's arrays are reused afterwards. */
  onInterval?: (snapshot: IntervalSnapshot) => void;
  /** Called every ~2^16 events with the simulated time, for progress display. */
  onProgress?: (simTimeS: number, horizonS: number) => void;
  /** Receives every request as it ends (requests.csv). */
  requestLog?: RequestLog | null;
  /** false: least-outstanding routing scans every replica instead of using its index (a test reference). */
  routingIndex?: boolean;
  /** Arrival streams up to this many are scanned for the next arrival, more queued (default 8; tests set it). */
  streamsScanned?: number;
  /** Handed the fleet once it is built, before the first event (tests check its invariants as the run goes). */
  inspect?: (fleet: Fleet) => void;
}

export interface SimulationResult {
  scenario: Scenario;
  recorder: Recorder;
  calendar: Calendar;
  /** Busy replica-seconds per deployment over the whole run. */
  busyS: Float64Array;
  /** End of the billed run: the horizon, or the last completion when requests were in flight at the horizon. */
  endS: number;
  /** Time the last request finished (≥ horizon when requests were still in flight at the horizon). */
  lastEventS: number;
  events: number;
  arrivals: number;
  wallS: number;
  /**
   * With autoscaling: [period * D + d] billed replica-seconds of each autoscaled deployment (the
   * ledger's replica-time; a fixed deployment's is replicas × run time), and per deployment the
   * most replicas billed at once. null when no deployment autoscales.
   */
  periodReplicaS: Float64Array | null;
  peakReplicas: Int32Array | null;
  /** With autoscaling: per deployment, replicas provisioned and released over the run. */
  scaleUps: Int32Array | null;
  scaleDowns: Int32Array | null;
  /** With partial incidents or failures (faults.ts): per deployment, replica-seconds single replicas were down, and random failures. */
  replicaDownS: Float64Array | null;
  replicaFailures: Int32Array | null;
}

export function simulate(scenario: Scenario, options: SimulationOptions = {}): SimulationResult {
  const wallStart = performance.now();
  const W = scenario.workloads.length;
  const D = scenario.deployments.length;
  const calendar = new Calendar(scenario.startMs, scenario.horizonS);
  // The simulated time of the event in hand, shared by the fleet and the recorder (Fleet.clockS).
  const clockS = new Float64Array(1);
  const recorder = new Recorder(W, D, calendar, scenario.warmupS, scenario.workloads.map((w) => w.slo), clockS);
  recorder.requestLog = options.requestLog ?? null;
  const replicaCount = scenario.deployments.reduce((n, d) => n + d.replicas, 0);
  const replicaBase = W;
  const tickEntity = W + replicaCount;
  const incidentBase = tickEntity + 1;
  // Autoscaling: a decision event per autoscaled deployment, then a provisioning-done event per replica.
  const autoscaleBase = incidentBase + 2 * scenario.incidents.length;
  const autoscaled = scenario.deployments.filter((d) => d.autoscale !== null).map((d) => d.index);
  const provisionBase = autoscaleBase + autoscaled.length;
  // Random failures (faults.ts): a failure-or-repair event per replica.
  const failureBase = provisionBase + (autoscaled.length > 0 ? replicaCount : 0);
  const queue = new EventQueue(failureBase + (hasFaults(scenario) ? replicaCount : 0));
  const fleet = new Fleet(scenario, queue, replicaBase, recorder, scenario.engine === 'step', clockS, {
    routingIndex: options.routingIndex,
    provisionEntityBase: provisionBase,
    failureEntityBase: failureBase,
  });
  const autoscaleTicks = new Float64Array(autoscaled.length);
  recorder.setFrontendS(fleet.workloadFrontendS);
  recorder.setFeatures(fleet.cache !== null, fleet.reasoning);
  const horizonS = scenario.horizonS;
  options.inspect?.(fleet);

  const sources: ArrivalSource[] = [];
  const promptSamplers: (LengthSampler | null)[] = [];
  const outputSamplers: (LengthSampler | null)[] = [];
  const prefixSamplers: (PrefixSampler | null)[] = [];
  const reasoningSamplers: (LengthSampler | null)[] = [];
  const reasoningBudget = Float64Array.from(scenario.workloads, (w) => w.reasoningBudget);
  // Session workloads: the conversations, whose starts come from the workload's arrival process.
  const sessions: (SessionArrivals | null)[] = [];
  // Trace rows with block hashes (Mooncake): their readers and hash block sizes, where a replica caches.
  const hashed: (MooncakeReader | null)[] = [];
  const hashBlockTokens = new Int32Array(W);
  for (const w of scenario.workloads) {
    const seed = scenario.seed;
    // A stream of its own, so adding a prefix leaves every other draw of the run as it was.
    prefixSamplers.push(w.prefix && new PrefixSampler(w.prefix, new RandomStream(seed, `prefix/${w.name}`)));
    const starts = makeArrivalSource(w.arrival, new RandomStream(seed, `arrivals/${w.name}`), horizonS);
    const session =
      w.session &&
      new SessionArrivals(
        starts,
        makeLengthSampler(w.session.turns, new RandomStream(seed, `session-turns/${w.name}`)),
        new DurationSampler(w.session.thinkTime, new RandomStream(seed, `think-time/${w.name}`)),
        horizonS,
        // Streams of their own: a session without tools draws exactly as before.
        w.session.toolTime && new DurationSampler(w.session.toolTime, new RandomStream(seed, `tool-time/${w.name}`)),
        w.session.toolOutputTokens && makeLengthSampler(w.session.toolOutputTokens, new RandomStream(seed, `tool-output/${w.name}`)),
      );
    sessions.push(session);
    sources.push(session ?? starts);
    hashed.push(fleet.cache !== null && starts instanceof TraceArrivals ? starts.hashes : null);
    if (w.arrival.process === 'trace') hashBlockTokens[w.index] = w.arrival.hashBlockTokens ?? 0;
    promptSamplers.push(w.promptTokens && makeLengthSampler(w.promptTokens, new RandomStream(seed, `prompt/${w.name}`)));
    outputSamplers.push(w.outputTokens && makeLengthSampler(w.outputTokens, new RandomStream(seed, `output/${w.name}`)));
    reasoningSamplers.push(w.reasoningTokens && makeLengthSampler(w.reasoningTokens, new RandomStream(seed, `reasoning/${w.name}`)));
  }
  // Arrival streams' pending events live beside the queue, not in it: an arrival then costs a
  // comparison with the queue's top instead of a replay through every replica's leaf. Each takes
  // its sequence number from the queue, so ties order exactly as if it were in it. The next stream
  // is found by a scan when there are few, and from a queue of their own when there are many
  // (multi-tenant scenarios; README "Performance").
  const arrivalT = new Float64Array(W).fill(Infinity);
  const arrivalSeq = new Float64Array(W);
  const arrivalQueue = W > (options.streamsScanned ?? STREAMS_SCANNED) ? new EventQueue(W) : null;
  /** Puts stream w's pending arrival (or its end) into arrivalQueue. */
  const requeue = (w: number) => {
    if (arrivalT[w] < Infinity) arrivalQueue!.scheduleWithSeq(w, arrivalT[w], arrivalSeq[w]);
    else arrivalQueue!.cancel(w);
  };
  for (let w = 0; w < W; w++) {
    const session = sessions[w];
    const t = session === null ? sources[w].next() : session.peek();
    if (t < horizonS) {
      arrivalT[w] = t;
      arrivalSeq[w] = queue.takeSeq();
    }
    if (arrivalQueue !== null) requeue(w);
  }
  /** The stream whose arrival is next by (time, seq), or -1 when none is pending. */
  const nextStream = (): number => {
    if (arrivalQueue !== null) return arrivalQueue.peekEntity();
    let best = -1;
    let bestT = Infinity;
    let bestSeq = Infinity;
    for (let w = 0; w < W; w++) {
      const t = arrivalT[w];
      if (t < bestT || (t === bestT && t !== Infinity && arrivalSeq[w] < bestSeq)) {
        best = w;
        bestT = t;
        bestSeq = arrivalSeq[w];
      }
    }
    return best;
  };
  let stream = nextStream();
  // Closed-loop workloads: a request's end readies its user. When the stream had no pending
  // arrival (every user busy), the ready user's send becomes it; the loop re-reads the next stream
  // after the event (streamsChanged), since the end happened inside the fleet's handling.
  let streamsChanged = false;
  const closed: (ClosedArrivals | null)[] = sources.map((s) => (s instanceof ClosedArrivals ? s : null));
  // A run whose every workload sends a fixed number of requests (closed or poisson with
  // `requests`) is a benchmark: it ends when its last request does, not at the horizon (so
  // throughput is over the time the load ran).
  const benchmarkRun =
    W > 0 &&
    scenario.workloads.every(
      (w) => (w.arrival.process === 'closed' || w.arrival.process === 'poisson') && (w.arrival.requests ?? Infinity) < Infinity,
    );
  const rq = fleet.requests;
  if (closed.some((c) => c !== null) || sessions.some((s) => s !== null)) {
    fleet.onRequestEnd = (w: number, q: number, completed: boolean) => {
      const session = sessions[w];
      if (session !== null) {
        // The conversation's next turn, due after the user's think time; it goes before the
        // stream's pending arrival (the next conversation's start) when it is due sooner. As for a
        // closed loop, the engine sees the turn frontend_ms after the user sent it.
        // The history the next turn resends: its prompt and visible answer (reasoning is dropped, as OpenAI's and Anthropic's APIs do).
        const historyTokens = rq.promptTokens[q] + rq.outputTokens[q] - rq.reasoningTokens[q];
        const t = session.ended(rq.session[q], completed, historyTokens, clockS[0] + fleet.workloadFrontendS[w]);
        if (t < arrivalT[w] && t < horizonS) {
          arrivalT[w] = t;
          arrivalSeq[w] = queue.takeSeq();
          if (arrivalQueue !== null) requeue(w);
          streamsChanged = true;
        }
        return;
      }
      const source = closed[w];
      if (source === null) return;
      // The user sees the end at clockS[0] and sends again after its think time; the engine sees
      // that request frontend_ms later (its recorded arrival is the client's send: Fleet.arrive).
      source.userDone(clockS[0] + fleet.workloadFrontendS[w]);
      if (arrivalT[w] === Infinity) {
        const t = source.next();
        if (t < Infinity) {
          arrivalT[w] = t;
          arrivalSeq[w] = queue.takeSeq();
          if (arrivalQueue !== null) requeue(w);
          streamsChanged = true;
        }
      }
    };
  }
  scenario.incidents.forEach((inc, i) => {
    queue.schedule(incidentBase + 2 * i, inc.atS);
    queue.schedule(incidentBase + 2 * i + 1, inc.atS + inc.durationS);
  });
  const intervalS = scenario.reportIntervalS;
  queue.schedule(tickEntity, intervalS);
  /** Time of deployment autoscaled[k]'s n-th event (1-based): decisions fall exactly on multiples of its interval. */
  const autoscaleAtS = (k: number, n: number) => {
    const everyS = scenario.deployments[autoscaled[k]].autoscale!.intervalS;
    const decisions = Math.floor(n / SAMPLES_PER_DECISION);
    return decisions * everyS + ((n - decisions * SAMPLES_PER_DECISION) * everyS) / SAMPLES_PER_DECISION;
  };
  autoscaled.forEach((_, k) => {
    if (autoscaleAtS(k, 1) < horizonS) queue.schedule(autoscaleBase + k, autoscaleAtS(k, 1));
  });
  scheduleFailures(fleet);

  const snapshot: IntervalSnapshot = {
    index: 0,
    startS: 0,
    endS: 0,
    queueDepth: new Float64Array(D),
    batchSize: new Float64Array(D),
    kvUsedFraction: new Float64Array(D),
    busyFraction: new Float64Array(D),
    arrivals: recorder.interval.arrivals,
    completions: recorder.interval.completions,
    inputTokens: recorder.interval.inputTokens,
    outputTokens: recorder.interval.outputTokens,
    cachedInputTokens: recorder.interval.cachedInputTokens,
    replicasServing: new Float64Array(D),
    replicasProvisioning: new Float64Array(D),
    replicaS: new Float64Array(D),
  };
  const stateCounts = new Int32Array(2);
  const busyAtLastTick = new Float64Array(D);
  const busyNow = new Float64Array(D);
  const kvCapacity = new Float64Array(D);
  for (let r = 0; r < fleet.replicas; r++) kvCapacity[fleet.deploymentOf[r]] += fleet.kvCapacity(r);

  const emitInterval = (index: number, startS: number, endS: number) => {
    fleet.settle(endS);
    snapshot.queueDepth.fill(0);
    snapshot.batchSize.fill(0);
    snapshot.kvUsedFraction.fill(0);
    busyNow.fill(0);
    for (let r = 0; r < fleet.replicas; r++) {
      const d = fleet.deploymentOf[r];
      snapshot.queueDepth[d] += fleet.queueLen[r];
      snapshot.batchSize[d] += fleet.batch[r];
      snapshot.kvUsedFraction[d] += fleet.kvBlocksNow(r, endS);
      busyNow[d] += fleet.busyS[r];
    }
    for (let d = 0; d < D; d++) {
      const replicas = scenario.deployments[d].replicas;
      snapshot.kvUsedFraction[d] = kvCapacity[d] > 0 ? snapshot.kvUsedFraction[d] / kvCapacity[d] : 0;
      snapshot.busyFraction[d] = replicas > 0 ? (busyNow[d] - busyAtLastTick[d]) / (replicas * (endS - startS)) : 0;
      busyAtLastTick[d] = busyNow[d];
    }
    const a = fleet.autoscaler;
    for (const d of autoscaled) {
      // Busy and KV over the replicas billed in the interval, not the deployment's max slots.
      accrue(fleet, d, endS);
      const replicaS = a!.intervalReplicaS[d];
      a!.intervalReplicaS[d] = 0;
      snapshot.replicaS[d] = replicaS;
      snapshot.busyFraction[d] = replicaS > 0 ? (snapshot.busyFraction[d] * scenario.deployments[d].replicas * (endS - startS)) / replicaS : 0;
      let kvUsed = 0;
      let kvHeld = 0;
      const first = fleet.firstReplicaOf[d];
      for (let r = first; r < first + scenario.deployments[d].replicas; r++) {
        const st = a!.state[r];
        if (st !== SERVING && st !== DRAINING) continue;
        kvUsed += fleet.kvBlocksNow(r, endS);
        kvHeld += fleet.kvCapacity(r);
      }
      snapshot.kvUsedFraction[d] = kvHeld > 0 ? kvUsed / kvHeld : 0;
      countStates(fleet, d, stateCounts);
      snapshot.replicasServing[d] = stateCounts[0];
      snapshot.replicasProvisioning[d] = stateCounts[1];
    }
    snapshot.index = index;
    snapshot.startS = startS;
    snapshot.endS = endS;
    options.onInterval?.(snapshot);
    recorder.interval.reset();
  };

  let events = 0;
  let arrivals = 0;
  // Time of the last arrival or replica event, in a typed array: as a local, V8 kept it boxed
  // across the loop, a new heap object per event.
  const lastEventS = new Float64Array(1);
  let tickIndex = 0;
  let endS = horizonS;
  const onProgress = options.onProgress;
  /**
   * Every event but an arrival or a replica's: the report interval's tick, an incident's start or
   * end, an autoscaling decision, a provisioned replica, a failure or repair. One function behind
   * one call site in the loop, not branches of the loop: V8 compiles the loop (an on-stack
   * replacement of simulate, with the fleet's entry points inlined) once its events have run, and
   * compiled code that reaches a branch that never ran throws itself away and starts again, which
   * an incident, the first provisioned replica or a failure each did, a few times per run, at tens
   * of milliseconds each (docs/performance.md). Returns what the loop does next: RUN_OVER (the
   * tick ended the run), CHECK_STREAMS (the event may have readied a closed-loop user or a
   * session's turn) or TICKED (neither).
   */
  const otherEvent = (e: number, stream: number): number => {
    if (e === tickEntity) {
      const nowS = clockS[0];
      if (fleet.batchTier !== null) kickIdle(fleet);
      // Past the horizon no arrivals are pending, so once nothing is in flight the run is over: it
      // ended at the horizon or at the drain's last completion, whichever is later, and the last
      // interval is cut there. The report interval never changes what is billed.
      const idle = fleet.requests.inFlight === 0;
      const sent = benchmarkRun && idle && stream < 0;
      const over = (nowS >= horizonS && idle) || sent;
      const intervalEndS = sent ? Math.min(nowS, lastEventS[0]) : over ? Math.max(horizonS, lastEventS[0]) : nowS;
      emitInterval(tickIndex, tickIndex * intervalS, intervalEndS);
      tickIndex++;
      if (over) {
        endS = intervalEndS;
        return RUN_OVER;
      }
      queue.schedule(tickEntity, (tickIndex + 1) * intervalS);
      return TICKED;
    }
    if (e < autoscaleBase) {
      const i = (e - incidentBase) >> 1;
      const inc = scenario.incidents[i];
      const starts = ((e - incidentBase) & 1) === 0;
      if (inc.partial !== null) {
        if (starts) partialStart(fleet, i, inc);
        else partialEnd(fleet, i);
      } else if (starts) fleet.outageStart(inc.deployment, clockS[0]);
      else fleet.outageEnd(inc.deployment, clockS[0]);
    } else if (e < provisionBase) {
      const k = e - autoscaleBase;
      const d = autoscaled[k];
      autoscaleTick(fleet, d);
      // Decisions stop at the horizon: past it nothing arrives, and the fleet only drains.
      const nextS = autoscaleAtS(k, ++autoscaleTicks[k] + 1);
      if (nextS < horizonS) queue.schedule(e, nextS);
    } else if (e < failureBase) provisioned(fleet, e - provisionBase);
    else failureEvent(fleet, e - failureBase);
    return CHECK_STREAMS;
  };

  // otherEvent and the loop's rare branches read the event's time from the clock rather than from
  // a local: V8 boxes a double into a new heap object wherever a use needs one (a call it does not
  // inline), and a local those branches shared would be boxed on every event.
  for (;;) {
    // Progress after every 2^16 events, checked here at one call site for arrivals and other
    // events alike (each call site compiled before it first runs costs a deoptimisation).
    if (onProgress !== undefined && (events & 0xffff) === 0 && events !== 0) onProgress(clockS[0], horizonS);
    const topS = queue.peekTime();
    if (stream >= 0) {
      const arrivalS = arrivalT[stream];
      if (arrivalS < topS || (arrivalS === topS && arrivalSeq[stream] < queue.peekSeq())) {
        events++;
        const e = stream;
        clockS[0] = arrivalS;
        const promptSampler = promptSamplers[e];
        const outputSampler = outputSamplers[e];
        const source = sources[e];
        const session = sessions[e];
        if (session !== null) session.take();
        const prompt = promptSampler ? promptSampler.sample() : Math.max(1, source.promptTokens);
        const output = outputSampler ? outputSampler.sample() : Math.max(1, source.outputTokens);
        // Hidden reasoning, generated before the answer and billed with it (a stream of its own).
        const reasoningSampler = reasoningSamplers[e];
        const reasoning = reasoningSampler === null ? 0 : Math.min(reasoningSampler.sample(), reasoningBudget[e]);
        const prefixSampler = prefixSamplers[e];
        // A conversation draws its prefix group once, at its first turn.
        const group = prefixSampler === null || (session !== null && !session.isNew) ? -1 : prefixSampler.sample();
        arrivals++;
        // The stream's pending arrival is consumed before the fleet sees the request: a closed-loop
        // request turned away at once readies its user, who may become the stream's next arrival.
        arrivalT[e] = Infinity;
        const hashes = hashed[e];
        if (hashes !== null) fleet.arriveShared(e, prompt, output + reasoning, -1, -1, -1, reasoning, fleet.cache!.chains.internChain(hashes.hashIds, hashes.hashCount, hashBlockTokens[e]), -1, -1);
        else if (session === null) {
          if (group < 0) fleet.arrive(e, prompt, output + reasoning, reasoning);
          else fleet.arriveShared(e, prompt + prefixSampler!.tokens, output + reasoning, group, -1, -1, reasoning, -1, -1, -1);
        } else {
          // Turn k's prompt: the history (turn k-1's prompt and output; the prefix at the first turn) and the new user tokens.
          const s = session.slot;
          if (session.isNew) {
            session.group[s] = group;
            session.segment[s] = fleet.nextSegment++;
            session.contextTokens[s] = group < 0 ? 0 : prefixSampler!.tokens;
          }
          fleet.arriveShared(e, session.contextTokens[s] + prompt, output + reasoning, session.group[s], session.segment[s], s, reasoning, -1, session.conversation[s], session.turn[s] + 1);
        }
        streamsChanged = false;
        if (arrivalT[e] === Infinity) {
          const next = session === null ? source.next() : session.peek();
          if (next < horizonS) {
            arrivalT[e] = next;
            arrivalSeq[e] = queue.takeSeq();
          }
        }
        if (arrivalQueue !== null) requeue(e);
        stream = nextStream();
        lastEventS[0] = arrivalS;
        continue;
      }
    }
    if (queue.size === 0) break;
    clockS[0] = topS;
    const e = queue.peekEntity();
    events++;
    queue.pop();
    if (e < tickEntity) {
      fleet.onEvent(e - replicaBase);
      lastEventS[0] = topS;
      if (streamsChanged) {
        streamsChanged = false;
        stream = nextStream();
      }
    } else {
      const next = otherEvent(e, stream);
      if (next === RUN_OVER) break;
      if (next === CHECK_STREAMS && streamsChanged) {
        streamsChanged = false;
        stream = nextStream();
      }
    }
  }

  const busyS = new Float64Array(D);
  for (let r = 0; r < fleet.replicas; r++) busyS[fleet.deploymentOf[r]] += fleet.busyS[r];
  const scaler = fleet.autoscaler;
  if (scaler !== null) for (const d of autoscaled) accrue(fleet, d, endS);
  const faults = faultTotals(fleet, endS);
  return {
    scenario,
    recorder,
    calendar,
    busyS,
    endS,
    lastEventS: lastEventS[0],
    events,
    arrivals,
    wallS: (performance.now() - wallStart) / 1000,
    periodReplicaS: scaler === null ? null : scaler.periodReplicaS,
    peakReplicas: scaler === null ? null : scaler.peak,
    scaleUps: scaler === null ? null : scaler.scaleUps,
    scaleDowns: scaler === null ? null : scaler.scaleDowns,
    replicaDownS: faults === null ? null : faults.downS,
    replicaFailures: faults === null ? null : faults.failures,
  };
}
