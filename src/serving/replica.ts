/**
 * A replica's state transitions: its queue, its batch, and the boundaries between iterations. A
 * replica is in one phase (kinds.ts):
 *  - IDLE: nothing to run.
 *  - PREFILL: one iteration prefilling the requests just admitted (vLLM-style prefill-first).
 *  - DECODE: a *run* of decode steps during which the batch does not change. The run is one event:
 *    its length is the sum of an arithmetic series (perf/roofline.ts) and it ends at the next
 *    completion or KV-exhaustion boundary, or earlier when an arrival could be admitted
 *    (`interruptRun`). With `stepMode` every run is one step: the reference the tests compare to.
 *    A prefill that nothing can follow but a decode run is planned with it as one event
 *    (`prefillThenDecode`): the run starts at the prefill's end, and an arrival before then
 *    turns it back into a prefill whose end admits again (PREFILLED).
 *  - MIXED: a chunked-prefill iteration (schedulers/chunked.ts).
 * At each boundary (`boundary`) the replica commits the finished steps, retires completed requests,
 * and its scheduler (schedulers/registry.ts) admits, preempts and starts the next iteration.
 */
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { FATE_COMPLETED, FATE_FAILED_OVER } from '../metrics/recorder.js';
import { decodeRunS, firstBoundaryAtOrAfter } from '../perf/roofline.js';
import { IDLE, PREFILL, DECODE, MIXED, PREFILLED, SCHED_STATIC, SCHED_PREFILL_POOL, SCHED_DECODE_POOL, KV_TRANSFERRED } from './kinds.js';
import { heapPush, heapRemove, topFinishStep } from './completion-heap.js';
import { blocksFor, holdsNextStep, kvAdd, kvBlocksAt, kvBlocksBound, kvOpening, kvStepsLeft, preemptLatest } from './kv-blocks.js';
import { loadMoved } from './routing.js';
import { joinCache, leaveCache, probe } from './prefix-cache.js';
import { finishMixed } from './schedulers/chunked.js';
import { handOff } from './schedulers/disaggregated.js';
import { startIteration } from './schedulers/registry.js';
import { retire } from './autoscaler.js';
import { linkByClass } from './priority.js';
import { pull, yieldBatch } from './batch-tier.js';

/** `endS`: when the request's fate was sealed, now unless it was earlier (a batch request's deadline). */
export function finish(f: Fleet, q: number, deployment: number, fate: number, endS = f.clockS[0]): void {
  const rq = f.requests;
  f.recorder.ended(rq.workload[q], deployment, fate, rq.arrivalS[q]);
  f.recorder.requestLog?.record(rq, q, deployment, fate, endS);
  // The hook reads the request (a session's next turn), so it runs before the id is given back.
  if (f.onRequestEnd !== null) f.onRequestEnd(rq.workload[q], q, false);
  rq.release(q);
}

export function enqueue(f: Fleet, r: number, q: number, front: boolean): void {
  const rq = f.requests;
  // Batch-tier work never makes another request wait (batch-tier.ts).
  if (f.batchTier !== null && f.batchHeld[r] > 0) yieldBatch(f, r);
  if (f.priority !== null) linkByClass(f, r, q, front);
  else {
    if (f.queueLen[r] === 0) {
      rq.next[q] = NONE;
      f.queueHead[r] = q;
      f.queueTail[r] = q;
    } else if (front) {
      rq.next[q] = f.queueHead[r];
      f.queueHead[r] = q;
    } else {
      rq.next[q] = NONE;
      rq.next[f.queueTail[r]] = q;
      f.queueTail[r] = q;
    }
    f.queueLen[r]++;
  }
  loadMoved(f, r, 1);
  if (front) return;
  const phase = f.phase[r];
  if (phase === IDLE) boundary(f, r);
  // Static batching admits nothing until its batch has drained, so arrivals never cut a run short.
  // Only a new head can be admitted before the requests already waiting (FIFO: the queue was empty).
  else if (phase === DECODE && f.queueHead[r] === q && !f.stepMode && f.sched[r] !== SCHED_STATIC) interruptRun(f, r, q);
}

/**
 * An arrival to a decoding replica that could admit it cuts the run short at the end of the
 * step in progress; one that could not (batch full, KV short) leaves the run alone.
 */
