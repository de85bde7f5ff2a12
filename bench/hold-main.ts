/**
 * Runs the hold-model benchmark and the C++ comparator.
 *
 *   node dist/bench/hold-main.js [--json] [--time=MS] [--sizes=64,4096,262144] [--no-cpp]
 *
 * --json prints one `{"name":..., "ops_per_s":...}` object per line instead of a table.
 */
import { cppHoldBench, holdBench, type HoldResult } from './hold.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const timeArg = args.find((a) => a.startsWith('--time='));
const sizesArg = args.find((a) => a.startsWith('--sizes='));
const timeMs = timeArg ? Number(timeArg.slice('--time='.length)) : 1000;
const sizes = sizesArg ? sizesArg.slice('--sizes='.length).split(',').map(Number) : [64, 4096, 262144];
if (!(timeMs > 0) || sizes.some((n) => !Number.isInteger(n) || n <= 0)) {
  console.error('usage: hold-main [--json] [--time=MS] [--sizes=N,N,...] [--no-cpp]');
  process.exit(2);
}

const results: HoldResult[] = await holdBench({ sizes, timeMs });
const cpp = args.includes('--no-cpp') ? null : cppHoldBench(timeMs);
if (cpp) results.push(...cpp.filter((r) => sizes.some((n) => r.name.endsWith(`/N=${n}`))));

if (json) {
  for (const r of results) console.log(JSON.stringify({ name: r.name, ops_per_s: Math.round(r.ops_per_s) }));
} else {
  console.table(results.map((r) => ({ name: r.name, 'ops/s': Math.round(r.ops_per_s).toLocaleString('en-US') })));
  if (!cpp && !args.includes('--no-cpp')) console.log('(C++ comparator skipped: g++ not found)');
}
