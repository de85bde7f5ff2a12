/**
 * Outstanding requests (waiting or in a batch) per replica, and for each group of replicas the
 * smallest of their loads, kept exact in O(1) per change. A load only ever moves by one, so a count
 * of the group's replicas at each load says when the smallest level empties: the new smallest is
 * then one level up. Least-outstanding routing reads the smallest load per group and walks a group
 * only as far as its first replica at that load, instead of reading every replica of the model on
 * every arrival.
 */
export class LoadIndex {
  /** Requests waiting at or batched on each replica. */
  readonly load: Int32Array;
  /** Per group, the smallest load of its replicas (groups are never empty). */
  readonly minLoad: Int32Array;
  /** [group · levels + load]: how many of the group's replicas have that load. */
  private levelCount: Int32Array;
  private levels = 64;

  /** @param groupOf per replica, its group in 0..groups−1, or −1 for a replica no group holds. */
  constructor(
    private readonly groupOf: Int32Array,
    private readonly groups: number,
  ) {
    this.load = new Int32Array(groupOf.length);
    this.minLoad = new Int32Array(groups);
    this.levelCount = new Int32Array(groups * this.levels);
    for (const g of groupOf) if (g >= 0) this.levelCount[g * this.levels]++;
  }

  increment(r: number): void {
    const from = this.load[r]++;
    const g = this.groupOf[r];
    if (g < 0) return;
    if (from + 1 >= this.levels) this.grow(from + 2);
    const i = g * this.levels + from;
    const left = --this.levelCount[i];
    this.levelCount[i + 1]++;
    if (left === 0 && from === this.minLoad[g]) this.minLoad[g] = from + 1;
  }

  decrement(r: number): void {
    const from = this.load[r]--;
    const g = this.groupOf[r];
    if (g < 0) return;
    const i = g * this.levels + from;
    this.levelCount[i]--;
    this.levelCount[i - 1]++;
    if (from <= this.minLoad[g]) this.minLoad[g] = from - 1;
  }

  /** The first replica from `first` on whose load is `load` (the caller knows one exists). */
  firstAt(first: number, load: number): number {
    const loads = this.load;
    let r = first;
    while (loads[r] !== load) r++;
    return r;
  }

  /** Makes room for loads up to `needed − 1`: queues can grow without bound under overload. */
  private grow(needed: number): void {
    let levels = this.levels;
    while (levels < needed) levels *= 2;
    const counts = new Int32Array(this.groups * levels);
    for (let g = 0; g < this.groups; g++) {
      counts.set(this.levelCount.subarray(g * this.levels, (g + 1) * this.levels), g * levels);
    }
    this.levelCount = counts;
    this.levels = levels;
  }
}