export function interruptRun(f: Fleet, r: number, q: number): void {
  const nowS = f.clockS[0];
  if (nowS < f.runStartS[r]) {
    // The run was planned with the prefill still in flight (prefillThenDecode): the arrival waits
    // for the prefill's end, where the replica admits again, as when the prefill is its own event.
    f.phase[r] = PREFILLED;
    f.queue.staged[0] = f.runStartS[r];
    f.queue.scheduleStaged(f.replicaEntityBase + r);
    return;
  }
  const d = f.deployments[f.deploymentOf[r]];
  if (f.batch[r] >= d.maxBatch) return;
  // As at admission: a request arriving with its KV (disaggregated hand-off) needs no block for a
  // prefill token; reserving one here would skip interrupts that step mode makes.
  const rq = f.requests;
  const transferred = f.sched[r] === SCHED_DECODE_POOL && rq.baseStep[q] === KV_TRANSFERRED;
  const need = admissionBlocks(f, r, q, transferred ? 0 : 1);
  if (f.runBlocks[r] + need > f.kvCapacityBlocks[r]) {
    // runBlocks may be the bound; the batch has not changed since the run started at step[r].
    f.runBlocks[r] = kvBlocksAt(f, r, f.step[r]);
    if (f.runBlocks[r] + need > f.kvCapacityBlocks[r]) return;
  }
  const c = f.runCoeffView[r];
  const elapsedS = nowS - f.runStartS[r];
  const planned = f.runSteps[r];
  // An arrival at the very instant the run started (a hand-off in the same event) still waits
  // for the step in flight, as it does in step mode: the earliest boundary is after one step.
  const n = firstBoundaryAtOrAfter(c, elapsedS, planned, f.boundaryRunS);
  const m = Math.max(1, n);
  if (m >= planned) return;
  f.runSteps[r] = m;
  const known = f.boundaryRunS[0];
  const runS = m === n && !Number.isNaN(known) ? known : decodeRunS(c, m);
  f.queue.staged[0] = f.runStartS[r] + runS;
  f.queue.scheduleStaged(f.replicaEntityBase + r);
}

/**
 * KV blocks admitting request q to replica r takes from kvCapacityBlocks[r]: its private blocks
 * (the prompt, the tokens generated, and `extra` for the token its prefill produces) and, with
 * prefix caching, the cache entries it newly references; the blocks it shares are in
 * f.probe[1] after the call. Admission and interruptRun ask the same question.
 */
export function admissionBlocks(f: Fleet, r: number, q: number, extra: number): number {
  const rq = f.requests;
  const tokens = rq.promptTokens[q] + rq.generated[q] + extra;
  if (f.caching[r] === 0) return blocksFor(f, r, tokens);
  probe(f, r, q);
  return blocksFor(f, r, tokens - f.probe[1] * f.blockTokens[r]) + f.probe[2];
}

/** Adds the elapsed busy time to the replica's share integral. Call before the batch changes. */
export function touch(f: Fleet, r: number): void {
  const nowS = f.clockS[0];
  const b = f.batch[r];
  if (b > 0) {
    const dt = nowS - f.markS[r];
    f.shareIntegral[r] += dt / b;
    f.busyS[r] += dt;
  }
  f.markS[r] = nowS;
}

/** `extra`: 1 reserves KV for the token this request's prefill produces; 0 for a request arriving with its KV. */
export function addToBatch(f: Fleet, r: number, q: number, extra = 1): void {
  const rq = f.requests;
  const b = f.batch[r];
  f.slots[f.slotBase[r] + b] = q;
  rq.slot[q] = b;
  f.batch[r] = b + 1;
  rq.shareMark[q] = f.shareIntegral[r];
  rq.admitSeq[q] = f.admitCounter[r]++;
  rq.heapPos[q] = NONE;
  // Reserve KV for the prompt, the tokens already generated, and the token this prefill produces,
  // less the full blocks it shares in the prefix cache (prefix-cache.ts acquire set them).
  // (A double passed to a call V8 does not inline is boxed: joinCache takes the integer extra.)
  if (f.caching[r] !== 0) joinCache(f, r, q, extra);
  else {
    const phase = rq.promptTokens[q] + rq.generated[q] + extra - f.step[r];
    rq.kvPhase[q] = phase;
    kvAdd(f, r, phase, 1);
  }
}

/**
 * Removes a request from its replica's batch (and completion heap), settling its cost share and
 * giving back its KV (a completed conversation turn leaves its answer in the prefix cache).
 */
