/**
 * scheduler chunked (Sarathi-Serve): iterations that carry the decodes plus prompt chunks within
 * `chunk_tokens`; with no prompt to chunk the decodes run collapsed as under continuous.
 */
import type { Fleet } from '../fleet.js';
import { NONE } from '../../engine/requests.js';
import { FATE_TIMED_OUT } from '../../metrics/recorder.js';
import { MIXED } from '../kinds.js';
import { heapPush } from '../completion-heap.js';
import { kvAdd, kvBlocksAt, kvOpening, preemptLatest } from '../kv-blocks.js';
import { acquire, hostCopyS } from '../prefix-cache.js';
import { addToBatch, admissionBlocks, complete, decodeOrIdle, finish, stampVisible } from '../replica.js';
import { loadMoved } from '../routing.js';
import { unlinkHead } from '../priority.js';

/**
 * scheduler chunked (Sarathi-Serve): every iteration carries one token per decoding request and
 * fills the rest of `chunk_tokens` with prompt chunks, the unfinished prompt first, then new
 * admissions (at most one prompt part-way at a time). An iteration with prompt chunks is one
 * event; with none, the decodes run collapsed as under `continuous`.
 */
export function startChunked(f: Fleet, r: number): void {
  const nowS = f.clockS[0];
  const d = f.deployments[f.deploymentOf[r]];
  const rq = f.requests;
  const s = f.step[r];
  let blocks = kvBlocksAt(f, r, s);
  // Room for the decoding requests' next token, as before a decode run (the capacity is read
  // afresh: a preempted request's shared prefix blocks may come free).
  while (f.heapCount[r] > 0 && blocks + kvOpening(f, r, s) > f.kvCapacityBlocks[r]) {
    preemptLatest(f, r);
    blocks = kvBlocksAt(f, r, s);
  }
  const caching = f.caching[r] !== 0;
  const decoders = f.heapCount[r];
  // At least one prompt token per iteration, so a prompt always progresses however large the batch.
  let budget = Math.max(1, d.chunkTokens - decoders);
  let tokens = 0;
  let pairs = 0;
  let kvRead = 0;
  let listTail = NONE;
  // Cached blocks found in the host tier (kv_offload), copied to the GPU before the iteration's compute.
  let copied = 0;
  const q0 = f.chunkReq[r];
  if (q0 !== NONE) {
    const need = rq.promptTokens[q0] + rq.generated[q0];
    const done = f.chunkDone[r];
    const c = Math.min(budget, need - done);
    tokens += c;
    // Causal attention of c new queries over `done` cached keys and each other.
    pairs += c * done + (c * (c + 1)) / 2;
    kvRead += done;
    budget -= c;
    if (done + c >= need) {
      f.chunkReq[r] = NONE;
      f.chunkDone[r] = 0;
      rq.next[q0] = NONE;
      f.prefillList[r] = q0;
      listTail = q0;
    } else f.chunkDone[r] = done + c;
  }
  while (budget > 0 && f.chunkReq[r] === NONE && f.queueLen[r] > 0 && f.batch[r] < d.maxBatch) {
    const q = f.queueHead[r];
    const need = rq.promptTokens[q] + rq.generated[q];
    const needBlocks = admissionBlocks(f, r, q, 1);
    if (blocks + needBlocks > f.kvCapacityBlocks[r]) break;
    f.queueHead[r] = rq.next[q];
    f.queueLen[r]--;
    if (f.priority !== null) unlinkHead(f, r, q);
    if (rq.firstTokenS[q] < 0 && nowS - rq.arrivalS[q] > f.workloadTimeoutS[rq.workload[q]]) {
      loadMoved(f, r, -1);
      finish(f, q, d.index, FATE_TIMED_OUT);
      continue;
    }
    // Tokens found in the prefix cache are done before the first chunk.
    let hit = 0;
    if (caching) {
      hit = f.probe[0] * f.blockTokens[r];
      const newRefs = f.probe[2];
      copied += f.probe[3];
      acquire(f, r, q);
      blocks += needBlocks - newRefs;
    } else blocks += needBlocks;
    addToBatch(f, r, q);
    const c = Math.min(budget, need - hit);
    tokens += c;
    if (hit === 0) pairs += (c * (c + 1)) / 2;
    else {
      pairs += c * hit + (c * (c + 1)) / 2;
      kvRead += hit;
    }
    budget -= c;
    if (hit + c >= need) {
      rq.next[q] = NONE;
      if (listTail === NONE) f.prefillList[r] = q;
      else rq.next[listTail] = q;
      listTail = q;
    } else {
      f.chunkReq[r] = q;
      f.chunkDone[r] = hit + c;
    }
  }
  if (tokens > 0) {
    f.promptTokensComputed[0] += tokens;
    let context = 0;
    const hb = f.slotBase[r];
    for (let i = 0; i < decoders; i++) {
      const x = f.heap[hb + i];
      context += caching ? rq.kvPhase[x] + s + rq.sharedBlocks[x] * f.blockTokens[r] : rq.kvPhase[x] + s;
    }
    f.mixedDecoders[r] = decoders;
    f.phase[r] = MIXED;
    const offloadS = hostCopyS(f, r, copied);
    f.queue.staged[0] = nowS + d.perf.mixedS(decoders, context, tokens, pairs, kvRead) + offloadS;
    f.queue.scheduleStaged(f.replicaEntityBase + r);
    return;
  }
  decodeOrIdle(f, r);
}

/** The end of a chunked iteration: the decoders advance a step, the prompts it finished have their first token. */
export function finishMixed(f: Fleet, r: number, nowS: number): void {
  const rq = f.requests;
  let s = f.step[r];
  if (f.mixedDecoders[r] > 0) {
    if (f.reasoning) stampVisible(f, r, 1, nowS);
    s += 1;
    f.step[r] = s;
    const hb = f.slotBase[r];
    while (f.heapCount[r] > 0 && f.heapKey[2 * hb] <= s) complete(f, r, f.heap[hb]);
  }
  let q = f.prefillList[r];
  f.prefillList[r] = NONE;
  while (q !== NONE) {
    const nextQ = rq.next[q];
    const g = rq.generated[q] + 1;
    rq.generated[q] = g;
    rq.baseStep[q] = s;
    if (rq.firstTokenS[q] < 0) rq.firstTokenS[q] = nowS;
    if (rq.visibleS[q] < 0 && g > rq.reasoningTokens[q]) rq.visibleS[q] = nowS;
    // Re-anchor its KV at this step: it holds prompt + generated tokens now (steps that passed
    // while its prompt was still being chunked added none).
    kvAdd(f, r, rq.kvPhase[q], -1);
    const kvPhase = rq.promptTokens[q] + g - s - rq.sharedBlocks[q] * f.blockTokens[r];
    rq.kvPhase[q] = kvPhase;
    kvAdd(f, r, kvPhase, 1);
    if (g >= rq.outputTokens[q]) complete(f, r, q);
    else {
      rq.finishStep[q] = s + (rq.outputTokens[q] - g);
      heapPush(f, r, q);
    }
    q = nextQ;
  }
}
