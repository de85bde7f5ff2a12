/**
 * The storage of the prefix cache (prefix-cache.ts has the policy): per replica, *extents* of
 * shared KV blocks keyed by (replica, segment), each `count` blocks from its segment's first,
 * reference-counted, and the unreferenced ones in a least-recently-used list. A segment is a
 * prefix group or a conversation (prefix-cache.ts), or one hash block of a trace's block chain
 * (block-chains.ts).
 *
 * Extents live in typed arrays (a free list, grown by doubling) and an open-addressing table of
 * (replica, segment); nothing is allocated per request once the arrays have grown.
 */
import { grown } from '../engine/grow.js';
import { NONE } from '../engine/requests.js';
import { ChainTable } from './chain-table.js';
import { HostTier } from './host-tier.js';

const EMPTY = -1;

export class PrefixCache {
  /** Per extent: replica, segment id, block index of its first block, blocks held, reference count, LRU links, table slot. */
  owner = new Int32Array(0);
  segment = new Int32Array(0);
  first = new Int32Array(0);
  count = new Int32Array(0);
  ref = new Int32Array(0);
  prev = new Int32Array(0);
  next = new Int32Array(0);
  slot = new Int32Array(0);
  live = new Uint8Array(0);
  /** Per extent, with a host tier: blocks of the segment on the host (after the GPU's count), its newest and oldest host pieces (host-tier.ts). */
  hostCount = new Int32Array(0);
  hostNewest = new Int32Array(0);
  hostOldest = new Int32Array(0);
  private capacity = 0;
  private freeHead = NONE;
  private used = 0;
  private table = new Int32Array(0);
  private mask = 0;
  /** Per replica: LRU list of unreferenced extents (head is evicted first), their blocks, and referenced blocks. */
  readonly lruHead: Int32Array;
  readonly lruTail: Int32Array;
  readonly evictable: Int32Array;
  readonly referenced: Int32Array;
  /** Blocks evicted per replica (a diagnostic the tests read). */
  readonly evictions: Float64Array;
  /** The hash chains of traces with block hashes, shared by every replica (block-chains.ts). */
  readonly chains = new ChainTable();
  /** The host-memory tier evicted blocks are demoted to (deployment `kv_offload`), or null when no deployment offloads. */
  readonly host: HostTier | null;

  /** hostBlocks, hostSPerBlock: per replica, the host tier's blocks and seconds to copy one to the GPU (null: no host tier). */
  constructor(replicas: number, hostBlocks: Float64Array | null = null, hostSPerBlock: Float64Array | null = null) {
    this.host = hostBlocks === null ? null : new HostTier(hostBlocks, hostSPerBlock!);
    this.lruHead = new Int32Array(replicas).fill(NONE);
    this.lruTail = new Int32Array(replicas).fill(NONE);
    this.evictable = new Int32Array(replicas);
    this.referenced = new Int32Array(replicas);
    this.evictions = new Float64Array(replicas);
    this.grow();
  }

  /** Slots of the entry arrays (live or free; tests walk them). */
  get slots(): number {
    return this.capacity;
  }

