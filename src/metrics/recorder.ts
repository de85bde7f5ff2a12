/**
 * What the engine observes, kept at the finest grain the reports need: an *atom* is one
 * (workload, deployment) pair. Every scope in the reports (deployment, model, silicon, tenant,
 * workload, total) is a sum of atoms, so counts and money add up across scopes by construction.
 * Memory is flat in the number of requests: counters and log histograms only.
 */
import { LogHistogram } from './histogram.js';
import type { Calendar } from './calendar.js';
import type { RequestTable } from '../engine/requests.js';
import type { Slo } from '../scenario/load.js';

export const FATE_COMPLETED = 0;
export const FATE_FAILED_OVER = 1;
export const FATE_REJECTED = 2;
export const FATE_TIMED_OUT = 3;
export const FATE_LOST = 4;
/** Over its workload's or tenant's quota at arrival (serving/quota.ts): never queued, never billed. */
export const FATE_THROTTLED = 5;
/** A batch-tier request not started within its window (serving/batch-tier.ts): never billed. */
export const FATE_EXPIRED = 6;
export const FATE_COUNT = 7;
export const FATE_NAMES = ['completed', 'failed_over', 'rejected', 'timed_out', 'lost', 'throttled', 'expired'] as const;

/** Per-interval counters for the timeseries, reset after each report interval. */
export class IntervalCounters {
  readonly arrivals: Float64Array;
  /** Per atom, like the tokens, so revenue (per-request fees included) can be priced by tenant. */
  readonly completions: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  /** Of inputTokens, those found in the prefix cache (billed at the cached-input price). */
  readonly cachedInputTokens: Float64Array;
  constructor(deployments: number, atoms: number) {
    this.arrivals = new Float64Array(deployments);
    this.completions = new Float64Array(atoms);
    this.inputTokens = new Float64Array(atoms);
    this.outputTokens = new Float64Array(atoms);
    this.cachedInputTokens = new Float64Array(atoms);
  }
  reset(): void {
    this.arrivals.fill(0);
    this.completions.fill(0);
    this.inputTokens.fill(0);
    this.outputTokens.fill(0);
    this.cachedInputTokens.fill(0);
  }
}

/** Receives each request as it ends (opt-in requests.csv); reads the request's fields from the table. */
export interface RequestLog {
  record(requests: RequestTable, q: number, deployment: number, fate: number, endS: number): void;
}

/** Completed requests' latencies held back before they are bucketed (see Recorder.completed). */
const LATENCY_BATCH = 1024;

