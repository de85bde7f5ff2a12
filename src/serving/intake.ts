/**
 * A request's entry into the fleet (Fleet.arrive, arriveShared): its row in the request table,
 * then quotas, the batch tier or routing. Apart from fleet.ts so that arrive stays small enough
 * for V8 to inline into the event loop.
 */
import type { Fleet } from './fleet.js';
import { FATE_REJECTED } from '../metrics/recorder.js';
import { resetPrefix } from './prefix-cache.js';
import { route } from './routing.js';
import { admitted } from './quota.js';
import { batchArrive } from './batch-tier.js';

/** A new request's row, at clockS[0]; outputTokens counts the hidden reasoningTokens. */
export function newRequest(f: Fleet, w: number, promptTokens: number, outputTokens: number, reasoningTokens: number): number {
  const rq = f.requests;
  const q = rq.alloc();
  rq.seq[q] = f.arrivalCount++;
  // Latencies are the client's: it sent the request frontend_ms before the engine sees it (the
  // same shift for every request of an open loop, so the engine's dynamics are unchanged).
  rq.arrivalS[q] = f.clockS[0] - f.workloadFrontendS[w];
  rq.workload[q] = w;
  rq.promptTokens[q] = promptTokens;
  rq.outputTokens[q] = outputTokens;
  rq.generated[q] = 0;
  rq.firstTokenS[q] = -1;
  rq.visibleS[q] = -1;
  // Without a reasoning workload the column stays at its 0.
  if (f.reasoning) rq.reasoningTokens[q] = reasoningTokens;
  rq.failedOver[q] = 0;
  return q;
}

/** Request q's shared-prompt columns: its prefix segment and length, hash chain, conversation segment and slot, requests.csv ids. */
export function sharePrompt(f: Fleet, q: number, prefixChain: number, prefixTokens: number, chain: number, sessionSegment: number, session: number, conversation: number, turn: number): void {
  const rq = f.requests;
  resetPrefix(rq, q, prefixChain, prefixTokens, chain);
  rq.sessionChain[q] = sessionSegment;
  rq.session[q] = session;
  rq.conversation[q] = conversation;
  rq.turn[q] = turn;
}

/** Request q of workload w, its row filled, is throttled, held by the batch tier or routed. */
export function place(f: Fleet, q: number, w: number): void {
  if (f.quotas !== null && !admitted(f, q)) return;
  if (f.batchTier !== null && f.batchTier.isBatch[w] !== 0) batchArrive(f, q);
  else route(f, q, FATE_REJECTED, f.tierFirstDeployment[w][0]);
}
