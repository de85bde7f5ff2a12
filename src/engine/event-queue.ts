/**
 * Indexed priority queue of pending simulation events, keyed by entity id.
 *
 * Every entity (replica, report timer, incident edge) has at most one pending event, so the
 * queue is indexed by entity: rescheduling moves the existing event instead of leaving a stale
 * one to be skipped on pop, and memory is fixed at construction (no allocation per operation).
 *
 * Order is (time, seq), where seq is a global counter taken on every schedule(). Events at equal
 * times therefore run in the order they were scheduled, and the pop order is a pure function of
 * the call sequence: it does not depend on the data structure (the d-ary heaps in
 * bench/queue-variants.ts pop identically; the tests check this).
 *
 * The structure is a tournament (winner) tree: one leaf per entity, each inner node holding the
 * entity that wins (is earliest) in its subtree. Changing an entity's event replays the matches on
 * its leaf's path to the root, one comparison per level with the sibling's winner: no choosing
 * among children, no heap positions to keep. And pop is lazy: it leaves the popped leaf in place,
 * and the next operation clears it only if that is not a reschedule of the same entity. The
 * simulator pops a replica's event and the replica almost always schedules its next one, so a pop
 * plus reschedule costs one replay instead of a heap's sift-down plus sift-up.
 *
 * Chosen by measurement against indexed 2-, 4- and 8-ary heaps (the 4-ary heap was the queue
 * before). Hold model (bench/hold.ts: pop the minimum, reschedule it at time + Exp(1), N fixed),
 * `node dist/bench/hold-main.js`, Node 20.20, 2-vCPU AMD EPYC VM, one sitting; millions of
 * pop + reschedule operations per second:
 *
 *                                N=64   N=4096   N=262144
 *   binary heap                  11.0     5.90      2.37
 *   4-ary heap                   12.0     6.31      2.70    (the queue before)
 *   8-ary heap                   10.9     5.82      2.82
 *   tournament tree, branching   14.3     7.35      4.04    (the replay below with an if; an hour earlier)
 *   tournament tree, seq masked  22.4    12.0       5.11    (seq compared in every match)
 *   C++ 4-ary heap, g++ -O2      19.5     9.60      5.01    (bench/cpp/hold.cpp)
 *   C++ tournament tree, -O2     22.3    11.5       5.86    (the same algorithm and masks)
 *
 * and, hours later, with seq read only on equal times (the replay below, in both languages):
 *
 *   tournament tree              24.8    13.5       6.94    <- EventQueue
 *   C++ 4-ary heap, g++ -O2      20.0     9.83      5.08
 *   C++ tournament tree, -O2     25.7    13.2       7.18
 *
 * End to end (interleaved pairs against the 4-ary heap, outputs byte-identical): the tree with a
 * branching replay made platform-1m 2.3% faster and the week's first day 1.7%; the masks in the
 * replay brought it to 10% and 8%; reading seq only on equal times made platform-1m 5% faster
 * again. Also tried with the heaps: time/seq interleaved in one Float64Array (8-15% slower), an
 * unrolled tournament over a 4-ary node's children (~8% slower), Floyd's bottom-up pop (no gain
 * beyond noise).
 */

/**
 * The simulator's event queue: a tournament tree over a fixed set of entities (see above).
 */
export class EventQueue {
  /** Leaves: the entity capacity rounded up to a power of two (padding leaves are never pending). */
  private readonly leaves: number;
  private readonly capacity: number;
  /** Event time and tie-break sequence number per entity; Infinity when none is pending. */
  private readonly time: Float64Array;
  private readonly seqOf: Float64Array;
  /** 1 while the entity has a pending event. */
  private readonly pending: Uint8Array;
  /** Winner entity of each inner node 1..leaves-1; node leaves + e is entity e's leaf. */
  private readonly winner: Int32Array;
  private n = 0;
  private seq = 0;
  /** Entity popped whose leaf still holds its old event: cleared by the next operation unless that reschedules it. */
  private popped = -1;

  /** @param entityCapacity entity ids are `0 .. entityCapacity - 1`. */
  constructor(entityCapacity: number) {
    if (!Number.isInteger(entityCapacity) || entityCapacity < 0 || entityCapacity > 0x40000000) {
      throw new RangeError(`entityCapacity must be an integer in [0, 2^30], got ${entityCapacity}`);
    }
    let leaves = 1;
    while (leaves < entityCapacity) leaves *= 2;
    this.leaves = leaves;
    this.capacity = entityCapacity;
    this.time = new Float64Array(leaves).fill(Infinity);
    this.seqOf = new Float64Array(leaves).fill(Infinity);
    this.pending = new Uint8Array(leaves);
    this.winner = new Int32Array(2 * leaves);
    for (let e = 0; e < leaves; e++) this.winner[leaves + e] = e;
    for (let i = leaves - 1; i >= 1; i--) this.winner[i] = this.winner[2 * i];
  }

  /** Number of pending events. */
  get size(): number {
    return this.n;
  }

  /** Whether `entity` has a pending event. */
  has(entity: number): boolean {
    return isEntityId(entity, this.capacity) && this.pending[entity] === 1;
  }

  /** Time of the next event, or `Infinity` when empty. */
  peekTime(): number {
    if (this.popped >= 0) this.clearPopped();
    // An empty queue's leaves all hold Infinity, so the root's time is the answer either way. (A
    // ternary with an `Infinity` arm that never ran before V8 optimised the caller made V8 box
    // every time this returned: one heap object per event.)
    return this.time[this.winner[1]];
  }

