/**
 * Multi-turn sessions (workload `session:`): each arrival of the workload's process opens a
 * conversation of `turns` turns. Turn k's prompt is turn k-1's prompt and output (the whole history,
 * a workload `prefix` included) plus the turn's new user tokens; the next turn is sent when the
 * previous one has completed and the user has thought for `think_time`. It is the closed loop of
 * arrivals.ts with one user per conversation: the simulation reports each turn's end (`ended`).
 *
 * The conversations in flight live in typed arrays with a free list, and the turns waiting for their
 * send time in a binary heap of (time, insertion order): memory grows with the sessions open at
 * once, never with the sessions simulated, and nothing is allocated per turn once they have grown.
 * `peek` / `take` rather than `next` alone: a turn readied by a completion may be due before the
 * next conversation's start, which the simulation has already been told of.
 */
import { grown } from '../engine/grow.js';
import { InputError } from '../errors.js';
import type { ArrivalSource } from './arrivals.js';
import type { LengthConfig, LengthSampler } from './lengths.js';
import type { RandomStream } from './rng.js';
import { Z_0_99 } from './lengths.js';

/** How a pause is distributed, in seconds. */
export type DurationConfig =
  | { dist: 'constant'; valueS: number }
  | { dist: 'uniform'; minS: number; maxS: number }
  | { dist: 'exponential'; meanS: number }
  | { dist: 'lognormal'; medianS: number; p99S: number; maxS?: number };

/** Draws a pause in seconds (>= 0); allocates nothing. */
export class DurationSampler {
  private readonly kind: number;
  private readonly a: number;
  private readonly b: number;
  private readonly cap: number;
  constructor(
    cfg: DurationConfig,
    private readonly rng: RandomStream,
  ) {
    switch (cfg.dist) {
      case 'constant':
        this.kind = 0;
        this.a = cfg.valueS;
        this.b = 0;
        this.cap = Infinity;
        break;
      case 'uniform':
        if (!(cfg.maxS >= cfg.minS)) throw new InputError('max: must be at least min', { path: 'max' });
        this.kind = 1;
        this.a = cfg.minS;
        this.b = cfg.maxS - cfg.minS;
        this.cap = Infinity;
        break;
      case 'exponential':
        this.kind = 2;
        this.a = cfg.meanS;
        this.b = 0;
        this.cap = Infinity;
        break;
      case 'lognormal':
        if (!(cfg.medianS > 0) || !(cfg.p99S >= cfg.medianS)) {
          throw new InputError('p99: must be at least the median, and the median positive', { path: 'p99' });
        }
        this.kind = 3;
        this.a = Math.log(cfg.medianS);
        this.b = Math.log(cfg.p99S / cfg.medianS) / Z_0_99;
        // The same default cap as token lengths (10 x p99): one draw from the far tail would
        // otherwise park a conversation for the rest of the run.
        this.cap = cfg.maxS ?? 10 * cfg.p99S;
        break;
    }
  }

  sample(): number {
    switch (this.kind) {
      case 0:
        return this.a;
      case 1:
        return this.a + this.rng.next() * this.b;
      case 2:
        return this.a === 0 ? 0 : this.rng.exponential(1 / this.a);
      default: {
        const s = Math.exp(this.a + this.b * this.rng.normal());
        return s > this.cap ? this.cap : s;
      }
    }
  }

  /** The distribution's mean in seconds (lognormal: of the uncapped distribution, for warnings). */
  meanS(): number {
    if (this.kind === 0) return this.a;
    if (this.kind === 1) return this.a + this.b / 2;
    if (this.kind === 2) return this.a;
    return Math.exp(this.a + (this.b * this.b) / 2);
  }
}

export interface SessionConfig {
  /** Turns per conversation (a token-length distribution read as a count, >= 1). */
  turns: LengthConfig;
  thinkTime: DurationConfig;
  /** Agentic turns (`tool_time`, `tool_output_tokens`): a tool call between turns and the tokens it adds to the context; null: none. */
  toolTime: DurationConfig | null;
  toolOutputTokens: LengthConfig | null;
}

const NONE = -1;

/**
 * The arrivals of a session workload: conversation starts from `starts` (any open-loop process),
 * and later turns from the heap. After `take`, `slot` is the conversation of the turn taken and
 * `isNew` whether it opens it; `contextTokens[slot]` is its history before the turn's new tokens.
 */
export class SessionArrivals implements ArrivalSource {
  readonly promptTokens = -1;
  readonly outputTokens = -1;
  /** Per open conversation: history tokens so far, turns still to send after the one in flight, turn index, its prefix group and segment. */
  contextTokens = new Float64Array(0);
  turnsLeft = new Int32Array(0);
  turn = new Int32Array(0);
  group = new Int32Array(0);
  segment = new Int32Array(0);
  /** Per open conversation: its number among the workload's conversations (0-based, in the order they opened). */
  conversation = new Float64Array(0);
  private nextFree = new Int32Array(0);
  private freeHead = NONE;
  private capacity = 0;
  /** Heap of waiting turns: send time, insertion order (ties), conversation. */
  private heapS = new Float64Array(0);
  private heapSeq = new Float64Array(0);
  private heapSlot = new Int32Array(0);
  private heapSize = 0;
  private pushed = 0;
  /** The next conversation's start (Infinity when the process has ended). */
  private startS: number;
  /** The turn `take` returned. */
  slot = NONE;
  isNew = false;
  /** Conversations opened, and open now (diagnostics the tests read). */
  opened = 0;
  open = 0;

