import type { RequestTable } from '../../src/engine/requests.js';
import type { RequestLog } from '../../src/metrics/recorder.js';
import type { Fleet } from '../../src/serving/fleet.js';
import { loadScenario } from '../../src/scenario/load.js';
import { simulate, type SimulationResult } from '../../src/simulation/simulate.js';

/** One ended request as the request log saw it. */
export interface EndedRequest {
  seq: number;
  workload: number;
  deployment: number;
  fate: number;
  arrivalS: number;
  firstTokenS: number;
  endS: number;
  promptTokens: number;
  outputTokens: number;
  /** Prompt tokens billed as cached (found in the prefix cache by the prefill that gave the first token). */
  cachedTokens: number;
  /** Of outputTokens, hidden reasoning tokens; and when the first visible token came (firstTokenS without reasoning). */
  reasoningTokens: number;
  visibleS: number;
}

/** A request log that keeps every ended request, for comparing two runs request by request. */
export class Capture implements RequestLog {
  rows: EndedRequest[] = [];
  /** Run after each request is recorded: bookkeeping checks at every request's end (inside admissions, completions, preemptions and outages). */
  afterRecord: (() => void) | null = null;
  record(rq: RequestTable, q: number, deployment: number, fate: number, endS: number): void {
    this.rows.push({
      seq: rq.seq[q],
      workload: rq.workload[q],
      deployment,
      fate,
      arrivalS: rq.arrivalS[q],
      firstTokenS: rq.firstTokenS[q],
      endS,
      promptTokens: rq.promptTokens[q],
      outputTokens: rq.outputTokens[q],
      cachedTokens: rq.cachedTokens[q],
      reasoningTokens: rq.reasoningTokens[q],
      visibleS: rq.visibleS[q],
    });
    this.afterRecord?.();
  }
}

/**
 * Simulates the scenario file at `path` with `log` as its request log; the fleet is the one the
 * run built (`inspect` also sees it, before the run), for reading its state after the run.
 */
export function simulateLogged(path: string, log: RequestLog, inspect?: (f: Fleet) => void): { result: SimulationResult; fleet: Fleet } {
  let fleet: Fleet | null = null;
  const result = simulate(loadScenario(path), {
    requestLog: log,
    inspect: (f) => {
      fleet = f;
      inspect?.(f);
    },
  });
  return { result, fleet: fleet! };
}
