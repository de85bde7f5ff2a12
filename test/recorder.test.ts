/**
 * The recorder holds completed requests' latencies back and buckets them in batches (see
 * Recorder.completed). Whatever the batch boundaries, the histograms must end up exactly as if
 * every latency had been recorded as it came, and reading them must never miss the held-back tail.
 */
import { describe, expect, it } from 'vitest';
import { Recorder } from '../src/metrics/recorder.js';
import { Calendar } from '../src/metrics/calendar.js';
import { LogHistogram } from '../src/metrics/histogram.js';
import { RequestTable } from '../src/engine/requests.js';
import { mulberry32 } from './helpers/random.js';

describe('Recorder latency histograms', () => {
  it.each([1, 1023, 1024, 1025, 5000])('after %i completions: identical to recording each latency at once', (n) => {
    const rnd = mulberry32(n);
    const clockS = new Float64Array(1);
    const slo = { ttftS: 1, tpotS: 0.1, e2eS: Infinity };
    const recorder = new Recorder(2, 1, new Calendar(Date.UTC(2026, 0, 1), 86_400), 0, [slo, slo], clockS);
    const requests = new RequestTable();
    const direct = [0, 1].map(() => ({ ttft: new LogHistogram(), tpot: new LogHistogram(), e2e: new LogHistogram() }));
    let sloMet = 0;
    for (let i = 0; i < n; i++) {
      const q = requests.alloc();
      const w = i % 2;
      requests.workload[q] = w;
      requests.arrivalS[q] = rnd() * 1000;
      requests.firstTokenS[q] = requests.arrivalS[q] + rnd() * 2;
      // No reasoning: the first visible token is the first token.
      requests.visibleS[q] = requests.firstTokenS[q];
      requests.promptTokens[q] = 1 + Math.floor(rnd() * 500);
      requests.outputTokens[q] = 1 + Math.floor(rnd() * 3); // one-token outputs have no TPOT
      clockS[0] = requests.firstTokenS[q] + rnd() * 5;
      recorder.completed(requests, q, 0);
      const ttftS = requests.firstTokenS[q] - requests.arrivalS[q];
      const e2eS = clockS[0] - requests.arrivalS[q];
      direct[w].ttft.record(ttftS);
      direct[w].e2e.record(e2eS);
      let tpotS = 0;
      if (requests.outputTokens[q] > 1) {
        tpotS = (clockS[0] - requests.firstTokenS[q]) / (requests.outputTokens[q] - 1);
        direct[w].tpot.record(tpotS);
      }
      if (ttftS <= slo.ttftS && tpotS <= slo.tpotS) sloMet++;
      requests.release(q);
    }
    for (const w of [0, 1]) {
      expect(recorder.ttft[w].toJSON()).toEqual(direct[w].ttft.toJSON());
      expect(recorder.tpot[w].toJSON()).toEqual(direct[w].tpot.toJSON());
      expect(recorder.e2e[w].toJSON()).toEqual(direct[w].e2e.toJSON());
    }
    expect(recorder.ttft[0].count + recorder.ttft[1].count).toBe(n);
    expect(recorder.sloMet[0] + recorder.sloMet[1]).toBe(sloMet);
  });
});