export function removeFromBatch(f: Fleet, r: number, q: number, completed = false): void {
  const rq = f.requests;
  if (rq.heapPos[q] !== NONE) heapRemove(f, r, q);
  const base = f.slotBase[r];
  const last = f.batch[r] - 1;
  const s = rq.slot[q];
  const moved = f.slots[base + last];
  f.slots[base + s] = moved;
  rq.slot[moved] = s;
  f.batch[r] = last;
  // Routing's loads leave batch-tier requests out (batch-tier.ts).
  if (f.batchTier !== null && f.batchTier.isBatch[rq.workload[q]] !== 0) f.batchHeld[r]--;
  else loadMoved(f, r, -1);
  if (f.caching[r] !== 0) leaveCache(f, r, q, completed);
  else kvAdd(f, r, rq.kvPhase[q], -1);
  f.recorder.busyShare(rq.workload[q], f.deploymentOf[r], f.shareIntegral[r] - rq.shareMark[q]);
}

export function boundary(f: Fleet, r: number): void {
  const nowS = f.clockS[0];
  touch(f, r);
  const phase = f.phase[r];
  if (phase === PREFILL) {
    finishPrefill(f, r, nowS);
  } else if (phase === MIXED) {
    finishMixed(f, r, nowS);
  } else if (phase === DECODE) {
    if (f.reasoning) stampVisible(f, r, f.runSteps[r], NaN);
    const s = f.step[r] + f.runSteps[r];
    f.step[r] = s;
    const hb = f.slotBase[r];
    while (f.heapCount[r] > 0 && f.heapKey[2 * hb] <= s) complete(f, r, f.heap[hb]);
  }
  startIteration(f, r);
}

/**
 * Reasoning: a decoding request's first visible token is its token reasoningTokens + 1. Stamps it
 * on the requests of replica r's completion heap that generated it in the `steps` decode steps
 * from step[r] that just ended: at `atS` (one mixed iteration), or NaN for a decode run, whose
 * step ends come from its coefficients. Call before those steps are committed. O(batch) per
 * boundary, so only runs with a reasoning workload pay it.
 */
export function stampVisible(f: Fleet, r: number, steps: number, atS: number): void {
  const rq = f.requests;
  const hb = f.slotBase[r];
  const s0 = f.step[r];
  for (let i = 0; i < f.heapCount[r]; i++) {
    const q = f.heap[hb + i];
    if (rq.visibleS[q] >= 0) continue;
    // Token g is generated at step baseStep + g - generated (generated counted at baseStep).
    const k = rq.baseStep[q] + rq.reasoningTokens[q] + 1 - rq.generated[q] - s0;
    if (k >= 1 && k <= steps) rq.visibleS[q] = atS === atS ? atS : f.runStartS[r] + decodeRunS(f.runCoeffView[r], k);
  }
}

/**
 * The prefilled requests have their first token at `nowS`: each completes, is handed off, or
 * decodes. `nowS` is ahead of the clock only from prefillThenDecode, which it calls only when
 * none completes or is handed off (both happen at the clock's time).
 */
export function finishPrefill(f: Fleet, r: number, nowS: number): void {
  const rq = f.requests;
  const base = f.slotBase[r];
  const b = f.batch[r];
  const s = f.step[r];
  // The prefilled requests are the last prefillCount slots; completing one swaps from the end,
  // so walk from the end down.
  for (let i = b - 1; i >= b - f.prefillCount[r]; i--) {
    const q = f.slots[base + i];
    const g = rq.generated[q] + 1;
    rq.generated[q] = g;
    rq.baseStep[q] = s;
    if (rq.firstTokenS[q] < 0) rq.firstTokenS[q] = nowS;
    // Without a reasoning workload every reasoningTokens is 0 (intake.ts): the first token is visible.
    if (rq.visibleS[q] < 0 && (!f.reasoning || g > rq.reasoningTokens[q])) rq.visibleS[q] = nowS;
    if (g >= rq.outputTokens[q]) complete(f, r, q);
    else if (f.sched[r] === SCHED_PREFILL_POOL) handOff(f, r, q);
    else {
      rq.finishStep[q] = s + (rq.outputTokens[q] - g);
      heapPush(f, r, q);
    }
  }
  f.prefillCount[r] = 0;
}

/**
 * Plans the decode run that follows a prefill ending at runStartS[r] (the caller sets it) now, as
 * one event, when nothing else can happen at the prefill's end: no request completes or leaves
 * there, nothing waits to be admitted, and the run needs no preemption. Until then only an
 * arrival or an outage touches the replica; `interruptRun` turns the first back into the
 * prefill's own event. Busy time is then accumulated across the prefill's end in one step, which
 * may differ in the last bit.
 */
