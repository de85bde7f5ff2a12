/**
 * Indexed d-ary heaps with the contract of src/engine/event-queue.ts's EventQueue (a tournament
 * tree), kept as the hold benchmark's comparators; the 4-ary heap was the simulator's queue before
 * the tree replaced it (numbers in event-queue.ts). Each arity is its own class, not a parameter, so
 * V8 compiles it with its constants folded in.
 *
 * Layout follows mourner/flatqueue: keys live in typed arrays in heap order, sifts move a hole
 * and write the moving element once, and nothing allocates after construction.
 */
import { badEntity, badTime, isEntityId } from '../src/engine/event-queue.js';

/**
 * 2-ary variant of the indexed event queue. Same contract as `EventQueue`; kept as
 * a separate class (not a parameter) so V8 compiles each arity with its constants folded in.
 */
export class BinaryEventQueue {
  /** Event time at each heap slot; heap order, so siblings compared in sift-down share a cache line. */
  private readonly ht: Float64Array;
  /** Tie-break sequence number at each heap slot (Float64: exact past 2^32, up to 2^53). */
  private readonly hs: Float64Array;
  /** Entity id at each heap slot. */
  private readonly he: Int32Array;
  /** Heap slot of each entity, or -1 when it has no pending event. */
  private readonly pos: Int32Array;
  private n = 0;
  private seq = 0;

  /** @param entityCapacity entity ids are `0 .. entityCapacity - 1`. */
  constructor(entityCapacity: number) {
    if (!Number.isInteger(entityCapacity) || entityCapacity < 0 || entityCapacity > 0x7fffffff) {
      throw new RangeError(`entityCapacity must be an integer in [0, 2^31), got ${entityCapacity}`);
    }
    this.ht = new Float64Array(entityCapacity);
    this.hs = new Float64Array(entityCapacity);
    this.he = new Int32Array(entityCapacity);
    this.pos = new Int32Array(entityCapacity).fill(-1);
  }

  /** Number of pending events. */
  get size(): number {
    return this.n;
  }

  /** Whether `entity` has a pending event. */
  has(entity: number): boolean {
    return isEntityId(entity, this.pos.length) && this.pos[entity] >= 0;
  }

  /** Time of the next event, or `Infinity` when empty. */
  peekTime(): number {
    return this.n > 0 ? this.ht[0] : Infinity;
  }

  /** Entity of the next event, or `-1` when empty. */
  peekEntity(): number {
    return this.n > 0 ? this.he[0] : -1;
  }

  /**
   * Sets `entity`'s single pending event to `timeS`, replacing any earlier one. Every call takes a
   * fresh sequence number, so a moved event runs after events already scheduled at the same time.
   */
  schedule(entity: number, timeS: number): void {
    const pos = this.pos;
    if (!isEntityId(entity, pos.length)) badEntity(entity, pos.length);
    if (timeS !== timeS) badTime(entity);
    const s = this.seq++;
    const i = pos[entity];
    if (i < 0) {
      this.up(this.n++, timeS, s, entity);
    } else if (timeS < this.ht[i]) {
      this.up(i, timeS, s, entity);
    } else {
      // The new seq is the largest so far, so an equal-or-later time can only move down. This is
      // also the pop-free path for an entity at the top rescheduling itself: one sift-down.
      this.down(i, timeS, s, entity);
    }
  }

  /** Drops `entity`'s pending event; a no-op if it has none. */
  cancel(entity: number): void {
    if (!isEntityId(entity, this.pos.length)) return;
    const i = this.pos[entity];
    if (i < 0) return;
    this.pos[entity] = -1;
    this.fill(i);
  }

  /** Removes the event with the smallest (time, seq) and returns its entity, or `-1` when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const e = this.he[0];
    this.pos[e] = -1;
    this.fill(0);
    return e;
  }

  /** Closes the hole at slot `i` with the last element, which may belong above or below it. */
  private fill(i: number): void {
    const last = --this.n;
    if (i === last) return;
    const t = this.ht[last];
    const s = this.hs[last];
    const e = this.he[last];
    if (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.ht[p];
      if (t < pt || (t === pt && s < this.hs[p])) {
        this.up(i, t, s, e);
        return;
      }
    }
    this.down(i, t, s, e);
  }

