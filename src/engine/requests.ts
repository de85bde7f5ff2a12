/**
 * Requests in flight as struct-of-arrays with a free list: memory grows with the number of
 * requests in flight at once, never with the number simulated. Ids are reused after a request ends.
 */
import { grown } from './grow.js';

export const NONE = -1;

export class RequestTable {
  capacity = 0;
  private freeHead = NONE;
  private used = 0;

  /** Arrival order over the whole run (0-based), the request's public id in requests.csv. */
  seq = new Float64Array(0);
  arrivalS = new Float64Array(0);
  workload = new Int32Array(0);
  promptTokens = new Int32Array(0);
  outputTokens = new Int32Array(0);
  /** Tokens generated so far in the current attempt, as of replica step `baseStep`. */
  generated = new Int32Array(0);
  baseStep = new Float64Array(0);
  firstTokenS = new Float64Array(0);
  /** 1 once the request has been moved to another model's deployment. */
  failedOver = new Uint8Array(0);
  /** Replica step at which the last token will have been generated. */
  finishStep = new Float64Array(0);
  /** Admission order on its replica; the latest admitted is preempted first. */
  admitSeq = new Float64Array(0);
  /** Next request in a replica's waiting queue, or the free list. */
  next = new Int32Array(0);
  /** Position in its replica's completion heap, slot in its replica's batch. */
  heapPos = new Int32Array(0);
  slot = new Int32Array(0);
  /** Replica busy-share integral when the request joined the batch (cost attribution). */
  shareMark = new Float64Array(0);
  /** KV block phase: tokens held at replica step s are kvPhase + s. */
  kvPhase = new Float64Array(0);
  /**
   * Prefix caching (serving/prefix-cache.ts): the shared prefix segment the prompt starts with and
   * its length (NONE and 0 without one), the conversation segment its history belongs to (NONE
   * outside a session), blocks it shares in its replica's cache and its extents there (its
   * conversation's, lastEntry, and its prefix group's, prefixEntry; prefix-cache.ts), prompt tokens
   * of its current prefill found cached, and those of the prefill that gave its first token (billed),
   * of which offloadTokens were found in the host tier (deployment `kv_offload`).
   */
  prefixChain = new Int32Array(0);
  prefixTokens = new Int32Array(0);
  sessionChain = new Int32Array(0);
  sharedBlocks = new Int32Array(0);
  lastEntry = new Int32Array(0);
  prefixEntry = new Int32Array(0);
  hitTokens = new Int32Array(0);
  cachedTokens = new Int32Array(0);
  offloadTokens = new Int32Array(0);
  /** A trace row's hash chain (serving/chain-table.ts): the node of its prompt's last hash block, or NONE. */
  chainLeaf = new Int32Array(0);
  /** The conversation (workload session slot) the request is a turn of, or NONE. */
  session = new Int32Array(0);
  /** A session turn's conversation number in its workload (0-based, in the order conversations opened) and turn (0-based); -1 outside a session. */
  conversation = new Float64Array(0);
  turn = new Int32Array(0);
  /**
   * Of outputTokens, hidden thinking tokens generated before the answer (workload
   * `reasoning_tokens`; 0 without), and when the first visible token, number reasoningTokens + 1,
   * was generated (-1 before; firstTokenS when there is no reasoning).
   */
  reasoningTokens = new Int32Array(0);
  visibleS = new Float64Array(0);

  get inFlight(): number {
    return this.used;
  }

  alloc(): number {
    if (this.freeHead === NONE) this.grow();
    const id = this.freeHead;
    this.freeHead = this.next[id];
    this.next[id] = NONE;
    this.used++;
    return id;
  }

  release(id: number): void {
    this.next[id] = this.freeHead;
    this.freeHead = id;
    this.used--;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = Math.max(1024, old * 2);
    this.seq = grown(this.seq, cap);
    this.arrivalS = grown(this.arrivalS, cap);
    this.workload = grown(this.workload, cap);
    this.promptTokens = grown(this.promptTokens, cap);
    this.outputTokens = grown(this.outputTokens, cap);
    this.generated = grown(this.generated, cap);
    this.baseStep = grown(this.baseStep, cap);
    this.firstTokenS = grown(this.firstTokenS, cap);
    this.failedOver = grown(this.failedOver, cap);
    this.finishStep = grown(this.finishStep, cap);
    this.admitSeq = grown(this.admitSeq, cap);
    this.next = grown(this.next, cap);
    this.heapPos = grown(this.heapPos, cap);
    this.slot = grown(this.slot, cap);
    this.shareMark = grown(this.shareMark, cap);
    this.kvPhase = grown(this.kvPhase, cap);
    this.prefixChain = grown(this.prefixChain, cap);
    this.prefixTokens = grown(this.prefixTokens, cap);
    this.sessionChain = grown(this.sessionChain, cap);
    this.sharedBlocks = grown(this.sharedBlocks, cap);
    this.lastEntry = grown(this.lastEntry, cap);
    this.prefixEntry = grown(this.prefixEntry, cap);
    this.hitTokens = grown(this.hitTokens, cap);
    this.cachedTokens = grown(this.cachedTokens, cap);
    this.offloadTokens = grown(this.offloadTokens, cap);
    this.chainLeaf = grown(this.chainLeaf, cap);
    this.session = grown(this.session, cap);
    this.conversation = grown(this.conversation, cap);
    this.turn = grown(this.turn, cap);
    this.reasoningTokens = grown(this.reasoningTokens, cap);
    this.visibleS = grown(this.visibleS, cap);
    // A new id's optional columns start at their defaults, so a run in which no request has a
    // prefix, a session or hidden reasoning never writes them (serving/fleet.ts arrive).
    for (const col of [this.prefixChain, this.sessionChain, this.lastEntry, this.prefixEntry, this.chainLeaf, this.session, this.conversation, this.turn]) col.fill(NONE, old);
    // Thread the new ids onto the free list in ascending order so allocation order is stable.
    for (let i = cap - 1; i >= old; i--) {
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
    this.capacity = cap;
  }
}
