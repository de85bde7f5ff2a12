import { expect } from 'vitest';
import type { Fleet } from '../../src/serving/fleet.js';
import { kvBlocksAt } from '../../src/serving/kv-blocks.js';
import { NONE } from '../../src/engine/requests.js';

/** Checks the cache's bookkeeping against the batches: references, LRU lists, capacities. */
export function checkInvariants(f: Fleet): void {
  const c = f.cache!;
  const rq = f.requests;
  const counted = new Map<number, number>();
  for (let r = 0; r < f.replicas; r++) {
    if (f.caching[r] === 0) continue;
    let shared = 0;
    for (let i = 0; i < f.batch[r]; i++) {
      const q = f.slots[f.slotBase[r] + i];
      let e = rq.lastEntry[q];
      for (let k = rq.sharedBlocks[q] - 1; k >= 0; k--) {
        if (e === NONE || c.owner[e] !== r || c.index[e] !== k) throw new Error(`replica ${r}: request ${rq.seq[q]}'s block ${k} is not in its cache`);
        counted.set(e, (counted.get(e) ?? 0) + 1);
        e = c.parent[e];
      }
      shared += rq.sharedBlocks[q] * f.blockTokens[r];
    }
    expect(f.sharedTokens[r]).toBe(shared);
    let listed = 0;
    for (let e = c.lruHead[r]; e !== NONE; e = c.next[e]) {
      if (c.ref[e] !== 0) throw new Error(`replica ${r}: a referenced block is in the evictable list`);
      listed++;
    }
    expect(listed).toBe(c.evictable[r]);
    const priv = f.batch[r] === 0 ? 0 : kvBlocksAt(f, r, f.step[r]);
    expect(priv + c.referenced[r]).toBeLessThanOrEqual(f.kvTotalBlocks[r]);
    expect(f.kvCapacityBlocks[r]).toBe(f.kvTotalBlocks[r] - c.referenced[r]);
  }
  let referenced = 0;
  for (const [e, n] of counted) {
    if (c.ref[e] !== n) throw new Error(`block entry ${e}: ${c.ref[e]} references recorded, ${n} requests hold it`);
    referenced++;
  }
  let total = 0;
  for (let r = 0; r < f.replicas; r++) total += f.caching[r] === 0 ? 0 : c.referenced[r];
  expect(total).toBe(referenced);
}

