/**
 * Keys that exclude each other: each combination is refused at the field a user must change, with
 * the wording that says which key to drop (scenario/load.ts). validation.test.ts shows such an
 * InputError reaches the user as one line and exit 2; here each rule is checked where it is made.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { loadScenario } from '../src/scenario/load.js';
import { ROOT, withFiles } from './helpers/cli.js';

const TRACE = join(ROOT, 'data/traces/mooncake-example.jsonl');

function scenario(opts: { deployment?: string; workload?: string; extra?: string; arrival?: string }): string {
  return `name: x
horizon: 5m
deployments:
  - { name: a, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2${opts.deployment ?? ''} }
workloads:
  - name: w
    tenant: t
    model: llama-3.1-8b
    arrival: ${opts.arrival ?? '{ process: poisson, rate: 1/s }'}
${opts.arrival === undefined ? LENGTHS : ''}${opts.workload ?? ''}
${opts.extra ?? ''}`;
}

function refusal(text: string): string {
  const dir = withFiles({});
  const path = join(dir, 'scenario.yaml');
  writeFileSync(path, text);
  try {
    loadScenario(path);
  } catch (e) {
    if (e instanceof InputError) return e.format();
    throw e;
  }
  throw new Error('accepted');
}

const LENGTHS = '    prompt_tokens: { dist: constant, value: 500 }\n    output_tokens: { dist: constant, value: 50 }\n';
const mooncake = `{ process: trace, file: ${TRACE} }`;
const DISAGG = ', scheduler: disaggregated, prefill_replicas: 1';

describe('keys that exclude each other are refused at the key to drop', () => {
  const cases: [string, string, RegExp][] = [
    ['prompt_tokens with a Mooncake trace', scenario({ arrival: mooncake, workload: '    prompt_tokens: { dist: constant, value: 500 }' }),
      /workloads\[0\]\.prompt_tokens: prompt_tokens and a Mooncake trace both set: the rows' hash_ids describe their own input_length; drop prompt_tokens/],
    ['prefix with a Mooncake trace', scenario({ arrival: mooncake, workload: '    prefix: { tokens: 1000 }' }),
      /workloads\[0\]\.prefix: prefix and a Mooncake trace both set: .*; drop prefix/],
    ['session with a Mooncake trace', scenario({ arrival: mooncake, workload: '    session: { turns: { dist: constant, value: 2 }, think_time: { dist: constant, value: 5 } }' }),
      /workloads\[0\]\.session: session and a Mooncake trace both set: .*; drop session/],
    ['cached_prompt_fraction with a Mooncake trace', scenario({ arrival: mooncake, workload: '    cached_prompt_fraction: 0.5' }),
      /workloads\[0\]\.cached_prompt_fraction: cached_prompt_fraction and a Mooncake trace both set: .*; drop cached_prompt_fraction/],
    ['autoscale on a disaggregated deployment', scenario({ deployment: `${DISAGG}, autoscale: { min: 2, max: 4, metric: utilization, target: 0.7 }` }),
      /deployments\[0\]\.autoscale: autoscale does not apply to scheduler: disaggregated \(its pools are sized by prefill_replicas\)/],
    ['failures on a disaggregated deployment', scenario({ deployment: `${DISAGG}, failures: { mtbf: 100h, mttr: 1h }` }),
      /deployments\[0\]\.failures: failures do not apply to scheduler: disaggregated/],
    ['a partial outage of a disaggregated deployment', scenario({ deployment: DISAGG, extra: 'incidents:\n  - { at: 1m, duration: 1m, deployment: a, replicas: 1 }' }),
      /incidents\[0\]\.replicas: a partial outage does not apply to scheduler: disaggregated \(take the whole deployment down\)/],
    ['replicas and replica in one incident', scenario({ extra: 'incidents:\n  - { at: 1m, duration: 1m, deployment: a, replicas: 1, replica: 0 }' }),
      /incidents\[0\]\.replica: give replicas \(how many\) or replica \(which one\), not both/],
  ];
  it.each(cases)('%s', (_what, text, message) => {
    const msg = refusal(text);
    expect(msg).toContain('scenario.yaml:');
    expect(msg).toMatch(message);
  });

  it('the same scenarios without the excluded key load (so each refusal is the combination)', () => {
    for (const text of [scenario({ arrival: mooncake }), scenario({ deployment: DISAGG }), scenario({ extra: 'incidents:\n  - { at: 1m, duration: 1m, deployment: a, replicas: 1 }' })]) {
      expect(() => refusal(text)).toThrow('accepted');
    }
  });
});
