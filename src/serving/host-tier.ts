/**
 * The host-memory KV tier (deployment `kv_offload: { gb, gbps }`; docs/prefix-caching.md#host-offload),
 * the second tier of vLLM's CPU offloading, LMCache's CPU backend and SGLang's HiCache: blocks the
 * GPU cache evicts (unreferenced, least recently used) are demoted here instead of dropped, and a
 * later request whose prompt runs into them promotes them back (copied over PCIe, prefill skipped).
 * The tiers are exclusive: a block is on the GPU or on the host, never both.
 *
 * The GPU cache evicts an extent's blocks from its end, so what the host holds of a segment is one
 * run of blocks starting right after the GPU's (`hostCount[e]` of extent e, kept alive with count 0
 * while the host holds its blocks); a promotion takes the run's first blocks. The host is its own
 * block-level LRU: each demotion is a *piece* (the blocks one eviction gave up, all demoted at
 * once) at the tail of the replica's host list, and since a segment's earlier demotions are its
 * later blocks, a segment's oldest piece is always its run's end. So evicting the host list's head
 * piece from its end, and promoting from the run's newest piece, is exactly a block-by-block LRU
 * over the host (test/kv-offload.test.ts checks it against an independent two-tier reference).
 *
 * Pieces live in typed arrays with a free list, grown by doubling; nothing is allocated per request.
 */
import { grown } from '../engine/grow.js';
import { NONE } from '../engine/requests.js';
import type { PrefixCache } from './prefix-store.js';

export class HostTier {
  /** Per piece: its extent, blocks, the replica's host LRU links, and its extent's newer and older pieces. */
  pExtent = new Int32Array(0);
  pCount = new Int32Array(0);
  pPrev = new Int32Array(0);
  pNext = new Int32Array(0);
  pNewer = new Int32Array(0);
  pOlder = new Int32Array(0);
  private freeHead = NONE;
  /** Per replica: host LRU list of pieces (head demoted first, evicted first), blocks held, capacity. */
  readonly lruHead: Int32Array;
  readonly lruTail: Int32Array;
  readonly used: Float64Array;
  readonly capacityBlocks: Float64Array;
  /** Per replica: seconds to copy one KV block from host to GPU (bytes per block / gbps). */
  readonly sPerBlock: Float64Array;
  /** Per replica: blocks demoted, dropped from the host (its own LRU), promoted (diagnostics the tests read). */
  readonly demoted: Float64Array;
  readonly dropped: Float64Array;
  readonly promoted: Float64Array;

  constructor(capacityBlocks: Float64Array, sPerBlock: Float64Array) {
    const R = capacityBlocks.length;
    this.capacityBlocks = capacityBlocks;
    this.sPerBlock = sPerBlock;
    this.lruHead = new Int32Array(R).fill(NONE);
    this.lruTail = new Int32Array(R).fill(NONE);
    this.used = new Float64Array(R);
    this.demoted = new Float64Array(R);
    this.dropped = new Float64Array(R);
    this.promoted = new Float64Array(R);
    this.grow();
  }

  private grow(): void {
    const old = this.pExtent.length;
    const cap = Math.max(1024, old * 2);
    this.pExtent = grown(this.pExtent, cap);
    this.pCount = grown(this.pCount, cap);
    this.pPrev = grown(this.pPrev, cap);
    this.pNext = grown(this.pNext, cap);
    this.pNewer = grown(this.pNewer, cap);
    this.pOlder = grown(this.pOlder, cap);
    for (let i = cap - 1; i >= old; i--) {
      this.pNext[i] = this.freeHead;
      this.freeHead = i;
    }
  }

  /** Takes piece p off its replica's LRU list and its extent's piece list, and frees it. */
  private free(c: PrefixCache, r: number, p: number): void {
    const e = this.pExtent[p];
    const prev = this.pPrev[p];
    const next = this.pNext[p];
    if (prev === NONE) this.lruHead[r] = next;
    else this.pNext[prev] = next;
    if (next === NONE) this.lruTail[r] = prev;
    else this.pPrev[next] = prev;
    const newer = this.pNewer[p];
    const older = this.pOlder[p];
    if (newer === NONE) c.hostNewest[e] = older;
    else this.pOlder[newer] = older;
    if (older === NONE) c.hostOldest[e] = newer;
    else this.pNewer[older] = newer;
    this.pNext[p] = this.freeHead;
    this.freeHead = p;
  }

