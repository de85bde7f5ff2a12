/**
 * The batch tier (workload `batch: { window, discount }`, docs/quotas.md#batch-tier): its requests
 * are served only from replicas no other request wants, and never make another request wait.
 *
 *  - They wait in a FIFO per batch workload, not in a replica's queue, and routing never sees them.
 *  - A replica takes batch work only when nothing else is queued at it or in its batch (whole-replica
 *    backfill, `pull`): when it would otherwise go idle, or when a batch request arrives and it is idle.
 *  - A request of any other workload arriving at a replica holding batch work takes the replica at
 *    once (`yieldBatch`): the iteration in flight is abandoned, the batch requests keep the tokens
 *    of the decode steps already finished and go back to the front of their FIFO (to be recomputed
 *    later, like a KV preemption, counted in `preemptions`), and the arrival finds the replica as
 *    it would without the tier: idle, with an empty KV cache. So on a fixed fleet without prefix
 *    caching every other request's timings are those of the same run without the batch workload,
 *    exactly (test/batch-tier.test.ts); batch requests' loads are left out of routing (`batchHeld`).
 *  - A batch request not started by arrival + window is `expired` (never billed), its end the
 *    deadline, found at the first report tick or batch pull after it; once started it runs to
 *    completion, preemptions aside.
 *  - It is billed at (1 − discount) × its price (economics/billing.ts `discountedPrice`).
 */
import type { Scenario } from '../scenario/load.js';
import type { Fleet } from './fleet.js';
import { NONE } from '../engine/requests.js';
import { FATE_EXPIRED, FATE_REJECTED } from '../metrics/recorder.js';
import { decodeStepsWithin } from '../perf/roofline.js';
import { DECODE, IDLE, PREFILL, PREFILL_TOKEN_BUDGET, SCHED_CHUNKED, SCHED_CONTINUOUS, SCHED_STATIC } from './kinds.js';
import { blocksFor, kvBlocksAt } from './kv-blocks.js';
import { addToBatch, finish, removeFromBatch, touch } from './replica.js';

export class BatchTier {
  /** Per workload: 1 for a batch-tier workload, its window (s), and its FIFO (head, tail, length; linked through rq.next). */
  readonly isBatch: Uint8Array;
  readonly windowS: Float64Array;
  readonly head: Int32Array;
  readonly tail: Int32Array;
  readonly length: Int32Array;
  /** Per replica: the batch workloads of its model, if it may take batch work (continuous, chunked, static). */
  readonly sourcesOf: Int32Array[];
  /** Per batch workload: the replicas that may serve it, and the largest request any of them holds. */
  readonly replicasOf: Int32Array[];
  readonly maxTokensOf: Float64Array;

  constructor(scenario: Scenario, f: Fleet) {
    const W = scenario.workloads.length;
    this.isBatch = Uint8Array.from(scenario.workloads, (w) => (w.batch === null ? 0 : 1));
    this.windowS = Float64Array.from(scenario.workloads, (w) => (w.batch === null ? Infinity : w.batch.windowS));
    this.head = new Int32Array(W).fill(NONE);
    this.tail = new Int32Array(W).fill(NONE);
    this.length = new Int32Array(W);
    const takes = (r: number) => f.sched[r] === SCHED_CONTINUOUS || f.sched[r] === SCHED_CHUNKED || f.sched[r] === SCHED_STATIC;
    const modelOf = (r: number) => f.deployments[f.deploymentOf[r]].model.id;
    const batchWorkloads = scenario.workloads.filter((w) => w.batch !== null);
    this.sourcesOf = Array.from({ length: f.replicas }, (_, r) =>
      Int32Array.from(takes(r) ? batchWorkloads.filter((w) => w.model === modelOf(r)).map((w) => w.index) : []),
    );
    this.replicasOf = scenario.workloads.map((w) => {
      const ids: number[] = [];
      if (w.batch !== null) for (let r = 0; r < f.replicas; r++) if (takes(r) && modelOf(r) === w.model) ids.push(r);
      return Int32Array.from(ids);
    });
    this.maxTokensOf = Float64Array.from(this.replicasOf, (ids) => ids.reduce((m, r) => Math.max(m, f.maxTokens[r]), 0));
  }
}