  /** Moves the hole at `i` up until (t, s) fits, then writes it once. */
  private up(i: number, t: number, s: number, e: number): void {
    const ht = this.ht;
    const hs = this.hs;
    const he = this.he;
    const pos = this.pos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ht[p];
      if (t > pt || (t === pt && s > hs[p])) break;
      ht[i] = pt;
      hs[i] = hs[p];
      const pe = he[p];
      he[i] = pe;
      pos[pe] = i;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }

  /** Moves the hole at `i` down along smallest children until (t, s) fits, then writes it once. */
  private down(i: number, t: number, s: number, e: number): void {
    const ht = this.ht;
    const hs = this.hs;
    const he = this.he;
    const pos = this.pos;
    const n = this.n;
    for (;;) {
      const c = (i << 1) + 1;
      if (c >= n) break;
      let m = c;
      let mt = ht[c];
      let ms = hs[c];
      const end = c + 2 < n ? c + 2 : n;
      for (let k = c + 1; k < end; k++) {
        const kt = ht[k];
        if (kt < mt || (kt === mt && hs[k] < ms)) {
          m = k;
          mt = kt;
          ms = hs[k];
        }
      }
      if (t < mt || (t === mt && s < ms)) break;
      ht[i] = mt;
      hs[i] = ms;
      const me = he[m];
      he[i] = me;
      pos[me] = i;
      i = m;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }
}

/**
 * 8-ary variant of the indexed event queue. Same contract as `EventQueue`; kept as
 * a separate class (not a parameter) so V8 compiles each arity with its constants folded in.
 */
export class OctonaryEventQueue {
  /** Event time at each heap slot; heap order, so siblings compared in sift-down share a cache line. */
  private readonly ht: Float64Array;
  /** Tie-break sequence number at each heap slot (Float64: exact past 2^32, up to 2^53). */
  private readonly hs: Float64Array;
  /** Entity id at each heap slot. */
  private readonly he: Int32Array;
  /** Heap slot of each entity, or -1 when it has no pending event. */
  private readonly pos: Int32Array;
  private n = 0;
  private seq = 0;

  /** @param entityCapacity entity ids are `0 .. entityCapacity - 1`. */
  constructor(entityCapacity: number) {
    if (!Number.isInteger(entityCapacity) || entityCapacity < 0 || entityCapacity > 0x7fffffff) {
      throw new RangeError(`entityCapacity must be an integer in [0, 2^31), got ${entityCapacity}`);
    }
    this.ht = new Float64Array(entityCapacity);
    this.hs = new Float64Array(entityCapacity);
    this.he = new Int32Array(entityCapacity);
    this.pos = new Int32Array(entityCapacity).fill(-1);
  }

  /** Number of pending events. */
  get size(): number {
    return this.n;
  }

  /** Whether `entity` has a pending event. */
  has(entity: number): boolean {
    return isEntityId(entity, this.pos.length) && this.pos[entity] >= 0;
  }

  /** Time of the next event, or `Infinity` when empty. */
  peekTime(): number {
    return this.n > 0 ? this.ht[0] : Infinity;
  }

  /** Entity of the next event, or `-1` when empty. */
  peekEntity(): number {
    return this.n > 0 ? this.he[0] : -1;
  }

  /**
   * Sets `entity`'s single pending event to `timeS`, replacing any earlier one. Every call takes a
   * fresh sequence number, so a moved event runs after events already scheduled at the same time.
   */
  schedule(entity: number, timeS: number): void {
    const pos = this.pos;
    if (!isEntityId(entity, pos.length)) badEntity(entity, pos.length);
    if (timeS !== timeS) badTime(entity);
    const s = this.seq++;
    const i = pos[entity];
    if (i < 0) {
      this.up(this.n++, timeS, s, entity);
    } else if (timeS < this.ht[i]) {
      this.up(i, timeS, s, entity);
    } else {
      // The new seq is the largest so far, so an equal-or-later time can only move down. This is
      // also the pop-free path for an entity at the top rescheduling itself: one sift-down.
      this.down(i, timeS, s, entity);
    }
  }

