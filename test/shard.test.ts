import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetsim, withFiles } from './helpers/cli.js';

const SCENARIO = `name: shard-test
horizon: 90s
seed: 3
deployments:
  - { name: m7-h100, model: mistral-7b, silicon: h100-sxm, replicas: 2 }
workloads:
  - name: chat
    tenant: t
    model: mistral-7b
    arrival: { process: poisson, rate: 10/s }
    prompt_tokens: { dist: uniform, min: 200, max: 2000 }
    output_tokens: { dist: lognormal, median: 120, p99: 500 }
    slo: { ttft: 1s }
sweep:
  "workloads[0].arrival.rate": [1x, 2x]
  "deployments[0].replicas": [1, 2, 4]
`;

describe('shards', () => {
  it('sharded + merged output equals the single-process sweep byte for byte', () => {
    const dir = withFiles({ 's.yaml': SCENARIO });
    const file = join(dir, 's.yaml');
    const whole = fleetsim(['sweep', file, '--out', join(dir, 'whole'), '--replications', '3', '--workers', '1', '-q']);
    expect(whole.status, whole.stderr).toBe(0);
    const parts: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const out = join(dir, `part${i}`);
      const r = fleetsim(['sweep', file, '--out', out, '--replications', '3', '--shard', `${i}/4`, '--workers', '2', '-q']);
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(out)).toEqual(['partial.json']);
      parts.push(out);
    }
    const missing = fleetsim(['merge', ...parts.slice(0, 3), '--out', join(dir, 'bad')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/a shard is missing/);
    const dup = fleetsim(['merge', ...parts, parts[0], '--out', join(dir, 'bad')]);
    expect(dup.status).toBe(2);
    // Order of the directories does not matter.
    const merged = fleetsim(['merge', ...parts.reverse(), '--out', join(dir, 'merged'), '-q']);
    expect(merged.status, merged.stderr).toBe(0);
    for (const f of ['sweep.csv', 'summary_ci.csv']) {
      expect(readFileSync(join(dir, 'merged', f), 'utf8')).toBe(readFileSync(join(dir, 'whole', f), 'utf8'));
    }
    expect(readFileSync(join(dir, 'whole', 'sweep.csv'), 'utf8').split('\n')[0]).toMatch(
      /^point,workloads\[0\]\.arrival\.rate,deployments\[0\]\.replicas,replications,scope,key,/,
    );
  });
});
