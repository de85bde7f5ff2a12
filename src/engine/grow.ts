/**
 * Growing a struct-of-arrays column: a new typed array of the same kind, the old values copied in.
 * Every table that grows by doubling (requests, sessions, the prefix cache, trace columns) uses it,
 * so growth is one amortised copy and never a per-event allocation.
 */
export type Column = Float64Array | Int32Array | Uint8Array;

/** A copy of `a` in a new array of `length` (≥ a.length) elements, the rest zero. */
export function grown<T extends Column>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