export class Recorder {
  requestLog: RequestLog | null = null;
  readonly atoms: number;
  /** [atom * FATE_COUNT + fate] */
  readonly fates: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  /** Of inputTokens, prompt tokens the prefill that gave the first token found in the prefix cache. */
  readonly cachedInputTokens: Float64Array;
  /** Of cachedInputTokens, those found in the host tier (deployment `kv_offload`) and copied back to the GPU. */
  readonly offloadInputTokens: Float64Array;
  /** Of outputTokens (billed), hidden reasoning tokens (workload `reasoning_tokens`). */
  readonly reasoningTokens: Float64Array;
  readonly sloMet: Float64Array;
  /** Requests counted in latency metrics (arrived after warmup), by atom. */
  readonly measured: Float64Array;
  readonly preemptions: Float64Array;
  /**
   * Per atom, over measured completed requests with more than one visible output token: seconds
   * from the first visible token to the last, and the tokens after the first. Their ratio is the token-weighted
   * inter-token latency (vLLM's mean ITL), which differs from mean TPOT (a mean over requests)
   * whenever output lengths vary.
   */
  readonly decodeS: Float64Array;
  readonly decodeTokens: Float64Array;
  private readonly ttftByAtom: LogHistogram[];
  private readonly tpotByAtom: LogHistogram[];
  private readonly e2eByAtom: LogHistogram[];
  /**
   * Latencies of completed requests not yet in the histograms, in completion order (a TPOT of NaN:
   * one output token, no TPOT). Passing each latency to a histogram's method costs a heap object
   * whenever V8 does not inline that call, as often happened in the completion path; stored here
   * and bucketed a batch at a time, every histogram still receives the same values in the same order.
   */
  private readonly pendingAtom = new Int32Array(LATENCY_BATCH);
  private readonly pendingTtftS = new Float64Array(LATENCY_BATCH);
  private readonly pendingTpotS = new Float64Array(LATENCY_BATCH);
  private readonly pendingE2eS = new Float64Array(LATENCY_BATCH);
  private pending = 0;
  /** [period * atoms + atom]: tokens billed and busy replica-seconds attributed, per calendar period. */
  readonly periodInputTokens: Float64Array;
  readonly periodOutputTokens: Float64Array;
  readonly periodCachedInputTokens: Float64Array;
  readonly periodReasoningTokens: Float64Array;
  readonly periodCompleted: Float64Array;
  readonly periodBusyShareS: Float64Array;
  /** [period * atoms + atom]: requests throttled (serving/quota.ts counts them here as well as in fates). */
  readonly periodThrottled: Float64Array;
  /** [period * atoms + atom]: batch-tier requests expired (serving/batch-tier.ts counts them here as well). */
  readonly periodExpired: Float64Array;
  readonly interval: IntervalCounters;
  /**
   * Per deployment, TTFT of the measured requests completed since the autoscaler last read it
   * (autoscale metric ttft_p90), or null when no deployment asks.
   */
  ttftWindow: LogHistogram[] | null = null;
  /** Per workload, its SLO thresholds (Infinity where it sets none). */
  private readonly sloTtftS: Float64Array;
  private readonly sloTpotS: Float64Array;
  private readonly sloE2eS: Float64Array;

  /**
   * @param clockS the simulated time, shared with the fleet (Fleet.clockS): the per-request methods
   * read the time there rather than take it as an argument, which V8 would box into a new heap
   * object on every call it does not inline.
   */
  constructor(
    readonly workloads: number,
    readonly deployments: number,
    readonly calendar: Calendar,
    readonly warmupS: number,
    slos: readonly Slo[],
    readonly clockS: Float64Array,
  ) {
    this.measureFromS = new Float64Array(workloads).fill(warmupS);
    this.sloTtftS = Float64Array.from(slos, (s) => s.ttftS);
    this.sloTpotS = Float64Array.from(slos, (s) => s.tpotS);
    this.sloE2eS = Float64Array.from(slos, (s) => s.e2eS);
    const atoms = workloads * deployments;
    this.atoms = atoms;
    this.fates = new Float64Array(atoms * FATE_COUNT);
    this.inputTokens = new Float64Array(atoms);
    this.outputTokens = new Float64Array(atoms);
    this.cachedInputTokens = new Float64Array(atoms);
    this.offloadInputTokens = new Float64Array(atoms);
    this.reasoningTokens = new Float64Array(atoms);
    this.sloMet = new Float64Array(atoms);
    this.measured = new Float64Array(atoms);
    this.decodeS = new Float64Array(atoms);
    this.decodeTokens = new Float64Array(atoms);
    this.preemptions = new Float64Array(deployments);
    this.ttftByAtom = Array.from({ length: atoms }, () => new LogHistogram());
    this.tpotByAtom = Array.from({ length: atoms }, () => new LogHistogram());
    this.e2eByAtom = Array.from({ length: atoms }, () => new LogHistogram());
    const cells = calendar.periods.length * atoms;
    this.periodInputTokens = new Float64Array(cells);
    this.periodOutputTokens = new Float64Array(cells);
    this.periodCachedInputTokens = new Float64Array(cells);
    this.periodReasoningTokens = new Float64Array(cells);
    this.periodCompleted = new Float64Array(cells);
    this.periodBusyShareS = new Float64Array(cells);
    this.periodThrottled = new Float64Array(cells);
    this.periodExpired = new Float64Array(cells);
    this.interval = new IntervalCounters(deployments, atoms);
  }

