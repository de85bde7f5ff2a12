/**
 * Automatic prefix caching (vLLM's, per replica): full KV blocks of shared prompt content stay in
 * the replica's cache after the requests that computed them are gone, and a later request whose
 * prompt starts with them skips their prefill and shares their memory.
 *
 * A block is identified by (segment, block index): block i of a prompt whose first `prefixTokens`
 * tokens are shared prefix `chain` is (chain, i) while (i + 1)·B ≤ prefixTokens, then (session, i)
 * for a conversation's own history. vLLM keys a block by a hash chained over every earlier block
 * (hash(parent hash, block tokens)); here a segment id fixes the content of every block before
 * it (a session belongs to one prefix group), so two blocks have the same key exactly when their
 * chained hashes would be equal, with no hashing and no collisions.
 *
 * An entry is referenced (ref > 0) while requests in the replica's batch use it, and otherwise
 * sits in the replica's LRU list of evictable blocks, which count as free memory: the fleet's
 * `kvCapacityBlocks[r]` is the replica's blocks minus its *referenced* entries, so admission,
 * decode-run planning and preemption keep working on private blocks alone. Evictable blocks are
 * given up least recently used first whenever private + referenced + evictable would exceed the
 * cache (`reconcile`). Private blocks only grow between the points where reconcile runs (every
 * admission, every departure from a batch), so evicting there loses the same blocks, in the same
 * order, as evicting at each moment the memory was taken, and the step-by-step and collapsed
 * engines, which agree on those points, agree on the cache.
 *
 * Entries live in typed arrays (a free list, grown by doubling) and an open-addressing table of
 * (replica, segment, index); nothing is allocated per request once the arrays have grown.
 */
import type { Fleet } from './fleet.js';
import { NONE, type RequestTable } from '../engine/requests.js';
import { kvBlocksAt, kvBlocksBound } from './kv-blocks.js';

const EMPTY = -1;

export class PrefixCache {
  /** Per entry: replica, segment id, block index, reference count, LRU links, parent entry, table slot. */
  owner = new Int32Array(0);
  segment = new Int32Array(0);
  index = new Int32Array(0);
  ref = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  parent = new Int32Array(0);
  slot = new Int32Array(0);
  private live = new Uint8Array(0);
  private capacity = 0;
  private freeHead = NONE;
  private used = 0;
  private table = new Int32Array(0);
  private mask = 0;
  /** Per replica: LRU list of evictable entries (head is evicted first), their count, and referenced entries. */
  readonly lruHead: Int32Array;
  readonly lruTail: Int32Array;
  readonly evictable: Int32Array;
  readonly referenced: Int32Array;
  /** Blocks evicted per replica (a diagnostic the tests read). */
  readonly evictions: Float64Array;

  constructor(replicas: number) {
    this.lruHead = new Int32Array(replicas).fill(NONE);
    this.lruTail = new Int32Array(replicas).fill(NONE);
    this.evictable = new Int32Array(replicas);
    this.referenced = new Int32Array(replicas);
    this.evictions = new Float64Array(replicas);
    this.grow();
  }

  get entries(): number {
    return this.used;
  }