  /** Drops `entity`'s pending event; a no-op if it has none. */
  cancel(entity: number): void {
    if (!isEntityId(entity, this.pos.length)) return;
    const i = this.pos[entity];
    if (i < 0) return;
    this.pos[entity] = -1;
    this.fill(i);
  }

  /** Removes the event with the smallest (time, seq) and returns its entity, or `-1` when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const e = this.he[0];
    this.pos[e] = -1;
    this.fill(0);
    return e;
  }

  /** Closes the hole at slot `i` with the last element, which may belong above or below it. */
  private fill(i: number): void {
    const last = --this.n;
    if (i === last) return;
    const t = this.ht[last];
    const s = this.hs[last];
    const e = this.he[last];
    if (i > 0) {
      const p = (i - 1) >> 3;
      const pt = this.ht[p];
      if (t < pt || (t === pt && s < this.hs[p])) {
        this.up(i, t, s, e);
        return;
      }
    }
    this.down(i, t, s, e);
  }

  /** Moves the hole at `i` up until (t, s) fits, then writes it once. */
  private up(i: number, t: number, s: number, e: number): void {
    const ht = this.ht;
    const hs = this.hs;
    const he = this.he;
    const pos = this.pos;
    while (i > 0) {
      const p = (i - 1) >> 3;
      const pt = ht[p];
      if (t > pt || (t === pt && s > hs[p])) break;
      ht[i] = pt;
      hs[i] = hs[p];
      const pe = he[p];
      he[i] = pe;
      pos[pe] = i;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }

  /** Moves the hole at `i` down along smallest children until (t, s) fits, then writes it once. */
  private down(i: number, t: number, s: number, e: number): void {
    const ht = this.ht;
    const hs = this.hs;
    const he = this.he;
    const pos = this.pos;
    const n = this.n;
    for (;;) {
      const c = (i << 3) + 1;
      if (c >= n) break;
      let m = c;
      let mt = ht[c];
      let ms = hs[c];
      const end = c + 8 < n ? c + 8 : n;
      for (let k = c + 1; k < end; k++) {
        const kt = ht[k];
        if (kt < mt || (kt === mt && hs[k] < ms)) {
          m = k;
          mt = kt;
          ms = hs[k];
        }
      }
      if (t < mt || (t === mt && s < ms)) break;
      ht[i] = mt;
      hs[i] = ms;
      const me = he[m];
      he[i] = me;
      pos[me] = i;
      i = m;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }
}

/** 4-ary variant of the indexed event queue (the simulator's queue until the tournament tree). */
export class QuaternaryEventQueue {
  /** Event time at each heap slot; heap order, so siblings compared in sift-down share a cache line. */
  private readonly ht: Float64Array;
  /** Tie-break sequence number at each heap slot (Float64: exact past 2^32, up to 2^53). */
  private readonly hs: Float64Array;
  /** Entity id at each heap slot. */
  private readonly he: Int32Array;
  /** Heap slot of each entity, or -1 when it has no pending event. */
  private readonly pos: Int32Array;
  private n = 0;
  private seq = 0;

  /** @param entityCapacity entity ids are `0 .. entityCapacity - 1`. */
  constructor(entityCapacity: number) {
    if (!Number.isInteger(entityCapacity) || entityCapacity < 0 || entityCapacity > 0x7fffffff) {
      throw new RangeError(`entityCapacity must be an integer in [0, 2^31), got ${entityCapacity}`);
    }
    this.ht = new Float64Array(entityCapacity);
    this.hs = new Float64Array(entityCapacity);
    this.he = new Int32Array(entityCapacity);
    this.pos = new Int32Array(entityCapacity).fill(-1);
  }

  /** Number of pending events. */
  get size(): number {
    return this.n;
  }

  /** Whether `entity` has a pending event. */
  has(entity: number): boolean {
    return isEntityId(entity, this.pos.length) && this.pos[entity] >= 0;
  }

  /** Time of the next event, or `Infinity` when empty. */
  peekTime(): number {
    return this.n > 0 ? this.ht[0] : Infinity;
  }

  /** Entity of the next event, or `-1` when empty. */
  peekEntity(): number {
    return this.n > 0 ? this.he[0] : -1;
  }

  /** Sequence number of the next event, or `Infinity` when empty. */
  peekSeq(): number {
    return this.n > 0 ? this.hs[0] : Infinity;
  }

  /**
   * Takes the next sequence number without scheduling anything: for a caller that keeps a few
   * events of its own outside the heap (the simulator's arrival streams) and must still order
   * them against the heap's events exactly as if they were in it.
   */
  takeSeq(): number {
    return this.seq++;
  }

  /**
   * Sets `entity`'s single pending event to `timeS`, replacing any earlier one. Every call takes a
   * fresh sequence number, so a moved event runs after events already scheduled at the same time.
   */
  schedule(entity: number, timeS: number): void {
    const pos = this.pos;
    if (!isEntityId(entity, pos.length)) badEntity(entity, pos.length);
    if (timeS !== timeS) badTime(entity);
    const s = this.seq++;
    const i = pos[entity];
    if (i < 0) {
      this.up(this.n++, timeS, s, entity);
    } else if (timeS < this.ht[i]) {
      this.up(i, timeS, s, entity);
    } else {
      // The new seq is the largest so far, so an equal-or-later time can only move down. This is
      // also the pop-free path for an entity at the top rescheduling itself: one sift-down.
      this.down(i, timeS, s, entity);
    }
  }

  /** Drops `entity`'s pending event; a no-op if it has none. */
  cancel(entity: number): void {
    if (!isEntityId(entity, this.pos.length)) return;
    const i = this.pos[entity];
    if (i < 0) return;
    this.pos[entity] = -1;
    this.fill(i);
  }

  /** Removes the event with the smallest (time, seq) and returns its entity, or `-1` when empty. */
  pop(): number {
    if (this.n === 0) return -1;
    const e = this.he[0];
    this.pos[e] = -1;
    this.fill(0);
    return e;
  }

  /** Closes the hole at slot `i` with the last element, which may belong above or below it. */
  private fill(i: number): void {
    const last = --this.n;
    if (i === last) return;
    const t = this.ht[last];
    const s = this.hs[last];
    const e = this.he[last];
    if (i > 0) {
      const p = (i - 1) >> 2;
      const pt = this.ht[p];
      if (t < pt || (t === pt && s < this.hs[p])) {
        this.up(i, t, s, e);
        return;
      }
    }
    this.down(i, t, s, e);
  }

  /** Moves the hole at `i` up until (t, s) fits, then writes it once. */
  private up(i: number, t: number, s: number, e: number): void {
    const ht = this.ht;
    const hs = this.hs;
    const he = this.he;
    const pos = this.pos;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = ht[p];
      if (t > pt || (t === pt && s > hs[p])) break;
      ht[i] = pt;
      hs[i] = hs[p];
      const pe = he[p];
      he[i] = pe;
      pos[pe] = i;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }

  /** Moves the hole at `i` down along smallest children until (t, s) fits, then writes it once. */
  private down(i: number, t: number, s: number, e: number): void {
    const ht = this.ht;
    const hs = this.hs;
    const he = this.he;
    const pos = this.pos;
    const n = this.n;
    for (;;) {
      const c = (i << 2) + 1;
      if (c >= n) break;
      let m = c;
      let mt = ht[c];
      let ms = hs[c];
      const end = c + 4 < n ? c + 4 : n;
      for (let k = c + 1; k < end; k++) {
        const kt = ht[k];
        if (kt < mt || (kt === mt && hs[k] < ms)) {
          m = k;
          mt = kt;
          ms = hs[k];
        }
      }
      if (t < mt || (t === mt && s < ms)) break;
      ht[i] = mt;
      hs[i] = ms;
      const me = he[m];
      he[i] = me;
      pos[me] = i;
      i = m;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }
}