  /** Gives up replica r's `blocks` least recently demoted host blocks; an extent left with no block in either tier is removed. */
  private drop(c: PrefixCache, r: number, blocks: number): void {
    while (blocks > 0) {
      const p = this.lruHead[r];
      const e = this.pExtent[p];
      const k = blocks < this.pCount[p] ? blocks : this.pCount[p];
      this.pCount[p] -= k;
      c.hostCount[e] -= k;
      this.used[r] -= k;
      this.dropped[r] += k;
      blocks -= k;
      if (this.pCount[p] === 0) {
        this.free(c, r, p);
        if (c.hostCount[e] === 0 && c.count[e] === 0 && c.ref[e] === 0) c.remove(e);
      }
    }
  }

  /**
   * The GPU cache is evicting the last k of extent e's `count` blocks (e still holds them): they
   * become the front of its host run, the replica's most recent host blocks. Room is made first
   * from the oldest host blocks; a tier smaller than k keeps only the k blocks' first.
   */
  demote(c: PrefixCache, e: number, k: number): void {
    const r = c.owner[e];
    const cap = this.capacityBlocks[r];
    const over = this.used[r] + k - cap;
    if (over > 0) this.drop(c, r, over < this.used[r] ? over : this.used[r]);
    const kept = k < cap ? k : cap;
    if (kept === 0) return;
    this.used[r] += kept;
    this.demoted[r] += kept;
    c.hostCount[e] += kept;
    const front = c.hostNewest[e];
    // Nothing was demoted since this extent's last piece: the blocks join it.
    if (front !== NONE && front === this.lruTail[r]) {
      this.pCount[front] += kept;
      return;
    }
    if (this.freeHead === NONE) this.grow();
    const p = this.freeHead;
    this.freeHead = this.pNext[p];
    this.pExtent[p] = e;
    this.pCount[p] = kept;
    const tail = this.lruTail[r];
    this.pPrev[p] = tail;
    this.pNext[p] = NONE;
    if (tail === NONE) this.lruHead[r] = p;
    else this.pNext[tail] = p;
    this.lruTail[r] = p;
    this.pNewer[p] = NONE;
    this.pOlder[p] = front;
    if (front === NONE) c.hostOldest[e] = p;
    else this.pNewer[front] = p;
    c.hostNewest[e] = p;
  }

  /**
   * Extent e's GPU blocks grow by `blocks` (promoted from the host, or computed afresh): the first
   * `blocks` of its host run leave the host (they are the GPU's now; the tiers are exclusive).
   */
  promote(c: PrefixCache, e: number, blocks: number): void {
    const r = c.owner[e];
    let m = blocks < c.hostCount[e] ? blocks : c.hostCount[e];
    this.promoted[r] += m;
    c.hostCount[e] -= m;
    this.used[r] -= m;
    while (m > 0) {
      const p = c.hostNewest[e];
      const k = m < this.pCount[p] ? m : this.pCount[p];
      this.pCount[p] -= k;
      m -= k;
      if (this.pCount[p] === 0) this.free(c, r, p);
    }
  }

  /** Drops every host block of replica r (an outage or a scale-down loses the host's memory too). */
  clearReplica(c: PrefixCache, r: number): void {
    if (this.used[r] > 0) this.drop(c, r, this.used[r]);
  }
}

/** Host blocks of extent e a request needing `need` blocks of it finds after the GPU's (0 without a host tier). */
export function hostRun(c: PrefixCache, e: number, need: number): number {
  if (c.host === null || e === NONE) return 0;
  const gap = need - c.count[e];
  if (gap <= 0) return 0;
  return c.hostCount[e] < gap ? c.hostCount[e] : gap;
}

/** Of h host blocks found from block `at` of the run, those before block `cap` (skipped, so copied from the host). */
export function copiedBlocks(at: number, h: number, cap: number): number {
  if (at >= cap) return 0;
  return at + h <= cap ? h : cap - at;
}