export function prefillThenDecode(f: Fleet, r: number): boolean {
  if (f.queueLen[r] > 0 || !holdsNextStep(f, r, kvBlocksBound(f, r, f.step[r]))) return false;
  const rq = f.requests;
  const base = f.slotBase[r];
  const b = f.batch[r];
  for (let i = b - f.prefillCount[r]; i < b; i++) {
    const q = f.slots[base + i];
    if (rq.generated[q] + 1 >= rq.outputTokens[q]) return false;
  }
  finishPrefill(f, r, f.runStartS[r]);
  startDecodeRun(f, r);
  return true;
}

export function complete(f: Fleet, r: number, q: number): void {
  const rq = f.requests;
  const d = f.deploymentOf[r];
  removeFromBatch(f, r, q, true);
  f.recorder.completed(rq, q, d);
  const fate = rq.failedOver[q] === 1 ? FATE_FAILED_OVER : FATE_COMPLETED;
  f.recorder.requestLog?.record(rq, q, d, fate, f.clockS[0]);
  if (f.onRequestEnd !== null) f.onRequestEnd(rq.workload[q], q, true);
  rq.release(q);
}

/** With nothing admitted: a decode run over the batch from the clock's time, or idle when it is empty. */
export function decodeOrIdle(f: Fleet, r: number): void {
  // Capacity nothing else wants goes to the batch tier.
  if (f.batchTier !== null && pull(f, r)) return;
  if (f.batch[r] === 0) {
    f.phase[r] = IDLE;
    // A draining replica (autoscaler.ts) leaves once it holds nothing.
    if (f.autoscaler !== null && f.autoscaler.draining[r] !== 0 && f.queueLen[r] === 0) retire(f, r);
    return;
  }
  f.runStartS[r] = f.clockS[0];
  startDecodeRun(f, r);
}

/**
 * A run of decode steps over the whole batch (every request in it is past its prefill), starting
 * at runStartS[r], which the caller sets: the clock's time, or a prefill's end (prefillThenDecode,
 * whose runs never preempt, so preemption below always happens at the clock's time).
 */
export function startDecodeRun(f: Fleet, r: number): void {
  const startS = f.runStartS[r];
  const d = f.deployments[f.deploymentOf[r]];
  // Make room for the next step: preempt the latest admitted until the KV cache holds it.
  const s = f.step[r];
  let capacity = f.kvCapacityBlocks[r];
  let blocks = kvBlocksBound(f, r, s);
  // When the bound leaves room, blocks stays the bound; otherwise it is the exact count from here on.
  const bounded = holdsNextStep(f, r, blocks);
  let preempted = false;
  if (!bounded) {
    blocks = kvBlocksAt(f, r, s);
    while (f.batch[r] > 0 && blocks + kvOpening(f, r, s) > capacity) {
      preemptLatest(f, r);
      preempted = true;
      blocks = kvBlocksAt(f, r, s);
      // A preempted request's shared prefix blocks may come free too.
      capacity = f.kvCapacityBlocks[r];
    }
    if (f.batch[r] === 0) {
      startIteration(f, r);
      return;
    }
  }
  f.runBlocks[r] = blocks;
  const toFinish = topFinishStep(f, r) - s;
  let steps = 1;
  if (!f.stepMode) {
    // Blocks never shrink as steps pass, so a cache that holds the run's last step holds them all.
    if (kvBlocksBound(f, r, s + toFinish) <= capacity) steps = toFinish;
    else steps = kvStepsLeft(f, r, s, bounded ? kvBlocksAt(f, r, s) : blocks, toFinish);
    // With queue classes the victim may wait behind a higher-class request that the freed blocks
    // now hold: as in step mode, the next step's boundary tries admitting it.
    if (preempted && f.priority !== null) steps = 1;
  }
  // A run of no steps would end where it starts and be planned again, forever: only a bug in the
  // KV accounting above could cause it, so fail loudly rather than hang.
  if (!(steps >= 1)) throw new Error(`internal: replica ${r} planned a decode run of ${steps} steps at ${startS} s`);
  const c = f.runCoeffView[r];
  const b = f.batch[r];
  d.perf.decodeLines(b, f.sumPhase[r] + f.sharedTokens[r] + b * s, c);
  f.phase[r] = DECODE;
  f.runSteps[r] = steps;
  f.queue.staged[0] = startS + decodeRunS(c, steps);
  f.queue.scheduleStaged(f.replicaEntityBase + r);
}
