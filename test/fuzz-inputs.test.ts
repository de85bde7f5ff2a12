/**
 * A seeded fuzz harness over scenario and trace files (issue 21 item 9): a few hundred mutants of a
 * valid scenario and of a valid trace, each loaded and run as `fleetsim run` would. Each must either
 * run cleanly or fail with an InputError whose message is one line naming the file (and a line or a
 * field path), leaving no files in --out or beside it. Any other exception is what a user would
 * see as a stack trace. A failure prints the seed and the mutant, so it reproduces.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { loadScenario, runToDir } from '../src/index.js';
import { fleetsim, tempDir, SMALL_SCENARIO } from './helpers/cli.js';
import { mulberry32 } from './helpers/random.js';

const SEED = 2126;
const SCENARIO_MUTANTS = 240;
const TRACE_MUTANTS = 120;

const TRACE = [
  'TIMESTAMP,ContextTokens,GeneratedTokens',
  ...Array.from({ length: 30 }, (_, i) => `2023-11-16 18:17:${String(i).padStart(2, '0')}.5000000,${100 + 37 * i},${5 + (i % 7)}`),
].join('\n') + '\n';

const TRACE_SCENARIO = `name: traced
start: 2026-03-01 09:00:00Z
horizon: 40s
seed: 5
deployments:
  - { name: l8, model: llama-3.1-8b, silicon: h100-sxm, replicas: 1, dtype: fp8 }
workloads:
  - name: replay
    tenant: t
    model: llama-3.1-8b
    arrival: { process: trace, file: trace.csv, loop: false }
`;

/** Values that have broken parsers before, or should: wrong types, extremes, YAML oddities. */
const NASTY = [
  '-1', '0', '1e308', '-1e308', '.nan', '.inf', '~', '""', "''", '[]', '{}', 'true', 'no', '0x10', '1_000',
  '10m', '-5s', '1e-320', '99999999999999999999', '*undefined', '&a x', '!!binary aGk=', '!!timestamp 2026-01-01',
  '2026-03-01 09:00:00Z', '[1, [2, [3]]]', '"\u0000"', '"\ud800"', '|\n  x', '? x', '@', '`', '%YAML 1.1', '<<: *a',
];

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

