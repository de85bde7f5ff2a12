import { describe, it, expect } from 'vitest';
import { EventQueue } from '../src/engine/event-queue.js';
import { BinaryEventQueue, OctonaryEventQueue, QuaternaryEventQueue } from '../bench/queue-variants.js';
import { mulberry32 as rng } from './helpers/random.js';

// Private fields make the classes nominal in TS; the tests only need the public surface.
type Queue = Pick<EventQueue, 'schedule' | 'cancel' | 'has' | 'size' | 'peekTime' | 'peekEntity' | 'pop'>;
const VARIANTS: Array<[string, new (capacity: number) => Queue]> = [
  ['EventQueue (tournament tree)', EventQueue],
  ['BinaryEventQueue', BinaryEventQueue],
  ['QuaternaryEventQueue', QuaternaryEventQueue],
  ['OctonaryEventQueue', OctonaryEventQueue],
];


/** Obviously-correct model: a map of pending events, minimum found by linear scan. */
class Reference {
  private readonly pending = new Map<number, { time: number; seq: number }>();
  private seq = 0;
  schedule(entity: number, time: number): void {
    this.pending.set(entity, { time, seq: this.seq++ });
  }
  cancel(entity: number): void {
    this.pending.delete(entity);
  }
  has(entity: number): boolean {
    return this.pending.has(entity);
  }
  get size(): number {
    return this.pending.size;
  }
  peek(): { entity: number; time: number } {
    let best = -1;
    let bt = Infinity;
    let bs = Infinity;
    for (const [e, { time, seq }] of this.pending) {
      if (time < bt || (time === bt && seq < bs)) {
        best = e;
        bt = time;
        bs = seq;
      }
    }
    return { entity: best, time: bt };
  }
  pop(): number {
    const { entity } = this.peek();
    if (entity >= 0) this.pending.delete(entity);
    return entity;
  }
}

/** Random schedule/move/cancel/pop mix; coarse times force many ties. Returns the pop order. */
function randomRun(make: (capacity: number) => Queue, seed: number, check: boolean): number[] {
  const capacity = 97;
  const q = make(capacity);
  const ref = new Reference();
  const rand = rng(seed);
  const popped: number[] = [];
  // expect() per step is slow over 20k steps; compare directly and report the first divergence.
  const same = (actual: unknown, expected: unknown, what: string): void => {
    if (check && actual !== expected) expect(actual, `${what} at step ${popped.length}`).toBe(expected);
  };
  let now = 0;
  for (let op = 0; op < 20_000; op++) {
    const r = rand();
    const entity = Math.floor(rand() * capacity);
    if (r < 0.45) {
      // Half on a coarse grid (ties), half continuous; never before `now`, as in a simulation.
      const dt = rand() < 0.5 ? Math.floor(rand() * 4) : rand() * 4;
      q.schedule(entity, now + dt);
      ref.schedule(entity, now + dt);
    } else if (r < 0.55) {
      q.cancel(entity);
      ref.cancel(entity);
    } else {
      const expectTime = ref.peek().time;
      const e = q.pop();
      same(e, ref.pop(), 'pop');
      if (e >= 0) {
        now = expectTime;
        popped.push(e);
        // As in the simulator, the popped entity often schedules its next event straight away.
        if (rand() < 0.5) {
          const dt = rand() * 4;
          q.schedule(e, now + dt);
          ref.schedule(e, now + dt);
        }
      }
    }
    if (check) {
      const top = ref.peek();
      same(q.size, ref.size, 'size');
      same(q.peekTime(), top.time, 'peekTime');
      same(q.peekEntity(), top.entity, 'peekEntity');
      same(q.has(entity), ref.has(entity), 'has');
    }
  }
  while (q.size > 0) {
    const e = q.pop();
    same(e, ref.pop(), 'pop');
    popped.push(e);
  }
  return popped;
}