  private hashSlot(r: number, seg: number): number {
    let h = Math.imul(seg ^ 0x27d4eb2d, 0x85ebca6b) ^ Math.imul(r + 1, 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** The extent of segment seg on replica r, or NONE. */
  find(r: number, seg: number): number {
    const t = this.table;
    let s = this.hashSlot(r, seg);
    for (;;) {
      const e = t[s];
      if (e === EMPTY) return NONE;
      if (this.segment[e] === seg && this.owner[e] === r) return e;
      s = (s + 1) & this.mask;
    }
  }

  /** A new, empty, unreferenced extent of segment seg on replica r starting at block `first`; the caller knows it is absent. */
  insert(r: number, seg: number, first: number): number {
    if (this.freeHead === NONE || 2 * (this.used + 1) > this.table.length) this.grow();
    const e = this.freeHead;
    this.freeHead = this.next[e];
    this.used++;
    this.live[e] = 1;
    this.owner[e] = r;
    this.segment[e] = seg;
    this.first[e] = first;
    this.count[e] = 0;
    this.ref[e] = 0;
    this.hostCount[e] = 0;
    this.hostNewest[e] = NONE;
    this.hostOldest[e] = NONE;
    this.place(e);
    return e;
  }

  private place(e: number): void {
    const t = this.table;
    let s = this.hashSlot(this.owner[e], this.segment[e]);
    while (t[s] !== EMPTY) s = (s + 1) & this.mask;
    t[s] = e;
    this.slot[e] = s;
  }

  /** Takes an unreferenced extent out of its replica's LRU list (it is about to be referenced or dropped). */
  unlink(e: number): void {
    const r = this.owner[e];
    const p = this.prev[e];
    const n = this.next[e];
    if (p === NONE) this.lruHead[r] = n;
    else this.next[p] = n;
    if (n === NONE) this.lruTail[r] = p;
    else this.prev[n] = p;
    this.evictable[r] -= this.count[e];
  }

  /** Appends an unreferenced extent to its replica's LRU list: the most recently used. */
  append(e: number): void {
    const r = this.owner[e];
    const t = this.lruTail[r];
    this.prev[e] = t;
    this.next[e] = NONE;
    if (t === NONE) this.lruHead[r] = e;
    else this.next[t] = e;
    this.lruTail[r] = e;
    this.evictable[r] += this.count[e];
  }

  /**
   * Gives up replica r's `blocks` least recently used evictable blocks: the oldest extent's last
   * blocks first, demoted to the host tier when there is one (`demote` false: dropped, an outage).
   * An extent whose last GPU block goes stays while the host holds some of its blocks.
   */
  evict(r: number, blocks: number, demote = true): void {
    const host = demote ? this.host : null;
    while (blocks > 0) {
      const e = this.lruHead[r];
      const k = blocks < this.count[e] ? blocks : this.count[e];
      if (host !== null) host.demote(this, e, k);
      this.count[e] -= k;
      this.evictable[r] -= k;
      this.evictions[r] += k;
      blocks -= k;
      if (this.count[e] === 0) {
        this.unlink(e);
        if (this.hostCount[e] === 0) this.remove(e);
      }
    }
  }

  /** Removes an extent from the table (backward-shift deletion keeps probe chains whole) and frees it. */
  remove(e: number): void {
    const t = this.table;
    const m = this.mask;
    let hole = this.slot[e];
    let s = (hole + 1) & m;
    for (;;) {
      const x = t[s];
      if (x === EMPTY) break;
      const home = this.hashSlot(this.owner[x], this.segment[x]);
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

  /** Drops every extent of replica r (an outage loses the replica's memory); none may be referenced. */
  clearReplica(r: number): void {
    if (this.evictable[r] > 0) this.evict(r, this.evictable[r], false);
    if (this.host !== null) this.host.clearReplica(this, r);
  }

  /** Doubles the entry arrays and the table; the only allocation, amortised over a run's growth. */
  private grow(): void {
    const old = this.capacity;
    const cap = Math.max(1024, old * 2);
    this.owner = grown(this.owner, cap);
    this.segment = grown(this.segment, cap);
    this.first = grown(this.first, cap);
    this.count = grown(this.count, cap);
    this.ref = grown(this.ref, cap);
    this.prev = grown(this.prev, cap);
    this.next = grown(this.next, cap);
    this.slot = grown(this.slot, cap);
    this.hostCount = grown(this.hostCount, cap);
    this.hostNewest = grown(this.hostNewest, cap);
    this.hostOldest = grown(this.hostOldest, cap);
    for (let i = cap - 1; i >= old; i--) {
      this.next[i] = this.freeHead;
      this.freeHead = i;
    }
    this.capacity = cap;
    this.table = new Int32Array(4 * cap).fill(EMPTY);
    this.mask = 4 * cap - 1;
    const live = (this.live = grown(this.live, cap));
    for (let e = 0; e < old; e++) if (live[e] === 1) this.place(e);
  }
}

/** Blocks an extent holding `count` of `need` contributes to a request's references when it takes them. */
export function newRefs(c: PrefixCache, e: number, need: number): number {
  if (e === NONE || c.ref[e] === 0) return need;
  return need > c.count[e] ? need - c.count[e] : 0;
}

/** References `need` blocks of segment seg from block `first` on replica r for one more request; returns the extent. */
export function take(c: PrefixCache, r: number, seg: number, first: number, need: number): number {
  let e = c.find(r, seg);
  if (e === NONE) e = c.insert(r, seg, first);
  if (c.ref[e] === 0) {
    if (c.count[e] > 0) c.unlink(e);
    c.referenced[r] += need;
  } else if (need > c.count[e]) c.referenced[r] += need - c.count[e];
  if (need > c.count[e]) {
    // The blocks it adds are the first of the segment's host run, if any (host-tier.ts).
    if (c.host !== null && c.hostCount[e] > 0) c.host.promote(c, e, need - c.count[e]);
    c.count[e] = need;
  }
  c.ref[e]++;
  return e;
}

/** Drops one reference to extent e; returns the blocks that stop being referenced (the whole extent when it was the last). */
export function drop(c: PrefixCache, e: number): number {
  if (--c.ref[e] !== 0) return 0;
  const r = c.owner[e];
  c.referenced[r] -= c.count[e];
  c.append(e);
  return c.count[e];
}