  /** Entity of the next event, or `-1` when empty. */
  peekEntity(): number {
    if (this.popped >= 0) this.clearPopped();
    return this.n > 0 ? this.winner[1] : -1;
  }

  /** Sequence number of the next event, or `Infinity` when empty (as peekTime). */
  peekSeq(): number {
    if (this.popped >= 0) this.clearPopped();
    return this.seqOf[this.winner[1]];
  }

  /**
   * Takes the next sequence number without scheduling anything: for a caller that keeps a few
   * events of its own outside the queue (the simulator's arrival streams) and must still order
   * them against the queue's events exactly as if they were in it.
   */
  takeSeq(): number {
    return this.seq++;
  }

  /**
   * Sets `entity`'s single pending event to `timeS`, replacing any earlier one. Every call takes a
   * fresh sequence number, so a moved event runs after events already scheduled at the same time.
   */
  schedule(entity: number, timeS: number): void {
    this.staged[0] = timeS;
    this.placeStaged(entity, this.seq++);
  }

  /**
   * A hot caller's time for `scheduleStaged`. A double passed to a call V8 does not inline is
   * boxed, a heap object per call, and whether `schedule` is inlined depends on how much the
   * caller has inlined already; a time written here and an integer entity are never boxed.
   */
  readonly staged = new Float64Array(1);

  /** `schedule(entity, staged[0])`, for hot callers (see `staged`). */
  scheduleStaged(entity: number): void {
    this.placeStaged(entity, this.seq++);
  }

  /**
   * Sets `entity`'s pending event to `timeS` with a sequence number taken from another queue
   * (`takeSeq`): the simulator keeps its arrival streams in a queue of their own, ordered against
   * the main queue's events exactly as if they were in it.
   */
  scheduleWithSeq(entity: number, timeS: number, seq: number): void {
    this.staged[0] = timeS;
    this.placeStaged(entity, seq);
  }

  /** Sets `entity`'s pending event to staged[0] with sequence number `seq`. */
  private placeStaged(entity: number, seq: number): void {
    const timeS = this.staged[0];
    if (!isEntityId(entity, this.capacity)) badEntity(entity, this.capacity);
    if (timeS !== timeS) badTime(entity);
    const popped = this.popped;
    if (popped >= 0) {
      this.popped = -1;
      // Rescheduling the entity just popped overwrites its leaf: one replay for pop + schedule.
      if (popped !== entity) this.clear(popped);
    }
    if (this.pending[entity] === 0) {
      this.pending[entity] = 1;
      this.n++;
    }
    this.time[entity] = timeS;
    this.seqOf[entity] = seq;
    this.replay(entity);
  }

  /** Drops `entity`'s pending event; a no-op if it has none (a popped leaf is left to the next operation). */
  cancel(entity: number): void {
    if (!isEntityId(entity, this.capacity) || this.pending[entity] === 0) return;
    this.pending[entity] = 0;
    this.n--;
    this.clear(entity);
  }

  /** Removes the event with the smallest (time, seq) and returns its entity, or `-1` when empty. */
  pop(): number {
    if (this.popped >= 0) this.clearPopped();
    if (this.n === 0) return -1;
    const e = this.winner[1];
    this.pending[e] = 0;
    this.n--;
    this.popped = e;
    return e;
  }

  private clearPopped(): void {
    const e = this.popped;
    this.popped = -1;
    this.clear(e);
  }

  /** Empties `entity`'s leaf (its pending flag and count are the caller's). */
  private clear(entity: number): void {
    this.time[entity] = Infinity;
    this.seqOf[entity] = Infinity;
    this.replay(entity);
  }

  /**
   * Replays the matches on the path from `entity`'s leaf to the root. Who wins a match is close to
   * a coin toss, so a branch on it would be mispredicted about half the time: the winner is chosen
   * with integer masks instead (1.6x the hold-model throughput of the branching form at N=4096).
   */
  private replay(entity: number): void {
    const time = this.time;
    const seqOf = this.seqOf;
    const winner = this.winner;
    let best = entity;
    for (let i = entity + this.leaves; i > 1; i >>= 1) {
      const other = winner[i ^ 1];
      const t = time[other];
      const bestT = time[best];
      // Unary plus turns the comparison into 0 or 1 without a branch (a ternary or && would branch).
      let otherWins = +(t < bestT);
      // Equal times are rare, so this branch is predicted and the common path loads no seq.
      if (t === bestT) otherWins = +(seqOf[other] < seqOf[best]);
      best ^= (best ^ other) & -otherWins;
      winner[i >> 1] = best;
    }
  }
}

/**
 * Whether `entity` is an id of a queue of `capacity` entities. Typed arrays ignore out-of-range
 * writes silently, so a stray id would corrupt the structure; `>>> 0 ===` rejects negatives,
 * fractions and NaN in one compare. Shared with the benchmark's heaps (bench/queue-variants.ts).
 */
export function isEntityId(entity: number, capacity: number): boolean {
  return entity >>> 0 === entity && entity < capacity;
}

// Out of line so the throw sites do not bloat the hot methods V8 wants to inline.
export function badEntity(entity: number, capacity: number): never {
  throw new RangeError(`entity must be an integer in [0, ${capacity}), got ${entity}`);
}

export function badTime(entity: number): never {
  throw new RangeError(`event time for entity ${entity} is NaN`);
}