  private hashSlot(r: number, seg: number, i: number): number {
    let h = Math.imul(seg ^ 0x27d4eb2d, 0x85ebca6b) ^ Math.imul(i + 0x165667b1, 0xc2b2ae35) ^ Math.imul(r + 1, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** The entry of block (seg, i) on replica r, or NONE. */
  find(r: number, seg: number, i: number): number {
    const t = this.table;
    let s = this.hashSlot(r, seg, i);
    for (;;) {
      const e = t[s];
      if (e === EMPTY) return NONE;
      if (this.index[e] === i && this.segment[e] === seg && this.owner[e] === r) return e;
      s = (s + 1) & this.mask;
    }
  }

  /** A new entry for block (seg, i) on replica r, referenced once; the caller knows it is absent. */
  insert(r: number, seg: number, i: number, parent: number): number {
    if (this.freeHead === NONE || 2 * (this.used + 1) > this.table.length) this.grow();
    const e = this.freeHead;
    this.freeHead = this.next[e];
    this.used++;
    this.live[e] = 1;
    this.owner[e] = r;
    this.segment[e] = seg;
    this.index[e] = i;
    this.ref[e] = 1;
    this.prev[e] = NONE;
    this.next[e] = NONE;
    this.parent[e] = parent;
    this.place(e);
    this.referenced[r]++;
    return e;
  }

  private place(e: number): void {
    const t = this.table;
    let s = this.hashSlot(this.owner[e], this.segment[e], this.index[e]);
    while (t[s] !== EMPTY) s = (s + 1) & this.mask;
    t[s] = e;
    this.slot[e] = s;
  }

  /** Takes an evictable entry out of its replica's LRU list (it is about to be referenced or dropped). */
  unlink(e: number): void {
    const r = this.owner[e];
    const p = this.prev[e];
    const n = this.next[e];
    if (p === NONE) this.lruHead[r] = n;
    else this.next[p] = n;
    if (n === NONE) this.lruTail[r] = p;
    else this.prev[n] = p;
    this.prev[e] = NONE;
    this.next[e] = NONE;
    this.evictable[r]--;
  }

  /** Appends an unreferenced entry to its replica's LRU list: the most recently used. */
  append(e: number): void {
    const r = this.owner[e];
    const t = this.lruTail[r];
    this.prev[e] = t;
    this.next[e] = NONE;
    if (t === NONE) this.lruHead[r] = e;
    else this.next[t] = e;
    this.lruTail[r] = e;
    this.evictable[r]++;
  }

  /** Drops replica r's least recently used evictable entry. */
  evictOldest(r: number): void {
    const e = this.lruHead[r];
    this.unlink(e);
    this.remove(e);
    this.evictions[r]++;
  }

  /** Removes an entry from the table (backward-shift deletion keeps probe chains whole) and frees it. */
  private remove(e: number): void {
    const t = this.table;
    const m = this.mask;
    let hole = this.slot[e];
    let s = (hole + 1) & m;
    for (;;) {
      const x = t[s];
      if (x === EMPTY) break;
      const home = this.hashSlot(this.owner[x], this.segment[x], this.index[x]);
      // x may move into the hole when its home is not cyclically inside (hole, s].
      if (((s - home) & m) >= ((s - hole) & m)) {
        t[hole] = x;
        this.slot[x] = hole;
        hole = s;
      }
      s = (s + 1) & m;
    }
    t[hole] = EMPTY;
    this.live[e] = 0;
    this.next[e] = this.freeHead;
    this.freeHead = e;
    this.used--;
  }

  /** Drops every entry of replica r (an outage loses the replica's memory); none may be referenced. */
  clearReplica(r: number): void {
    while (this.lruHead[r] !== NONE) this.evictOldest(r);
  }

  /** Doubles the entry arrays and the table; the only allocation, amortised over a run's growth. */
  private grow(): void {
    const old = this.capacity;
    const cap = Math.max(1024, old * 2);
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.owner = i32(this.owner);
    this.segment = i32(this.segment);
    this.index = i32(this.index);
    this.ref = i32(this.ref);
    this.prev = i32(this.prev);
    this.next = i32(this.next);
    this.parent = i32(this.parent);
    this.slot = i32(this.slot);
    for (let i = cap - 1; i >= old; i--) {
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
    this.capacity = cap;
    this.table = new Int32Array(4 * cap).fill(EMPTY);
    this.mask = 4 * cap - 1;
    const live = new Uint8Array(cap);
    live.set(this.live);
    this.live = live;
    for (let e = 0; e < old; e++) if (live[e] === 1) this.place(e);
  }
}

/**
 * The shared-content block of request q's block i, given the replica's block size: its segment
 * id, or NONE when block i holds content of this request alone.
 */
function segmentOf(f: Fleet, q: number, i: number, B: number): number {
  const rq = f.requests;
  if ((i + 1) * B <= rq.prefixTokens[q]) return rq.prefixChain[q];
  return rq.sessionChain[q];
}

/** Full blocks of request q's prompt that are shared content (a prefix group's, its session's). */
function cacheableBlocks(f: Fleet, q: number, B: number): number {
  const rq = f.requests;
  if (rq.sessionChain[q] !== NONE) return Math.floor(rq.promptTokens[q] / B);
  if (rq.prefixChain[q] === NONE) return 0;
  return Math.floor(rq.prefixTokens[q] / B);
}

/**
 * Looks up request q's prompt in replica r's cache without changing it. Writes to f.probe:
 * [0] blocks found from the start of the prompt whose prefill is skipped (at most all but the
 * last token's block, as vLLM always computes the last prompt token), [1] blocks q will share
 * (found or not), [2] entries that become referenced (found unreferenced, or new).
 */
export function probe(f: Fleet, r: number, q: number): void {
  const c = f.cache!;
  const B = f.blockTokens[r];
  const n = cacheableBlocks(f, q, B);
  let found = 0;
  let newRefs = 0;
  for (let i = 0; i < n; i++) {
    const e = c.find(r, segmentOf(f, q, i, B), i);
    if (e === NONE) break;
    if (c.ref[e] === 0) newRefs++;
    found++;
  }
  newRefs += n - found;
  const prefillTokens = f.requests.promptTokens[q] + f.requests.generated[q];
  const cap = Math.floor((prefillTokens - 1) / B);
  f.probe[0] = found < cap ? found : cap;
  f.probe[1] = n;
  f.probe[2] = newRefs;
}

/**
 * Request q joins replica r's batch holding the blocks `probe` found: references them (inserting
 * the missing ones) and records how many it shares and how many prompt tokens it skips. Call
 * right after `probe` on the same replica, before addToBatch.
 */
export function acquire(f: Fleet, r: number, q: number): void {
  const c = f.cache!;
  const rq = f.requests;
  const B = f.blockTokens[r];
  const n = f.probe[1];
  let parent = NONE;
  for (let i = 0; i < n; i++) {
    const seg = segmentOf(f, q, i, B);
    let e = c.find(r, seg, i);
    if (e === NONE) e = c.insert(r, seg, i, parent);
    else {
      if (c.ref[e] === 0) {
        c.unlink(e);
        c.referenced[r]++;
      }
      c.ref[e]++;
      c.parent[e] = parent;
    }
    parent = e;
  }
  rq.sharedBlocks[q] = n;
  rq.lastEntry[q] = parent;
  f.kvCapacityBlocks[r] -= f.probe[2];
  const hitTokens = f.probe[0] * B;
  rq.hitTokens[q] = hitTokens;
  // The bill counts the cache hits of the prefill that produced the first token (a recomputation
  // after preemption is the platform's cost, not the tenant's).
  if (rq.firstTokenS[q] < 0) rq.cachedTokens[q] = hitTokens;
}

/**
 * Request q leaves replica r's batch: its shared blocks lose a reference, and those no request
 * uses any more join the LRU list, last block first, as vLLM frees them (so a prompt's tail is
 * evicted before its head). A completed conversation turn leaves its answer cached too, for the
 * next turn. Called after the request's private blocks were given back; the blocks it frees and
 * those it turns into cache are as many as it gave back, so nothing needs evicting.
 */
export function release(f: Fleet, r: number, q: number, completed: boolean): void {
  const c = f.cache!;
  const rq = f.requests;
  const B = f.blockTokens[r];
  const n = rq.sharedBlocks[q];
  let e = rq.lastEntry[q];
  let freed = 0;
  if (completed && rq.sessionChain[q] !== NONE) {
    // The turn's own full blocks past its prompt's (vLLM caches blocks as decoding fills them):
    // they were private, now they are evictable cache, and they are the tail, evicted first.
    const seg = rq.sessionChain[q];
    const full = Math.floor((rq.promptTokens[q] + rq.outputTokens[q]) / B);
    for (let i = full - 1; i >= n; i--) {
      if (c.find(r, seg, i) !== NONE) continue;
      const x = c.insert(r, seg, i, NONE);
      c.ref[x] = 0;
      c.referenced[r]--;
      c.append(x);
    }
  }
  for (let i = 0; i < n; i++) {
    const p = c.parent[e];
    if (--c.ref[e] === 0) {
      c.referenced[r]--;
      c.append(e);
      freed++;
    }
    e = p;
  }
  f.kvCapacityBlocks[r] += freed;
  rq.sharedBlocks[q] = 0;
  rq.lastEntry[q] = NONE;
  rq.hitTokens[q] = 0;
}

/**
 * Evicts replica r's least recently used evictable blocks until its private blocks (exact, at
 * its current step), referenced and evictable blocks fit the cache.
 */
export function reconcile(f: Fleet, r: number): void {
  const c = f.cache!;
  if (c.evictable[r] === 0) return;
  const total = f.kvTotalBlocks[r];
  const held = c.referenced[r] + c.evictable[r];
  const s = f.step[r];
  if (f.batch[r] === 0 ? held <= total : kvBlocksBound(f, r, s) + held <= total) return;
  const priv = f.batch[r] === 0 ? 0 : kvBlocksAt(f, r, s);
  while (c.evictable[r] > 0 && priv + c.referenced[r] + c.evictable[r] > total) c.evictOldest(r);
}

/** Blocks of q's prompt, from the start, in replica r's cache (read-only; for routing). */
export function cachedPrefixBlocks(f: Fleet, r: number, q: number): number {
  const c = f.cache!;
  const B = f.blockTokens[r];
  const n = cacheableBlocks(f, q, B);
  let found = 0;
  while (found < n && c.find(r, segmentOf(f, q, found, B), found) !== NONE) found++;
  return found;
}

/** A new request's prefix-caching fields: its prefix segment and length (NONE, 0: none), nothing held. */
export function resetPrefix(rq: RequestTable, q: number, prefixChain: number, prefixTokens: number): void {
  rq.prefixChain[q] = prefixChain;
  rq.prefixTokens[q] = prefixTokens;
  rq.sessionChain[q] = NONE;
  rq.sharedBlocks[q] = 0;
  rq.lastEntry[q] = NONE;
  rq.hitTokens[q] = 0;
  rq.cachedTokens[q] = 0;
}
