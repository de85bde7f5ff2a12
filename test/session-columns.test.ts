/**
 * requests.csv's session_id and turn (issue 18): appended only when a workload has sessions; a
 * conversation's turns are numbered 1, 2, … in arrival order, each resending the last one's
 * prompt and answer; other workloads' rows leave them empty; `fleetsim report` reads them back.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetsim, tempDir } from './helpers/cli.js';

const scenario = (sessions: boolean) => `
name: turns
horizon: 3m
seed: 9
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2 }
workloads:
  - name: chat
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 1/s }
    prefix: { tokens: 1000, groups: 2 }${sessions ? '\n    session: { turns: { dist: uniform, min: 1, max: 5 }, think_time: { dist: constant, value: 2s } }' : ''}
    prompt_tokens: { dist: uniform, min: 20, max: 200 }
    output_tokens: { dist: uniform, min: 10, max: 100 }
  - name: oneshot
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 1/s }
    prompt_tokens: { dist: uniform, min: 20, max: 200 }
    output_tokens: { dist: uniform, min: 10, max: 100 }
`;

function requests(sessions: boolean): { header: string[]; rows: string[][]; out: string } {
  const dir = tempDir();
  const path = join(dir, 's.yaml');
  writeFileSync(path, scenario(sessions));
  const out = join(dir, 'out');
  const res = fleetsim(['run', path, '--out', out, '--requests']);
  expect(res.status, res.stderr).toBe(0);
  const [header, ...rows] = readFileSync(join(out, 'requests.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  return { header, rows, out };
}

describe('requests.csv session columns', () => {
  it('a session workload numbers its conversations and their turns; the other workload leaves them empty', () => {
    const { header, rows, out } = requests(true);
    expect(header.slice(-2)).toEqual(['session_id', 'turn']);
    const col = (name: string) => header.indexOf(name);
    const conversations = new Map<string, string[][]>();
    for (const r of rows) {
      if (r[col('workload')] === 'oneshot') {
        expect([r[col('session_id')], r[col('turn')]]).toEqual(['', '']);
        continue;
      }
      const key = r[col('session_id')];
      expect(key).toMatch(/^\d+$/);
      conversations.set(key, [...(conversations.get(key) ?? []), r]);
    }
    expect(conversations.size).toBeGreaterThan(50);
    let multi = 0;
    for (const turns of conversations.values()) {
      turns.sort((a, b) => Number(a[col('turn')]) - Number(b[col('turn')]));
      turns.forEach((t, i) => expect(Number(t[col('turn')])).toBe(i + 1));
      for (let i = 1; i < turns.length; i++) {
        const prev = turns[i - 1];
        const cur = turns[i];
        expect(Number(cur[col('arrival_s')])).toBeGreaterThan(Number(prev[col('arrival_s')]));
        // Turn k resends turn k-1's prompt and answer, plus new tokens.
        expect(Number(cur[col('prompt_tokens')])).toBeGreaterThan(Number(prev[col('prompt_tokens')]) + Number(prev[col('output_tokens')]));
        multi++;
      }
    }
    expect(multi).toBeGreaterThan(50);
    // Conversation numbers are 0-based in the order they opened: the first turns' arrivals are in id order.
    const firsts = [...conversations.entries()].map(([k, t]) => [Number(k), Number(t[0][col('arrival_s')])]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < firsts.length; i++) expect(firsts[i][1]).toBeGreaterThanOrEqual(firsts[i - 1][1]);
    expect(fleetsim(['report', out]).status).toBe(0);
  });

  it('a scenario without sessions has no session columns', () => {
    expect(requests(false).header).not.toContain('session_id');
  });
});
