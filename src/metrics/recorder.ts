/**
 * What the engine observes, kept at the finest grain the reports need: an *atom* is one
 * (workload, deployment) pair. Every scope in the reports (deployment, model, silicon, tenant,
 * workload, total) is a sum of atoms, so counts and money add up across scopes by construction.
 * Memory is flat in the number of requests: counters and log histograms only.
 */
import { LogHistogram } from './histogram.js';
import type { Calendar } from './calendar.js';
import type { RequestTable } from '../engine/requests.js';

export const FATE_COMPLETED = 0;
export const FATE_FAILED_OVER = 1;
export const FATE_REJECTED = 2;
export const FATE_TIMED_OUT = 3;
export const FATE_LOST = 4;
export const FATE_COUNT = 5;
export const FATE_NAMES = ['completed', 'failed_over', 'rejected', 'timed_out', 'lost'] as const;

/** Per-interval counters for the timeseries, reset after each report interval. */
export class IntervalCounters {
  readonly arrivals: Float64Array;
  /** Per atom, like the tokens, so revenue (per-request fees included) can be priced by tenant. */
  readonly completions: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  constructor(deployments: number, atoms: number) {
    this.arrivals = new Float64Array(deployments);
    this.completions = new Float64Array(atoms);
    this.inputTokens = new Float64Array(atoms);
    this.outputTokens = new Float64Array(atoms);
  }
  reset(): void {
    this.arrivals.fill(0);
    this.completions.fill(0);
    this.inputTokens.fill(0);
    this.outputTokens.fill(0);
  }
}

/** Receives each request as it ends (opt-in requests.csv); reads the request's fields from the table. */
export interface RequestLog {
  record(requests: RequestTable, q: number, deployment: number, fate: number, endS: number): void;
}

export class Recorder {
  requestLog: RequestLog | null = null;
  readonly atoms: number;
  /** [atom * FATE_COUNT + fate] */
  readonly fates: Float64Array;
  readonly inputTokens: Float64Array;
  readonly outputTokens: Float64Array;
  readonly sloMet: Float64Array;
  /** Requests counted in latency metrics (arrived after warmup), by atom. */
  readonly measured: Float64Array;
  readonly preemptions: Float64Array;
  readonly ttft: LogHistogram[];
  readonly tpot: LogHistogram[];
  readonly e2e: LogHistogram[];
  /** [period * atoms + atom]: tokens billed and busy replica-seconds attributed, per calendar period. */
  readonly periodInputTokens: Float64Array;
  readonly periodOutputTokens: Float64Array;
  readonly periodCompleted: Float64Array;
  readonly periodBusyShareS: Float64Array;
  readonly interval: IntervalCounters;

  constructor(
    readonly workloads: number,
    readonly deployments: number,
    readonly calendar: Calendar,
    readonly warmupS: number,
  ) {
    const atoms = workloads * deployments;
    this.atoms = atoms;
    this.fates = new Float64Array(atoms * FATE_COUNT);
    this.inputTokens = new Float64Array(atoms);
    this.outputTokens = new Float64Array(atoms);
    this.sloMet = new Float64Array(atoms);
    this.measured = new Float64Array(atoms);
    this.preemptions = new Float64Array(deployments);
    this.ttft = Array.from({ length: atoms }, () => new LogHistogram());
    this.tpot = Array.from({ length: atoms }, () => new LogHistogram());
    this.e2e = Array.from({ length: atoms }, () => new LogHistogram());
    const cells = calendar.periods.length * atoms;
    this.periodInputTokens = new Float64Array(cells);
    this.periodOutputTokens = new Float64Array(cells);
    this.periodCompleted = new Float64Array(cells);
    this.periodBusyShareS = new Float64Array(cells);
    this.interval = new IntervalCounters(deployments, atoms);
  }

  atom(workload: number, deployment: number): number {
    return workload * this.deployments + deployment;
  }

  /** A request ended without completing. Requests arriving in warmup are not measured. */
  ended(workload: number, deployment: number, fate: number, arrivalS: number): void {
    const a = workload * this.deployments + deployment;
    this.fates[a * FATE_COUNT + fate]++;
    if (arrivalS >= this.warmupS) this.measured[a]++;
  }

  /** A request completed; its tokens are billed in the period it completed in. */
  completed(
    workload: number,
    deployment: number,
    failedOver: boolean,
    nowS: number,
    arrivalS: number,
    firstTokenS: number,
    promptTokens: number,
    outputTokens: number,
    sloTtftS: number,
    sloTpotS: number,
    sloE2eS: number,
  ): void {
    const a = workload * this.deployments + deployment;
    this.fates[a * FATE_COUNT + (failedOver ? FATE_FAILED_OVER : FATE_COMPLETED)]++;
    this.inputTokens[a] += promptTokens;
    this.outputTokens[a] += outputTokens;
    const cell = this.calendar.periodAt(nowS) * this.atoms + a;
    this.periodInputTokens[cell] += promptTokens;
    this.periodOutputTokens[cell] += outputTokens;
    this.periodCompleted[cell]++;
    const iv = this.interval;
    iv.completions[a]++;
    iv.inputTokens[a] += promptTokens;
    iv.outputTokens[a] += outputTokens;
    if (arrivalS < this.warmupS) return;
    this.measured[a]++;
    const ttftS = firstTokenS - arrivalS;
    const e2eS = nowS - arrivalS;
    this.ttft[a].record(ttftS);
    this.e2e[a].record(e2eS);
    let tpotS = 0;
    if (outputTokens > 1) {
      tpotS = (nowS - firstTokenS) / (outputTokens - 1);
      this.tpot[a].record(tpotS);
    }
    if (ttftS <= sloTtftS && tpotS <= sloTpotS && e2eS <= sloE2eS) this.sloMet[a]++;
  }

  /** Busy replica-seconds a request used, for cost attribution. */
  busyShare(workload: number, deployment: number, nowS: number, seconds: number): void {
    if (seconds <= 0) return;
    const a = workload * this.deployments + deployment;
    this.periodBusyShareS[this.calendar.periodAt(nowS) * this.atoms + a] += seconds;
  }
}
