import type { RequestTable } from '../../src/engine/requests.js';
import type { RequestLog } from '../../src/metrics/recorder.js';

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
  }
}
