// Measured profiles (src/perf/profile.ts): interpolation, exact collapsed runs, and input errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../src/catalog/catalog.js';
import { ProfilePerf, loadProfile } from '../src/perf/profile.js';
import { decodeRunS } from '../src/perf/roofline.js';
import { InputError } from '../src/errors.js';
import { loadScenario } from '../src/scenario/load.js';

const dir = mkdtempSync(join(tmpdir(), 'fleetsim-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const catalog = loadCatalog();

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const PROFILE = `# measured on a test rig
kind,batch,context_tokens,prefill_tokens,ms
decode,1,0,,10
decode,1,1000,,12
decode,16,0,,12
decode,16,1000,,20
prefill,,,100,5
prefill,,,1000,50
`;

function perfFor(file: string): ProfilePerf {
  return new ProfilePerf(
    {
      model: catalog.models.get('llama-2-7b')!, silicon: catalog.silicon.get('h100-sxm')!,
      efficiency: catalog.efficiency.get('h100-sxm')!, tensorParallel: 1, dtype: 'fp8', kvDtype: 'fp8',
      kvFraction: 0.9, blockTokens: 16,
    },
    loadProfile(file),
  );
}

describe('measured profiles', () => {
  const perf = perfFor(write('p.csv', PROFILE));

  it('reads a file that starts with a UTF-8 byte-order mark before its # comment (src/csv-read.ts)', () => {
    const withBom = perfFor(write('bom.csv', '\uFEFF' + PROFILE));
    for (const [batch, ctx] of [[1, 0], [16, 1000], [8, 500]]) expect(withBom.decodeStepS(batch, ctx)).toBe(perf.decodeStepS(batch, ctx));
  });

  it('reproduces the measured points and interpolates between them', () => {
    expect(perf.decodeStepS(1, 0)).toBeCloseTo(0.010, 12);
    expect(perf.decodeStepS(1, 1000)).toBeCloseTo(0.012, 12);
    expect(perf.decodeStepS(16, 16 * 1000)).toBeCloseTo(0.020, 12);
    // Halfway in batch (8.5) and context 500: intercepts 10..12 -> 11 ms, slopes 2..8 us -> 5 us.
    expect(perf.decodeStepS(8.5, 8.5 * 500)).toBeCloseTo(0.011 + 0.0025, 12);
    expect(perf.prefillS(550, 0)).toBeCloseTo(0.0275, 12);
    expect(perf.prefillS(2000, 0)).toBeCloseTo(0.1, 12);
    expect(perf.prefillS(10, 0)).toBeCloseTo(0.005, 12);
  });

  it('keeps collapsed decode runs exact: the run sum equals the sum of single steps', () => {
    const c = new Float64Array(5);
    perf.decodeLines(16, 16 * 300, c);
    let sum = 0;
    for (let k = 0; k < 500; k++) sum += perf.decodeStepS(16, 16 * (300 + k));
    expect(decodeRunS(c, 500)).toBeCloseTo(sum, 9);
  });

  it('keeps the memory figures of the model and silicon', () => {
    // 6.74B at a byte each plus the 16-bit embedding and LM head (2 x 32,000 x 4,096 a byte more).
    expect(perf.weightBytes).toBeCloseTo(6.74e9 + 2 * 32000 * 4096, -6);
    expect(perf.kvCapacityTokens).toBeGreaterThan(0);
  });

  it('reports bad files with file and line', () => {
    const bad = write('bad.csv', 'kind,batch,context_tokens,prefill_tokens,ms\ndecode,1,0,,10\ndecode,x,0,,10\nprefill,,,1,1\n');
    try {
      loadProfile(bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).location.line).toBe(3);
      expect((err as InputError).message).toContain('batch');
    }
    expect(() => loadProfile(write('nopre.csv', 'kind,batch,context_tokens,prefill_tokens,ms\ndecode,1,0,,10\n'))).toThrow(/no prefill/);
    expect(() => loadProfile(write('hdr.csv', 'a,b\n1,2\n'))).toThrow(/header/);
  });

  it('is selectable per deployment from a scenario', () => {
    write('prof.csv', PROFILE);
    const scenarioFile = write(
      's.yaml',
      `name: p
horizon: 1m
deployments:
  - { name: a, model: llama-2-7b, silicon: h100-sxm, replicas: 1, dtype: fp8, profile: prof.csv }
  - { name: b, model: llama-2-7b, silicon: h100-sxm, replicas: 1, dtype: fp8 }
workloads:
  - { name: w, tenant: t, model: llama-2-7b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 10 }, output_tokens: { dist: constant, value: 10 } }
`,
    );
    const s = loadScenario(scenarioFile);
    expect(s.deployments[0].perf).toBeInstanceOf(ProfilePerf);
    expect(s.deployments[0].perf.decodeStepS(1, 0)).toBeCloseTo(0.01, 12);
    expect(s.deployments[1].perf).not.toBeInstanceOf(ProfilePerf);
    const missing = write('m.yaml', `name: p
horizon: 1m
deployments:
  - { name: a, model: llama-2-7b, silicon: h100-sxm, replicas: 1, profile: nope.csv }
workloads:
  - { name: w, tenant: t, model: llama-2-7b, arrival: { process: poisson, rate: 1/s }, prompt_tokens: { dist: constant, value: 10 }, output_tokens: { dist: constant, value: 10 } }
`);
    expect(() => loadScenario(missing)).toThrow(InputError);
  });
});