/** The scenario's batch tier, or null when no workload has `batch:`. */
export function batchTierOf(scenario: Scenario, f: Fleet): BatchTier | null {
  return scenario.workloads.some((w) => w.batch !== null) ? new BatchTier(scenario, f) : null;
}

function pushBack(t: BatchTier, rq: Fleet['requests'], w: number, q: number): void {
  rq.next[q] = NONE;
  if (t.length[w] === 0) t.head[w] = q;
  else rq.next[t.tail[w]] = q;
  t.tail[w] = q;
  t.length[w]++;
}

function pushFront(t: BatchTier, rq: Fleet['requests'], w: number, q: number): void {
  rq.next[q] = t.length[w] === 0 ? NONE : t.head[w];
  if (t.length[w] === 0) t.tail[w] = q;
  t.head[w] = q;
  t.length[w]++;
}

/** A batch request has arrived (within its quotas): it waits in its workload's FIFO; an idle replica of its model takes it at once. */
export function batchArrive(f: Fleet, q: number): void {
  const t = f.batchTier!;
  const rq = f.requests;
  const w = rq.workload[q];
  if (rq.promptTokens[q] + rq.outputTokens[q] > t.maxTokensOf[w]) {
    finish(f, q, f.tierFirstDeployment[w][0], FATE_REJECTED);
    return;
  }
  pushBack(t, rq, w, q);
  // Highest id first: least-outstanding routing sends other requests to the lowest idle id, so
  // batch work started there is interrupted least (a choice only batch work sees).
  const ids = t.replicasOf[w];
  for (let i = ids.length - 1; i >= 0; i--) {
    const r = ids[i];
    if (f.phase[r] === IDLE && f.batch[r] === 0 && f.queueLen[r] === 0 && pull(f, r)) return;
  }
}

/**
 * A batch request preempted for KV (kv-blocks.ts), or moved off a failed replica (routing.ts
 * route: it never fails over, and starts over as any evicted request does), goes back to the
 * front of its FIFO.
 */
export function batchRequeue(f: Fleet, q: number): void {
  pushFront(f.batchTier!, f.requests, f.requests.workload[q], q);
}

/**
 * Whether a lower id of r's deployment is up and holds nothing at all. Routing sends the next
 * request to the lowest-id idle replica (least-outstanding, and the others on ties), so batch work
 * started on r would be interrupted by it: keeping one truly idle replica below spares that
 * recomputation (on the bundled scenario, 37,894 preemptions became 7,542). A choice only batch
 * work sees, so the guarantee above stands. The lowest replica of a deployment of several never
 * takes batch work; once the others are idle (at the latest in the drain) they do.
 */
function spareBelow(f: Fleet, r: number): boolean {
  const first = f.firstReplicaOf[f.deploymentOf[r]];
  for (let x = first; x < r; x++) if (f.up[x] !== 0 && f.batch[x] === 0 && f.queueLen[x] === 0) return true;
  return false;
}

function expireHead(f: Fleet, w: number, deployment: number, deadlineS: number): void {
  const t = f.batchTier!;
  const q = t.head[w];
  t.head[w] = f.requests.next[q];
  t.length[w]--;
  f.recorder.periodExpired[f.recorder.periodCell(w, deployment)]++;
  finish(f, q, deployment, FATE_EXPIRED, deadlineS);
}

/**
 * Replica r, with nothing else queued or batched, would go idle or decode only batch work: admits
 * batch requests (oldest deadline first across its model's batch workloads) while its batch, KV
 * cache and prefill budget allow, and starts their prefill. Returns whether it did.
 */