describe.each(VARIANTS)('%s', (_name, Variant) => {
  it('pops in (time, schedule order) against a sorted reference over thousands of random schedules, moves and cancels', () => {
    for (const seed of [1, 2, 3]) randomRun((c) => new Variant(c), seed, true);
  });

  it('pops events at equal times in the order they were scheduled', () => {
    const q = new Variant(8);
    for (const e of [5, 2, 7, 0, 3]) q.schedule(e, 1.5);
    q.schedule(6, 1.0);
    expect([q.pop(), q.pop(), q.pop(), q.pop(), q.pop(), q.pop()]).toEqual([6, 5, 2, 7, 0, 3]);
  });

  it('gives a moved entity a new sequence number, so it runs after events already at that time', () => {
    const q = new Variant(4);
    q.schedule(0, 2);
    q.schedule(1, 2);
    q.schedule(2, 2);
    q.schedule(0, 2);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([1, 2, 0]);
  });

  it('moves an entity earlier or later, keeping one pending event per entity', () => {
    const q = new Variant(4);
    q.schedule(0, 5);
    q.schedule(1, 3);
    q.schedule(0, 1);
    expect(q.size).toBe(2);
    expect(q.peekEntity()).toBe(0);
    q.schedule(0, 9);
    expect(q.size).toBe(2);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([1, 0, -1]);
  });

  it('reschedules the entity at the top without popping it first', () => {
    const q = new Variant(3);
    q.schedule(0, 1);
    q.schedule(1, 2);
    q.schedule(2, 3);
    q.schedule(q.peekEntity(), q.peekTime() + 1.5);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([1, 0, 2]);
  });

  it('removes a cancelled event and ignores cancelling one that is not pending', () => {
    const q = new Variant(4);
    q.schedule(0, 1);
    q.schedule(1, 2);
    q.schedule(2, 3);
    q.cancel(1);
    q.cancel(1);
    q.cancel(3);
    expect(q.has(1)).toBe(false);
    expect(q.size).toBe(2);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([0, 2, -1]);
  });

  it('after a pop, reschedules that entity, schedules or cancels another, and reports it not pending', () => {
    const q = new Variant(5);
    q.schedule(0, 1);
    q.schedule(1, 2);
    q.schedule(2, 3);
    expect(q.pop()).toBe(0);
    expect(q.has(0)).toBe(false);
    expect(q.size).toBe(2);
    q.schedule(0, 2.5);
    expect(q.pop()).toBe(1);
    q.schedule(3, 0.5);
    expect(q.peekEntity()).toBe(3);
    expect(q.pop()).toBe(3);
    q.cancel(3);
    q.cancel(2);
    expect(q.size).toBe(1);
    expect([q.pop(), q.pop()]).toEqual([0, -1]);
  });

  it('works with a single entity', () => {
    const q = new Variant(1);
    q.schedule(0, 3);
    q.schedule(0, 2);
    expect(q.peekTime()).toBe(2);
    expect([q.pop(), q.pop()]).toEqual([0, -1]);
  });

  it('ignores cancelling an id that is no entity id (NaN, a fraction, 2^32): the queue stays intact', () => {
    const q = new Variant(4);
    q.schedule(0, 1);
    q.schedule(1, 2);
    for (const bad of [NaN, 1.5, 2 ** 32, 2 ** 32 + 1, -1]) q.cancel(bad);
    expect(q.size).toBe(2);
    expect([q.pop(), q.pop(), q.pop()]).toEqual([0, 1, -1]);
  });

  it('returns -1 from pop and peekEntity when empty', () => {
    const q = new Variant(2);
    expect(q.pop()).toBe(-1);
    expect(q.peekEntity()).toBe(-1);
    q.schedule(1, 0);
    q.pop();
    expect(q.pop()).toBe(-1);
  });

  it('reports peekTime as Infinity when empty', () => {
    const q = new Variant(2);
    expect(q.peekTime()).toBe(Infinity);
    q.schedule(0, 4);
    expect(q.peekTime()).toBe(4);
    q.pop();
    expect(q.peekTime()).toBe(Infinity);
  });

  it('rejects entity ids outside its capacity and NaN times', () => {
    const q = new Variant(2);
    expect(() => q.schedule(2, 0)).toThrow(RangeError);
    expect(() => q.schedule(-1, 0)).toThrow(RangeError);
    expect(() => q.schedule(0.5, 0)).toThrow(RangeError);
    expect(() => q.schedule(0, NaN)).toThrow(RangeError);
    expect(q.size).toBe(0);
    expect(q.has(2)).toBe(false);
  });
});

describe('event queue variants', () => {
  it('pop in exactly the same order whatever the structure', () => {
    const orders = VARIANTS.map(([, Variant]) => randomRun((c) => new Variant(c), 42, false));
    for (const order of orders.slice(1)) expect(order).toEqual(orders[0]);
  });
});

describe('EventQueue when empty', () => {
  // peekTime and peekSeq read the root leaf without checking the count: every leaf without a pending
  // event, padding leaves included, must hold Infinity however the queue was emptied.
  it('reports Infinity for peekTime and peekSeq after pops, cancels and reschedules, with padding leaves', () => {
    const q = new EventQueue(5); // 8 leaves, 3 of them padding
    const empty = () => {
      expect(q.size).toBe(0);
      expect(q.peekTime()).toBe(Infinity);
      expect(q.peekSeq()).toBe(Infinity);
    };
    empty();
    for (let e = 0; e < 5; e++) q.schedule(e, 10 - e);
    q.schedule(2, 0.5); // moved earlier
    q.cancel(4);
    q.cancel(0);
    for (let n = q.size; n > 0; n--) q.pop();
    empty();
    q.schedule(3, 1);
    q.pop();
    q.schedule(1, 2); // a different entity after the pop: the popped leaf is cleared lazily here
    q.cancel(1);
    empty();
  });
});

describe('EventQueue.scheduleWithSeq', () => {
  // The simulator's arrival streams live in a queue of their own, with sequence numbers taken from
  // the main queue: equal times must order by the numbers given, not by the order of the calls.
  it('orders equal times by the sequence numbers given, and moves an event like schedule', () => {
    const main = new EventQueue(1);
    const streams = new EventQueue(4);
    const seqs = [main.takeSeq(), main.takeSeq(), main.takeSeq(), main.takeSeq()];
    streams.scheduleWithSeq(3, 5, seqs[0]);
    streams.scheduleWithSeq(0, 5, seqs[3]);
    streams.scheduleWithSeq(2, 5, seqs[1]);
    streams.scheduleWithSeq(1, 7, seqs[2]);
    expect(streams.peekSeq()).toBe(seqs[0]);
    streams.scheduleWithSeq(3, 5, main.takeSeq()); // moved to the back of the time-5 ties
    const order: number[] = [];
    while (streams.size > 0) order.push(streams.pop());
    expect(order).toEqual([2, 0, 3, 1]);
    main.schedule(0, 1);
    expect(main.peekSeq()).toBe(5); // takeSeq consumed 0..4
  });
});