  constructor(
    private readonly starts: ArrivalSource,
    private readonly turns: LengthSampler,
    private readonly think: DurationSampler,
    private readonly horizonS: number,
    /** Agentic sessions: the tool call a completed turn waits on before the next, and its output's tokens (null: none). */
    private readonly tool: DurationSampler | null = null,
    private readonly toolOutput: LengthSampler | null = null,
  ) {
    this.startS = starts.next();
    this.grow();
  }

  /** Time of the next turn (a start or a waiting turn), without taking it; Infinity when none is due before the horizon. */
  peek(): number {
    const turnS = this.heapSize > 0 ? this.heapS[0] : Infinity;
    const t = turnS <= this.startS ? turnS : this.startS;
    return t < this.horizonS ? t : Infinity;
  }

  /** Takes the turn `peek` returned; returns its time. */
  take(): number {
    const turnS = this.heapSize > 0 ? this.heapS[0] : Infinity;
    if (turnS <= this.startS) {
      this.slot = this.heapSlot[0];
      this.isNew = false;
      this.pop();
      this.turn[this.slot]++;
      return turnS;
    }
    const t = this.startS;
    this.startS = this.starts.next();
    if (this.freeHead === NONE) this.grow();
    const s = this.freeHead;
    this.freeHead = this.nextFree[s];
    this.slot = s;
    this.isNew = true;
    this.contextTokens[s] = 0;
    this.turnsLeft[s] = this.turns.sample() - 1;
    this.turn[s] = 0;
    this.group[s] = NONE;
    this.segment[s] = NONE;
    this.conversation[s] = this.opened;
    this.opened++;
    this.open++;
    return t;
  }

  /** ArrivalSource: take the next turn (for callers that never see turns readied out of order). */
  next(): number {
    const t = this.peek();
    if (t === Infinity) return t;
    return this.take();
  }

  /**
   * Conversation `s`'s turn ended at `nowS`, completed with `historyTokens` of context (its prompt
   * and output) or not (rejected, timed out, lost: the user gives up). Returns the next turn's send
   * time, or Infinity when the conversation is over. In an agentic session the next turn first waits
   * on a tool call, whose output joins the context: it is sent tool time + think time after `nowS`.
   */
  ended(s: number, completed: boolean, historyTokens: number, nowS: number): number {
    if (!completed || this.turnsLeft[s] <= 0) {
      this.nextFree[s] = this.freeHead;
      this.freeHead = s;
      this.open--;
      return Infinity;
    }
    this.turnsLeft[s]--;
    this.contextTokens[s] = this.toolOutput === null ? historyTokens : historyTokens + this.toolOutput.sample();
    const toolS = this.tool === null ? 0 : this.tool.sample();
    const t = nowS + toolS + this.think.sample();
    this.push(t, s);
    return t;
  }

  private push(t: number, s: number): void {
    if (this.heapSize === this.heapS.length) this.growHeap();
    const seq = this.pushed++;
    let i = this.heapSize++;
    const hs = this.heapS;
    const hq = this.heapSeq;
    const hl = this.heapSlot;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (hs[p] < t || (hs[p] === t && hq[p] < seq)) break;
      hs[i] = hs[p];
      hq[i] = hq[p];
      hl[i] = hl[p];
      i = p;
    }
    hs[i] = t;
    hq[i] = seq;
    hl[i] = s;
  }

  private pop(): void {
    const n = --this.heapSize;
    if (n === 0) return;
    const hs = this.heapS;
    const hq = this.heapSeq;
    const hl = this.heapSlot;
    const t = hs[n];
    const seq = hq[n];
    const s = hl[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (hs[c + 1] < hs[c] || (hs[c + 1] === hs[c] && hq[c + 1] < hq[c]))) c++;
      if (t < hs[c] || (t === hs[c] && seq < hq[c])) break;
      hs[i] = hs[c];
      hq[i] = hq[c];
      hl[i] = hl[c];
      i = c;
    }
    hs[i] = t;
    hq[i] = seq;
    hl[i] = s;
  }

  /** Doubles the conversation arrays (amortised; memory follows the conversations open at once). */
  private grow(): void {
    const old = this.capacity;
    const cap = Math.max(256, old * 2);
    this.contextTokens = grown(this.contextTokens, cap);
    this.turnsLeft = grown(this.turnsLeft, cap);
    this.turn = grown(this.turn, cap);
    this.group = grown(this.group, cap);
    this.segment = grown(this.segment, cap);
    this.conversation = grown(this.conversation, cap);
    this.nextFree = grown(this.nextFree, cap);
    for (let i = cap - 1; i >= old; i--) {
      this.nextFree[i] = this.freeHead;
      this.freeHead = i;
    }
    this.capacity = cap;
  }

  private growHeap(): void {
    const cap = Math.max(256, this.heapS.length * 2);
    this.heapS = grown(this.heapS, cap);
    this.heapSeq = grown(this.heapSeq, cap);
    this.heapSlot = grown(this.heapSlot, cap);
  }
}
