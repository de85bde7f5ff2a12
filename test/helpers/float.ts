/** The double k representable steps (ulps) above a non-negative x (below it for negative k), by stepping its bit pattern. */
export function ulpStep(x: number, k: bigint): number {
  bits[0] = x;
  word[0] += k;
  return bits[0];
}

const bits = new Float64Array(1);
const word = new BigUint64Array(bits.buffer);
