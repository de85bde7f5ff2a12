import { expect } from 'vitest';
import type { Fleet } from '../../src/serving/fleet.js';
import { kvBlocksAt } from '../../src/serving/kv-blocks.js';
import { NONE } from '../../src/engine/requests.js';
import { RandomStream } from '../../src/workload/rng.js';

/** Checks the cache's bookkeeping against the batches: references, extents, LRU lists, capacities. */
export function checkInvariants(f: Fleet): void {
  const c = f.cache!;
  const rq = f.requests;
  const counted = new Map<number, number>();
  for (let r = 0; r < f.replicas; r++) {
    if (f.caching[r] === 0) continue;
    let shared = 0;
    for (let i = 0; i < f.batch[r]; i++) {
      const q = f.slots[f.slotBase[r] + i];
      const B = f.blockTokens[r];
      const g = rq.prefixChain[q] === NONE ? 0 : Math.floor(rq.prefixTokens[q] / B);
      const n = rq.sharedBlocks[q];
      // The request holds all g blocks of its prefix group and the rest of its shared blocks in its conversation's extent.
      const parts: [number, number, number, number][] = [];
      if (rq.chainLeaf[q] !== NONE) {
        // A trace row with hash ids holds every node of its chain (serving/block-chains.ts): segment −2 − node.
        const ch = c.chains;
        let total = 0;
        for (let node = rq.chainLeaf[q]; node !== NONE; node = ch.parent[node]) {
          const end = Math.min(ch.startTokens[node] + ch.widthTokens[node], rq.promptTokens[q]);
          const need = Math.floor(Math.max(0, end - ch.startTokens[node]) / B);
          if (need > 0) parts.push([c.find(r, -2 - node), -2 - node, ch.startTokens[node] / B, need]);
          total += need;
        }
        expect(total).toBe(n);
      } else {
        if (g > 0) parts.push([rq.prefixEntry[q], rq.prefixChain[q], 0, g]);
        if (n > g) parts.push([rq.lastEntry[q], rq.sessionChain[q], g, n - g]);
      }
      for (const [e, seg, first, need] of parts) {
        if (e === NONE || c.live[e] !== 1 || c.owner[e] !== r || c.segment[e] !== seg || c.first[e] !== first || c.count[e] < need) {
          throw new Error(`replica ${r}: request ${rq.seq[q]}'s blocks of segment ${seg} are not in its cache`);
        }
        counted.set(e, (counted.get(e) ?? 0) + 1);
      }
      shared += n * B;
    }
    expect(f.sharedTokens[r]).toBe(shared);
    let listed = 0;
    for (let e = c.lruHead[r]; e !== NONE; e = c.next[e]) {
      if (c.ref[e] !== 0) throw new Error(`replica ${r}: a referenced extent is in the evictable list`);
      listed += c.count[e];
    }
    expect(listed).toBe(c.evictable[r]);
    let referenced = 0;
    for (let e = 0; e < c.slots; e++) if (c.live[e] === 1 && c.owner[e] === r && c.ref[e] > 0) referenced += c.count[e];
    expect(referenced).toBe(c.referenced[r]);
    const priv = f.batch[r] === 0 ? 0 : kvBlocksAt(f, r, f.step[r]);
    expect(priv + c.referenced[r]).toBeLessThanOrEqual(f.kvTotalBlocks[r]);
    expect(f.kvCapacityBlocks[r]).toBe(f.kvTotalBlocks[r] - c.referenced[r]);
  }
  for (const [e, n] of counted) {
    if (c.ref[e] !== n) throw new Error(`extent ${e}: ${c.ref[e]} references recorded, ${n} requests hold it`);
  }
  for (let e = 0; e < c.slots; e++) {
    if (c.live[e] === 1 && c.ref[e] > 0 && !counted.has(e)) throw new Error(`extent ${e}: referenced by no request in a batch`);
  }
}

/** The prefix groups fleetsim draws for the first n requests of workload `name` (its `prefix/NAME` stream, replayed). */
export function groupDraws(seed: number, name: string, groups: number, n: number): number[] {
  const rng = new RandomStream(seed, `prefix/${name}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    rng.next(); // the share draw
    out.push(Math.floor(rng.next() * groups));
  }
  return out;
}