export function pull(f: Fleet, r: number): boolean {
  const t = f.batchTier!;
  const sources = t.sourcesOf[r];
  if (sources.length === 0 || f.up[r] === 0 || f.queueLen[r] !== 0 || f.batch[r] !== f.batchHeld[r]) return false;
  if (f.autoscaler !== null && f.autoscaler.draining[r] !== 0) return false;
  const d = f.deployments[f.deploymentOf[r]];
  if (d.replicas > 1 && !spareBelow(f, r)) return false;
  if (f.sched[r] === SCHED_STATIC && f.batch[r] > 0) return false;
  const rq = f.requests;
  const nowS = f.clockS[0];
  const s = f.step[r];
  let blocks = f.batch[r] === 0 ? 0 : kvBlocksAt(f, r, s);
  let admitted = 0;
  let tokens = 0;
  let sumSquares = 0;
  while (f.batch[r] < d.maxBatch) {
    let w = NONE;
    let deadlineS = Infinity;
    for (let i = 0; i < sources.length; i++) {
      const x = sources[i];
      if (t.length[x] === 0) continue;
      const due = rq.arrivalS[t.head[x]] + t.windowS[x];
      if (due < deadlineS) {
        deadlineS = due;
        w = x;
      }
    }
    if (w === NONE) break;
    const q = t.head[w];
    if (nowS >= deadlineS) {
      expireHead(f, w, d.index, deadlineS);
      continue;
    }
    const prefillTokens = rq.promptTokens[q] + rq.generated[q];
    const need = blocksFor(f, r, prefillTokens + 1);
    if (blocks + need > f.kvCapacityBlocks[r]) break;
    if (admitted > 0 && tokens + prefillTokens > PREFILL_TOKEN_BUDGET) break;
    t.head[w] = rq.next[q];
    t.length[w]--;
    addToBatch(f, r, q);
    f.batchHeld[r]++;
    blocks += need;
    admitted++;
    tokens += prefillTokens;
    sumSquares += prefillTokens * prefillTokens;
  }
  if (admitted === 0) return false;
  f.promptTokensComputed[0] += tokens;
  f.prefillCount[r] = admitted;
  f.phase[r] = PREFILL;
  f.queue.schedule(f.replicaEntityBase + r, nowS + d.perf.prefillS(tokens, sumSquares));
  return true;
}

/**
 * Another request is about to join replica r, which holds batch work: the batch work gives the
 * replica up at once. Decode steps finished inside a collapsed run are kept (their tokens count
 * as generated, to be recomputed with the prompt); the iteration in flight is abandoned.
 */
export function yieldBatch(f: Fleet, r: number): void {
  const rq = f.requests;
  const nowS = f.clockS[0];
  touch(f, r);
  f.queue.cancel(f.replicaEntityBase + r);
  if (f.phase[r] === DECODE && nowS > f.runStartS[r]) {
    // A run ends before its first completion, so at most runSteps − 1 of its steps may be kept.
    const done = decodeStepsWithin(f.runCoeffView[r], nowS - f.runStartS[r], f.runSteps[r]);
    f.step[r] += Math.min(done, f.runSteps[r] - 1);
  }
  const base = f.slotBase[r];
  while (f.batch[r] > 0) {
    const q = f.slots[base + f.batch[r] - 1];
    // A request past its prefill decodes from baseStep; one still in its prefill has nothing new.
    if (rq.heapPos[q] !== NONE) rq.generated[q] += f.step[r] - rq.baseStep[q];
    removeFromBatch(f, r, q);
    f.recorder.preemptions[f.deploymentOf[r]]++;
    pushFront(f.batchTier!, rq, rq.workload[q], q);
  }
  f.prefillCount[r] = 0;
  f.phase[r] = IDLE;
}

/**
 * At each report tick: requests at the head of a batch FIFO past their window expire (so an
 * expiry is counted in the period of its deadline, or the next one for a deadline just before a
 * tick, even when no replica looks for batch work), then idle replicas look for batch work.
 * Nothing else wakes a replica left idle when batch requests were waiting and it was down or
 * busy, and with no other arrival the run would wait on them for ever.
 */
export function kickIdle(f: Fleet): void {
  const t = f.batchTier!;
  const rq = f.requests;
  const nowS = f.clockS[0];
  for (let w = 0; w < t.isBatch.length; w++) {
    if (t.isBatch[w] === 0) continue;
    // FIFO by arrival, but a request put back at the front (preempted or moved off a failed
    // replica) may have a later deadline than one behind it: expiring stops at the first head
    // still in its window, and pull catches the rest when it reaches them.
    while (t.length[w] > 0 && nowS >= rq.arrivalS[t.head[w]] + t.windowS[w]) {
      expireHead(f, w, f.tierFirstDeployment[w][0], rq.arrivalS[t.head[w]] + t.windowS[w]);
    }
  }
  for (let r = f.replicas - 1; r >= 0; r--) if (f.phase[r] === IDLE && f.batch[r] === 0 && f.queueLen[r] === 0) pull(f, r);
}
