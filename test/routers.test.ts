/**
 * The routers added with prefix caching: prefix-aware (cache hit traded against load) and
 * power-of-two (two seeded random choices). Each against a case whose answer is known.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../src/scenario/load.js';
import { simulate } from '../src/simulation/simulate.js';
import { Capture } from './helpers/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-routers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function run(text: string) {
  const path = join(dir, `s${files++}.yaml`);
  writeFileSync(path, text);
  const log = new Capture();
  const result = simulate(loadScenario(path), { requestLog: log });
  log.rows.sort((a, b) => a.seq - b.seq);
  return { result, rows: log.rows };
}

/** 4 replicas whose caches each hold about two of 8 long prefixes. */
const many = (routing: string, extra = '') => `
name: routers
horizon: 5m
seed: 21
${extra}
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 4, kv_fraction: 0.215 }
  - { name: b, model: llama-3.1-8b, silicon: a100-80gb, replicas: 2, kv_fraction: 0.215 }
workloads:
  - name: agents
    tenant: t
    model: llama-3.1-8b
    arrival: { process: poisson, rate: 12/s }
    prefix: { tokens: 6000, groups: 8 }
    prompt_tokens: { dist: lognormal, median: 300, p99: 2000 }
    output_tokens: { dist: lognormal, median: 100, p99: 600 }
routing: ${routing}
incidents:
  - { at: 100s, duration: 40s, deployment: b }
`;

const hitShare = (rows: { promptTokens: number; cachedTokens: number }[]) =>
  rows.reduce((n, r) => n + r.cachedTokens, 0) / rows.reduce((n, r) => n + r.promptTokens, 0);

describe('prefix-aware', () => {
  it('with prefix_weight 0 it is least-outstanding, request by request', () => {
    const a = run(many('{ policy: prefix-aware, prefix_weight: 0 }'));
    const b = run(many('{ policy: least-outstanding }'));
    expect(a.rows.length).toBeGreaterThan(3000);
    expect(a.rows).toEqual(b.rows);
  });

  it('sends a prompt where its prefix is cached: a higher hit rate and a lower TTFT than least-outstanding', () => {
    const aware = run(many('{ policy: prefix-aware }'));
    const lo = run(many('{ policy: least-outstanding }'));
    const ttft = (rows: typeof lo.rows) => rows.reduce((t, r) => t + r.firstTokenS - r.arrivalS, 0) / rows.length;
    expect(hitShare(aware.rows)).toBeGreaterThan(hitShare(lo.rows) + 0.1);
    expect(ttft(aware.rows)).toBeLessThan(ttft(lo.rows));
    expect(aware.rows.filter((r) => r.fate >= 2).length).toBe(0);
  });
});

describe('power-of-two', () => {
  it('is deterministic, spreads load, and never turns away what a replica could take', () => {
    const a = run(many('{ policy: power-of-two }'));
    const b = run(many('{ policy: power-of-two }'));
    expect(a.rows).toEqual(b.rows);
    // The outage takes b down: its requests fail over to a, none is lost or rejected.
    expect(a.rows.filter((r) => r.fate >= 2).length).toBe(0);
    const onB = a.rows.filter((r) => r.deployment === 1).length;
    // 2 of 6 replicas up for 260 of 300 s: about 2/6 × 260/300 of the requests.
    expect(onB / a.rows.length).toBeGreaterThan(0.2);
    expect(onB / a.rows.length).toBeLessThan(0.4);
    const seeded = run(many('{ policy: power-of-two }').replace('seed: 21', 'seed: 22'));
    expect(seeded.rows.map((r) => r.deployment)).not.toEqual(a.rows.map((r) => r.deployment));
  });
});
