/**
 * Calendar periods for the P&L: UTC days from the scenario's start, or calendar months when the
 * horizon is longer than 62 days. The calendar runs one period past the horizon, for the drain; a
 * drain longer than that belongs to that last period.
 */

const DAY_MS = 86_400_000;

export interface Period {
  /** ISO date of the period's first day, e.g. `2026-01-01` (day) or `2026-01` (month). */
  label: string;
  /** Period start in simulation seconds (may be negative for the first, partial period). */
  startS: number;
  endS: number;
}

export class Calendar {
  readonly periods: Period[];
  readonly granularity: 'day' | 'month';
  private cursor = 0;
  /** [start, end) of period `cursor` in seconds; empty until the first lookup. */
  private readonly cursorBoundsS = new Float64Array([Infinity, -Infinity]);

  constructor(
    readonly startMs: number,
    horizonS: number,
  ) {
    this.granularity = horizonS > 62 * 86_400 ? 'month' : 'day';
    const endMs = startMs + horizonS * 1000;
    const periods: Period[] = [];
    const first = new Date(startMs);
    let cur =
      this.granularity === 'day'
        ? Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate())
        : Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1);
    // One period past the horizon as well, so a drain that crosses midnight is booked to the day it
    // happens in; periods nothing touched are left out of pnl.csv.
    let pastHorizon = 0;
    while (cur < endMs || pastHorizon++ < 1) {
      const d = new Date(cur);
      const next =
        this.granularity === 'day' ? cur + DAY_MS : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      const label = d.toISOString().slice(0, this.granularity === 'day' ? 10 : 7);
      periods.push({ label, startS: (cur - startMs) / 1000, endS: (next - startMs) / 1000 });
      cur = next;
    }
    periods[periods.length - 1].endS = Infinity;
    this.periods = periods;
  }

  /** Index of the period holding simulation time `tS`. Amortised O(1) for non-decreasing times. */
  periodAt(tS: number): number {
    // Asked twice per completed request, almost always for the period of the last answer: its
    // bounds sit in a typed array, two compares away.
    const bounds = this.cursorBoundsS;
    if (tS >= bounds[0] && tS < bounds[1]) return this.cursor;
    const p = this.periods;
    let i = this.cursor;
    if (tS < p[i].startS) i = 0;
    while (tS >= p[i].endS) i++;
    this.cursor = i;
    bounds[0] = i === 0 ? -Infinity : p[i].startS;
    bounds[1] = p[i].endS;
    return i;
  }

  /** Seconds of [0, endS) falling in period i. */
  overlapS(i: number, endS: number): number {
    const p = this.periods[i];
    return Math.max(0, Math.min(p.endS, endS) - Math.max(p.startS, 0));
  }
}
