/**
 * The hash chains of a trace that carries block hashes (Mooncake's `hash_ids`), interned: node n
 * is one hash block of some prompt, identified by (its parent node, its hash id), so two requests
 * reach the same node exactly when their hash_ids agree from the first up to it (vLLM's key of a
 * block: a hash of its parent's key and its own content). Interning makes the keys exact integers
 * (no hash collision can merge two prefixes) and the cache keys a node's blocks by its id
 * (block-chains.ts).
 *
 * Nodes are global (every replica's cache uses the same ids) and never removed: the table grows
 * with the trace's distinct prefixes, not with the requests replayed (a looped trace reuses them).
 */
import { grown } from '../engine/grow.js';
import { NONE } from '../engine/requests.js';

const EMPTY = -1;
const TWO_32 = 4294967296;

export class ChainTable {
  /** Per node: parent node (NONE at a prompt's first block), hash id, first token, tokens of a full hash block. */
  parent = new Int32Array(0);
  hash = new Float64Array(0);
  startTokens = new Int32Array(0);
  widthTokens = new Int32Array(0);
  /** Nodes interned so far. */
  size = 0;
  private table = new Int32Array(0);
  private mask = 0;

  constructor() {
    this.grow();
  }

  private hashSlot(parent: number, hash: number): number {
    const lo = hash % TWO_32 | 0;
    const hi = (hash / TWO_32) | 0;
    let h = Math.imul(parent ^ 0x27d4eb2d, 0x85ebca6b) ^ Math.imul(lo ^ 0x165667b1, 0x9e3779b1) ^ Math.imul(hi, 0xc2b2ae35);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /**
   * The node of hash block `hashes[i]` after `parent` (NONE for a prompt's first block), added when
   * new; hash blocks are `width` tokens, so it starts at token start.
   */
  intern(parent: number, hash: number, start: number, width: number): number {
    const t = this.table;
    let s = this.hashSlot(parent, hash);
    for (;;) {
      const n = t[s];
      if (n === EMPTY) break;
      if (this.hash[n] === hash && this.parent[n] === parent) return n;
      s = (s + 1) & this.mask;
    }
    if (2 * (this.size + 1) > t.length) {
      this.grow();
      return this.intern(parent, hash, start, width);
    }
    const n = this.size++;
    this.parent[n] = parent;
    this.hash[n] = hash;
    this.startTokens[n] = start;
    this.widthTokens[n] = width;
    t[s] = n;
    return n;
  }

  /** Interns a prompt's chain of `count` hash ids (each of `width` tokens); returns its last node, or NONE for none. */
  internChain(hashes: Float64Array, count: number, width: number): number {
    let node = NONE;
    for (let i = 0; i < count; i++) node = this.intern(node, hashes[i], i * width, width);
    return node;
  }

  /** Doubles the node arrays and the table (the only allocation, amortised over the trace's distinct prefixes). */
  private grow(): void {
    const cap = Math.max(1024, this.parent.length * 2);
    this.parent = grown(this.parent, cap);
    this.hash = grown(this.hash, cap);
    this.startTokens = grown(this.startTokens, cap);
    this.widthTokens = grown(this.widthTokens, cap);
    this.table = new Int32Array(2 * cap).fill(EMPTY);
    this.mask = 2 * cap - 1;
    for (let n = 0; n < this.size; n++) {
      let s = this.hashSlot(this.parent[n], this.hash[n]);
      while (this.table[s] !== EMPTY) s = (s + 1) & this.mask;
      this.table[s] = n;
    }
  }
}
