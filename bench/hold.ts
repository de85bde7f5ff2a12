/**
 * Hold-model benchmark of the event queue variants, plus an optional C++ comparator.
 *
 * The classic hold model (Jones 1986): the queue holds N pending events with Exp(1) times; each
 * operation pops the minimum and schedules that entity again at its time + Exp(1). The queue size
 * stays at N, so this is the steady state of a simulation with N live entities.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { EventQueue } from '../src/engine/event-queue.js';
import { BinaryEventQueue, OctonaryEventQueue, QuaternaryEventQueue } from './queue-variants.js';

/** One benchmark figure: `ops_per_s` counts pop + reschedule pairs. */
export interface HoldResult {
  name: string;
  ops_per_s: number;
}

/** Options for {@link holdBench}. */
export interface HoldBenchOptions {
  /** Queue sizes N. */
  sizes: number[];
  /** Time budget per task in milliseconds (tinybench `time`). */
  timeMs: number;
}

/** Hold operations per tinybench iteration: enough that timer overhead and resolution vanish. */
const OPS_PER_ITERATION = 1024;
/** Exp(1) ring length (power of two); precomputed so RNG and log() cost is not measured. */
const EXP_RING = 1 << 16;
const EXP_MASK = EXP_RING - 1;
const SEED = 0x5eed1234;

/** Exp(1) samples from mulberry32, the same generator and seed as bench/cpp/hold.cpp. */
export function expRing(seed = SEED, length = EXP_RING): Float64Array {
  const out = new Float64Array(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = -Math.log1p(-u);
  }
  return out;
}

/** Ring cursor carried across iterations so successive batches draw fresh samples. */
interface Cursor {
  r: number;
}

// One loop per class on purpose: a single generic loop would see four receiver shapes and
// measure V8's polymorphic dispatch instead of the queues. The simulator will only ever use one.
function hold2(q: BinaryEventQueue, exp: Float64Array, c: Cursor): void {
  let r = c.r;
  for (let k = 0; k < OPS_PER_ITERATION; k++) {
    const t = q.peekTime();
    q.schedule(q.pop(), t + exp[r]);
    r = (r + 1) & EXP_MASK;
  }
  c.r = r;
}

function hold4(q: QuaternaryEventQueue, exp: Float64Array, c: Cursor): void {
  let r = c.r;
  for (let k = 0; k < OPS_PER_ITERATION; k++) {
    const t = q.peekTime();
    q.schedule(q.pop(), t + exp[r]);
    r = (r + 1) & EXP_MASK;
  }
  c.r = r;
}

function hold8(q: OctonaryEventQueue, exp: Float64Array, c: Cursor): void {
  let r = c.r;
  for (let k = 0; k < OPS_PER_ITERATION; k++) {
    const t = q.peekTime();
    q.schedule(q.pop(), t + exp[r]);
    r = (r + 1) & EXP_MASK;
  }
  c.r = r;
}

function holdTree(q: EventQueue, exp: Float64Array, c: Cursor): void {
  let r = c.r;
  for (let k = 0; k < OPS_PER_ITERATION; k++) {
    const t = q.peekTime();
    q.schedule(q.pop(), t + exp[r]);
    r = (r + 1) & EXP_MASK;
  }
  c.r = r;
}

interface FillableQueue {
  schedule(entity: number, timeS: number): void;
}

function fill(q: FillableQueue, n: number, exp: Float64Array, c: Cursor): void {
  for (let e = 0; e < n; e++) {
    q.schedule(e, exp[c.r]);
    c.r = (c.r + 1) & EXP_MASK;
  }
}

/**
 * Runs the hold model for every queue variant and size. Figures use the median iteration time,
 * which is steadier than the mean on a shared machine.
 */
export async function holdBench(opts: HoldBenchOptions): Promise<HoldResult[]> {
  const exp = expRing();
  const bench = new Bench({ time: opts.timeMs, warmupTime: Math.min(250, opts.timeMs), iterations: 16 });
  for (const n of opts.sizes) {
    const q2 = new BinaryEventQueue(n);
    const q4 = new QuaternaryEventQueue(n);
    const q8 = new OctonaryEventQueue(n);
    const qt = new EventQueue(n);
    const c2 = { r: 0 };
    const c4 = { r: 0 };
    const c8 = { r: 0 };
    const ct = { r: 0 };
    fill(q2, n, exp, c2);
    fill(q4, n, exp, c4);
    fill(q8, n, exp, c8);
    fill(qt, n, exp, ct);
    bench.add(`hold/2ary/N=${n}`, () => hold2(q2, exp, c2));
    bench.add(`hold/4ary/N=${n}`, () => hold4(q4, exp, c4));
    bench.add(`hold/8ary/N=${n}`, () => hold8(q8, exp, c8));
    bench.add(`hold/tree/N=${n}`, () => holdTree(qt, exp, ct));
  }
  await bench.run();
  const out: HoldResult[] = [];
  for (const task of bench.tasks) {
    const res = task.result;
    if (res.state !== 'completed') {
      throw new Error(`bench task ${task.name} ended ${res.state}${res.state === 'errored' ? `: ${res.error.message}` : ''}`);
    }
    out.push({ name: task.name, ops_per_s: (OPS_PER_ITERATION * 1000) / res.latency.p50 });
  }
  return out;
}

/** bench/cpp/hold.cpp, whether we run from source (bench/) or from the build (dist/bench/). */
function cppSource(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const rel of ['cpp/hold.cpp', '../../bench/cpp/hold.cpp']) {
    const p = join(here, rel);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Builds and runs the C++ 4-ary hold comparator (bench/cpp/hold.cpp) with `g++ -O2`.
 * Returns null when g++ or the source is missing: the comparator is optional.
 */
export function cppHoldBench(timeMs = 1000): HoldResult[] | null {
  const src = cppSource();
  if (src === null) return null;
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const exe = join(tmpdir(), `fleetsim-hold-${process.pid}`);
  let stdout: string;
  try {
    execFileSync('g++', ['-O2', '-std=c++17', '-o', exe, src], { stdio: ['ignore', 'ignore', 'inherit'] });
    stdout = execFileSync(exe, [String(timeMs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } finally {
    rmSync(exe, { force: true });
  }
  const out: HoldResult[] = [];
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as HoldResult;
    out.push({ name: row.name, ops_per_s: row.ops_per_s });
  }
  return out;
}
