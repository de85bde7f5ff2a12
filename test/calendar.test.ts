import { describe, expect, it } from 'vitest';
import { Calendar } from '../src/metrics/calendar.js';
import { mulberry32 } from './helpers/random.js';

/** The period holding t by definition: the first whose end is past t (the first one takes anything earlier). */
function byScan(cal: Calendar, tS: number): number {
  const i = cal.periods.findIndex((p) => tS < p.endS);
  return i < 0 ? cal.periods.length - 1 : i;
}

describe('Calendar.periodAt', () => {
  // 2026-01-05T18:00Z for 3 days: periods start mid-day, so the first is partial (negative start).
  const cal = new Calendar(Date.UTC(2026, 0, 5, 18), 3 * 86_400);

  it('splits the run into UTC days plus one past the horizon, the first starting before t = 0', () => {
    expect(cal.periods.map((p) => p.label)).toEqual(['2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09']);
    expect(cal.periods[0].startS).toBe(-18 * 3600);
    expect(cal.periods[1].startS).toBe(6 * 3600);
  });

  it('answers like a scan from the start, for times in order, out of order, on period edges and past the end', () => {
    const rand = mulberry32(11);
    const edges = cal.periods.flatMap((p) => [p.startS, p.endS]).filter(Number.isFinite);
    const times = [0, 6 * 3600 - 1e-9, 6 * 3600, 6 * 3600 + 1e-9, -1, 1e9, ...edges];
    let t = 0;
    for (let k = 0; k < 2000; k++) {
      t += rand() * 600;
      times.push(t, rand() * 5 * 86_400 - 86_400);
    }
    for (const tS of times) expect(cal.periodAt(tS), `t = ${tS}`).toBe(byScan(cal, tS));
  });
});