  /** Per atom, time to first token of measured requests, seconds. */
  get ttft(): readonly LogHistogram[] {
    this.flushLatencies();
    return this.ttftByAtom;
  }

  /** Per atom, time per output token after the first (requests with more than one output token). */
  get tpot(): readonly LogHistogram[] {
    this.flushLatencies();
    return this.tpotByAtom;
  }

  /** Per atom, arrival to last token. */
  get e2e(): readonly LogHistogram[] {
    this.flushLatencies();
    return this.e2eByAtom;
  }

  /** The latency histograms of these atoms merged into new ones: one summary row, or one sweep scope. */
  latencyOf(atoms: readonly number[]): { ttft: LogHistogram; tpot: LogHistogram; e2e: LogHistogram } {
    this.flushLatencies();
    const ttft = new LogHistogram(), tpot = new LogHistogram(), e2e = new LogHistogram();
    for (const a of atoms) {
      ttft.merge(this.ttftByAtom[a]);
      tpot.merge(this.tpotByAtom[a]);
      e2e.merge(this.e2eByAtom[a]);
    }
    return { ttft, tpot, e2e };
  }

  atom(workload: number, deployment: number): number {
    return workload * this.deployments + deployment;
  }

  /**
   * Per workload, the client-side arrival time from which requests are measured: warmup less the
   * workload's frontend_ms, since a request's recorded arrival is when the client sent it, that long
   * before the engine saw it (src/serving/fleet.ts arrive). A request the engine received at or after
   * warmup is measured: without this, with warmup 0 every request sent at t = 0 (a trace's first
   * row, a closed loop's first wave) fell before the start and out of every latency figure.
   */
  readonly measureFromS: Float64Array;

  /** Whether a replica keeps a prefix cache (else no request has cached tokens) and a workload reasons (else none has reasoning tokens). */
  private caching = true;
  private reasoning = true;

  /** Tells the recorder which request columns can be non-zero (Fleet.cache, Fleet.reasoning): completed reads only those. */
  setFeatures(caching: boolean, reasoning: boolean): void {
    this.caching = caching;
    this.reasoning = reasoning;
  }

  /** Sets the frontend time of each workload's requests (Fleet.workloadFrontendS). */
  setFrontendS(frontendS: Float64Array): void {
    for (let w = 0; w < this.workloads; w++) this.measureFromS[w] = this.warmupS - frontendS[w];
  }

  /** A request ended without completing. Requests arriving in warmup are not measured. */
  ended(workload: number, deployment: number, fate: number, arrivalS: number): void {
    const a = workload * this.deployments + deployment;
    this.fates[a * FATE_COUNT + fate]++;
    if (arrivalS >= this.measureFromS[workload]) this.measured[a]++;
  }

  /** The cell of the clock's period for this workload and deployment, in the period arrays. */
  periodCell(workload: number, deployment: number): number {
    return this.calendar.periodAt(this.clockS[0]) * this.atoms + workload * this.deployments + deployment;
  }