function mutateYaml(text: string, rng: Rng): string {
  const lines = text.split('\n');
  const i = Math.floor(rng() * lines.length);
  switch (Math.floor(rng() * 8)) {
    case 0: // replace one scalar after a colon
      lines[i] = lines[i]!.replace(/:\s*[^,{}\[\]\n]+/, `: ${pick(rng, NASTY)}`);
      break;
    case 1:
      lines.splice(i, 1);
      break;
    case 2:
      lines.splice(i, 0, lines[i] ?? '');
      break;
    case 3:
      return text.slice(0, Math.floor(rng() * text.length));
    case 4: {
      const at = Math.floor(rng() * text.length);
      return text.slice(0, at) + pick(rng, ['{', '}', '[', ']', ':', '-', '"', "'", '&', '*', '!', '\t', '#', '\n  ']) + text.slice(at);
    }
    case 5: {
      const j = Math.floor(rng() * lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      break;
    }
    case 6: // a number scaled to an extreme
      lines[i] = lines[i]!.replace(/\d+(\.\d+)?/, pick(rng, ['0', '-3', '1e9', '1e-9', '4294967296', '0.5']));
      break;
    default: // an alias bomb, or an anchor in an odd place
      lines.splice(i, 0, pick(rng, [
        'x: &a [1,1,1,1,1,1,1,1,1]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
        'description: &d text',
        'description: *nothing',
        `description: ${'['.repeat(60)}${']'.repeat(60)}`,
      ]));
  }
  return lines.join('\n');
}

function mutateTrace(text: string, rng: Rng): string {
  const lines = text.split('\n');
  const i = Math.floor(rng() * (lines.length - 1));
  switch (Math.floor(rng() * 7)) {
    case 0:
      lines[i] = lines[i]!.replace(/\d+/, pick(rng, ['-1', '', 'x', '1e9', '0', '99999999999', '1.5']));
      break;
    case 1:
      lines.splice(i, 1);
      break;
    case 2: {
      const j = Math.floor(rng() * (lines.length - 1));
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      break;
    }
    case 3:
      return text.slice(0, Math.floor(rng() * text.length));
    case 4:
      lines[i] = lines[i]!.replace(',', pick(rng, [',,', ';', '', ',"', ', ']));
      break;
    case 5:
      return pick(rng, ['\ufeff', '\r\n', '']) + lines.join(pick(rng, ['\r\n', '\n\n', '\r']));
    default:
      lines[i] = pick(rng, ['', ',,', '"', 'TIMESTAMP,ContextTokens,GeneratedTokens', '2023-13-45 99:99:99,1,1']);
  }
  return lines.join('\n');
}

interface Outcome {
  ok: boolean;
  problem?: string;
}

/** What `fleetsim run FILE --out DIR --horizon 90s` does, in process, judged by the contract above. */
function runCase(dir: string, file: string): Outcome {
  const out = join(dir, 'out');
  const before = readdirSync(dir).sort().join(',');
  try {
    const scenario = loadScenario(file, { horizonS: 90 });
    runToDir(scenario, { outDir: out, requests: false });
    return { ok: true };
  } catch (err) {
    if (!(err instanceof InputError)) return { ok: false, problem: `not an InputError: ${(err as Error)?.stack ?? String(err)}` };
    const line = err.format();
    if (line.includes('\n')) return { ok: false, problem: `message spans lines: ${JSON.stringify(line)}` };
    if (!err.location.file) return { ok: false, problem: `message names no file: ${line}` };
    if (err.location.line === undefined && !err.location.path) return { ok: false, problem: `message has no line or path: ${line}` };
    if (existsSync(out) && readdirSync(out).length > 0) return { ok: false, problem: `files left in --out: ${readdirSync(out).join(', ')}` };
    const after = readdirSync(dir).sort().join(',');
    if (after !== before) return { ok: false, problem: `files left beside --out: ${after} (before: ${before})` };
    return { ok: false };
  }
}

describe(`fuzzed inputs (seed ${SEED})`, () => {
  it(`${SCENARIO_MUTANTS} mutated scenarios each run or fail with one located line and no files`, () => {
    const rng = mulberry32(SEED);
    const problems: string[] = [];
    let ran = 0;
    for (let n = 0; n < SCENARIO_MUTANTS; n++) {
      const dir = tempDir('fleetsim-fuzz-');
      const base = n % 3 === 2 ? TRACE_SCENARIO : SMALL_SCENARIO;
      if (base === TRACE_SCENARIO) writeFileSync(join(dir, 'trace.csv'), TRACE);
      let text = base;
      const rounds = 1 + Math.floor(rng() * 2);
      for (let r = 0; r < rounds; r++) text = mutateYaml(text, rng);
      const file = join(dir, 'scenario.yaml');
      writeFileSync(file, text);
      const o = runCase(dir, file);
      if (o.ok) ran++;
      if (o.problem) problems.push(`mutant ${n}: ${o.problem}\n--- scenario ---\n${text}`);
    }
    expect(problems.slice(0, 3).join('\n\n')).toBe('');
    // The harness must also exercise the simulation, not only the loader's refusals.
    expect(ran).toBeGreaterThan(SCENARIO_MUTANTS / 10);
  });

  it(`${TRACE_MUTANTS} mutated traces each run or fail with one located line and no files`, () => {
    const rng = mulberry32(SEED + 1);
    const problems: string[] = [];
    let ran = 0;
    for (let n = 0; n < TRACE_MUTANTS; n++) {
      const dir = tempDir('fleetsim-fuzz-');
      let trace = TRACE;
      const rounds = 1 + Math.floor(rng() * 2);
      for (let r = 0; r < rounds; r++) trace = mutateTrace(trace, rng);
      writeFileSync(join(dir, 'trace.csv'), trace);
      const file = join(dir, 'scenario.yaml');
      writeFileSync(file, TRACE_SCENARIO);
      const o = runCase(dir, file);
      if (o.ok) ran++;
      if (o.problem) problems.push(`trace mutant ${n}: ${o.problem}\n--- trace ---\n${trace}`);
    }
    expect(problems.slice(0, 3).join('\n\n')).toBe('');
    expect(ran).toBeGreaterThan(TRACE_MUTANTS / 10);
  });
});

describe('unusual YAML through the CLI', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [prev, name] of [...'abcdefgh'].map((c, i) => [c, 'bcdefghi'[i]!])) {
    bomb.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }

  it('an alias bomb (nine levels of nine-fold aliases) is exit 2 with one located line, for validate and run', () => {
    const dir = withScenario(bomb.join('\n') + '\n');
    for (const args of [['validate', 'bomb.yaml'], ['run', 'bomb.yaml', '--out', 'out']]) {
      const r = fleetsim(args, dir);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^fleetsim: error: bomb\.yaml:2:\d+: YAML aliases expand too far: .*\n$/);
      expect(existsSync(join(dir, 'out'))).toBe(false);
    }
  });

  it('a scenario nested past the depth cap is refused with its path', () => {
    const dir = withScenario(`${SMALL_SCENARIO}description: ${'['.repeat(40)}${']'.repeat(40)}\n`);
    const r = fleetsim(['validate', 'bomb.yaml'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fleetsim: error: bomb\.yaml:\d+:\d+: description(\[0\])+: nested more than 32 levels deep/);
  });

  it('a scenario over the size cap is refused before parsing', () => {
    const dir = withScenario(`${SMALL_SCENARIO}description: "${'x'.repeat(4 * 1024 * 1024)}"\n`);
    const r = fleetsim(['validate', 'bomb.yaml'], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^fleetsim: error: bomb\.yaml: scenario file is 4\.0 MB; at most 4 MB is accepted/);
  });

  it('a start time written with a space (`2026-03-01 09:00:00Z`, as RFC 3339 and YAML allow) is accepted', () => {
    const dir = withScenario(SMALL_SCENARIO.replace('start: 2026-03-01T00:00:00Z', 'start: 2026-03-01 09:00:00Z'));
    const r = fleetsim(['validate', 'bomb.yaml'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

function withScenario(text: string): string {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bomb.yaml'), text);
  return dir;
}
