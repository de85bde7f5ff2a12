/**
 * scheduler continuous (vLLM-style, prefill-first): at each boundary admit from the queue while
 * the batch, the KV cache and the prefill token budget allow, prefill them as one iteration, then
 * decode the whole batch in collapsed runs. The admission loop is shared by static and the
 * disaggregated pools, which differ only where `kind` is tested.
 */
import type { Fleet } from '../fleet.js';
import { FATE_TIMED_OUT } from '../../metrics/recorder.js';
import { PREFILL, SCHED_CONTINUOUS, SCHED_STATIC, SCHED_PREFILL_POOL, SCHED_DECODE_POOL, KV_TRANSFERRED, PREFILL_TOKEN_BUDGET } from '../kinds.js';
import { heapPush } from '../completion-heap.js';
import { kvBlocksAt, kvBlocksBound } from '../kv-blocks.js';
import { acquire, hostCopyS } from '../prefix-cache.js';
import { addToBatch, admissionBlocks, decodeOrIdle, finish, prefillThenDecode } from '../replica.js';
import { loadMoved } from '../routing.js';
import { unlinkHead } from '../priority.js';

/**
 * Prefill-first admission (vLLM): takes requests from the head of the queue while the batch, the
 * KV cache and the prefill token budget allow, and starts one prefill iteration over them. `kind`
 * is the replica's scheduler: static takes its whole batch at once (no token budget), a
 * decode-pool replica takes hand-offs straight into decoding, a prefill-pool replica ships the KV
 * out before its prefill ends. Returns whether a prefill started. The caller has checked that
 * the queue is not empty and the batch not full.
 */
export function admitPrefillFirst(f: Fleet, r: number, kind: number): boolean {
  const nowS = f.clockS[0];
  const d = f.deployments[f.deploymentOf[r]];
  const rq = f.requests;
  let admitted = 0;
  let tokens = 0;
  let sumSquares = 0;
  // Prompt tokens the prefills hold, cached or not (what a prefill pool ships).
  let heldTokens = 0;
  // Cached blocks found in the host tier (kv_offload), copied to the GPU before the prefill runs.
  let copied = 0;
  const s = f.step[r];
  let blocksUsed = kvBlocksBound(f, r, s);
  let blocksExact = false;
  const caching = f.caching[r] !== 0;
  while (f.queueLen[r] > 0 && f.batch[r] < d.maxBatch) {
    const q = f.queueHead[r];
    const prefillTokens = rq.promptTokens[q] + rq.generated[q];
    // A decode-pool replica takes transferred requests straight into decoding; once it has
    // admitted one to recompute (preempted here), the rest wait, so the prefilled requests
    // stay the last `prefillCount` slots.
    const transferred = kind === SCHED_DECODE_POOL && rq.baseStep[q] === KV_TRANSFERRED;
    if (transferred && admitted > 0) break;
    // With prefix caching, the blocks it newly references count against the room too; the
    // capacity itself shrinks by them once it is admitted (prefix-cache.ts).
    const need = admissionBlocks(f, r, q, transferred ? 0 : 1);
    const capacity = f.kvCapacityBlocks[r];
    if (blocksUsed + need > capacity) {
      if (blocksExact) break;
      // The bound says no; the exact count (which includes those just admitted) decides.
      blocksUsed = kvBlocksAt(f, r, s);
      blocksExact = true;
      if (blocksUsed + need > capacity) break;
    }
    // Tokens to compute: the prompt less the blocks found in the prefix cache.
    const hit = caching ? f.probe[0] * f.blockTokens[r] : 0;
    const computed = prefillTokens - hit;
    // Static batching prefills its whole batch at once.
    if (admitted > 0 && kind !== SCHED_STATIC && tokens + computed > PREFILL_TOKEN_BUDGET) break;
    f.queueHead[r] = rq.next[q];
    f.queueLen[r]--;
    if (f.priority !== null) unlinkHead(f, r, q);
    if (transferred) {
      addToBatch(f, r, q, 0);
      blocksUsed += need;
      rq.baseStep[q] = s;
      rq.finishStep[q] = s + (rq.outputTokens[q] - rq.generated[q]);
      heapPush(f, r, q);
      continue;
    }
    if (rq.firstTokenS[q] < 0 && nowS - rq.arrivalS[q] > f.workloadTimeoutS[rq.workload[q]]) {
      loadMoved(f, r, -1);
      finish(f, q, d.index, FATE_TIMED_OUT);
      continue;
    }
    if (caching) {
      const newRefs = f.probe[2];
      copied += f.probe[3];
      acquire(f, r, q);
      blocksUsed += need - newRefs;
    } else blocksUsed += need;
    addToBatch(f, r, q);
    admitted++;
    tokens += computed;
    heldTokens += prefillTokens;
    // Causal attention of the computed tokens over the cached ones and each other: pairs
    // c·h + c²/2, passed as a sum of squares (c² + 2·c·h; just c² without a hit).
    sumSquares += hit === 0 ? computed * computed : computed * (computed + 2 * hit);
  }
  if (admitted > 0) {
    f.promptTokensComputed[0] += tokens;
    f.prefillCount[r] = admitted;
    f.phase[r] = PREFILL;
    // A prefill-pool replica also ships the prompts' KV to the decode pool before it is done.
    const transferS = kind === SCHED_PREFILL_POOL ? d.perf.kvTransferS(heldTokens + admitted) : 0;
    const offloadS = hostCopyS(f, r, copied);
    const endS = nowS + d.perf.prefillS(tokens, sumSquares) + transferS + offloadS;
    // Where a fused run would start (runStartS is read only while the replica decodes).
    f.runStartS[r] = endS;
    if (f.stepMode || kind === SCHED_PREFILL_POOL || !prefillThenDecode(f, r)) {
      f.queue.staged[0] = endS;
      f.queue.scheduleStaged(f.replicaEntityBase + r);
    }
    return true;
  }
  return false;
}

export function startContinuous(f: Fleet, r: number): void {
  const d = f.deployments[f.deploymentOf[r]];
  if (f.queueLen[r] > 0 && f.batch[r] < d.maxBatch && admitPrefillFirst(f, r, SCHED_CONTINUOUS)) return;
  decodeOrIdle(f, r);
}