  /**
   * Request q completed on `deployment` at the clock's time; its tokens are billed in that period,
   * its reasoning tokens as output. Its latencies are the user's: TTFT to the first *visible*
   * token (the thinking is waited for) and TPOT over the visible tokens after it (docs/reports.md).
   */
  completed(requests: RequestTable, q: number, deployment: number): void {
    const workload = requests.workload[q];
    const promptTokens = requests.promptTokens[q];
    const outputTokens = requests.outputTokens[q];
    const a = workload * this.deployments + deployment;
    this.fates[a * FATE_COUNT + (requests.failedOver[q] === 1 ? FATE_FAILED_OVER : FATE_COMPLETED)]++;
    this.inputTokens[a] += promptTokens;
    this.outputTokens[a] += outputTokens;
    const cell = this.calendar.periodAt(this.clockS[0]) * this.atoms + a;
    this.periodInputTokens[cell] += promptTokens;
    this.periodOutputTokens[cell] += outputTokens;
    this.periodCompleted[cell]++;
    const iv = this.interval;
    iv.completions[a]++;
    iv.inputTokens[a] += promptTokens;
    iv.outputTokens[a] += outputTokens;
    // Without a prefix cache or a reasoning workload these columns are 0 for every request: the
    // sums skip them rather than read two more request columns per completion.
    if (this.caching) {
      const cachedTokens = requests.cachedTokens[q];
      this.cachedInputTokens[a] += cachedTokens;
      this.offloadInputTokens[a] += requests.offloadTokens[q];
      this.periodCachedInputTokens[cell] += cachedTokens;
      iv.cachedInputTokens[a] += cachedTokens;
    }
    const reasoningTokens = this.reasoning ? requests.reasoningTokens[q] : 0;
    if (reasoningTokens !== 0) {
      this.reasoningTokens[a] += reasoningTokens;
      this.periodReasoningTokens[cell] += reasoningTokens;
    }
    const arrivalS = requests.arrivalS[q];
    if (arrivalS < this.measureFromS[workload]) return;
    this.measured[a]++;
    const nowS = this.clockS[0];
    const firstTokenS = requests.visibleS[q];
    const visibleTokens = outputTokens - reasoningTokens;
    const ttftS = firstTokenS - arrivalS;
    const e2eS = nowS - arrivalS;
    const tpotS = visibleTokens > 1 ? (nowS - firstTokenS) / (visibleTokens - 1) : 0;
    if (ttftS <= this.sloTtftS[workload] && tpotS <= this.sloTpotS[workload] && e2eS <= this.sloE2eS[workload]) {
      this.sloMet[a]++;
    }
    const i = this.pending;
    this.pendingAtom[i] = a;
    this.pendingTtftS[i] = ttftS;
    this.pendingE2eS[i] = e2eS;
    if (visibleTokens > 1) {
      this.pendingTpotS[i] = tpotS;
      this.decodeS[a] += nowS - firstTokenS;
      this.decodeTokens[a] += visibleTokens - 1;
    } else this.pendingTpotS[i] = NaN;
    this.pending = i + 1;
    if (i + 1 === LATENCY_BATCH) this.flushLatencies();
  }

  /** Buckets the latencies held back; reading ttft, tpot or e2e does this first. */
  private flushLatencies(): void {
    const n = this.pending;
    for (let i = 0; i < n; i++) {
      const a = this.pendingAtom[i];
      // recordAt, not record: no double crosses a call (histogram.ts says why).
      this.ttftByAtom[a].recordAt(this.pendingTtftS, i);
      if (this.ttftWindow !== null) this.ttftWindow[a % this.deployments].recordAt(this.pendingTtftS, i);
      this.e2eByAtom[a].recordAt(this.pendingE2eS, i);
      const tpotS = this.pendingTpotS[i];
      if (tpotS === tpotS) this.tpotByAtom[a].recordAt(this.pendingTpotS, i);
    }
    this.pending = 0;
  }

  /** Starts keeping a TTFT window per deployment (autoscale metric ttft_p90). */
  watchTtft(): void {
    if (this.ttftWindow === null) this.ttftWindow = Array.from({ length: this.deployments }, () => new LogHistogram());
  }

  /** The q-quantile of deployment d's TTFT window (NaN when empty), which it then empties. */
  windowTtftQuantile(d: number, q: number): number {
    this.flushLatencies();
    const h = this.ttftWindow![d];
    const x = h.count > 0 ? h.quantile(q) : NaN;
    h.clear();
    return x;
  }

  /** Busy replica-seconds a request used up to the clock's time, for cost attribution. */
  busyShare(workload: number, deployment: number, seconds: number): void {
    if (seconds <= 0) return;
    const a = workload * this.deployments + deployment;
    this.periodBusyShareS[this.calendar.periodAt(this.clockS[0]) * this.atoms + a] += seconds;
  }
}
