import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** package.json's `bin`: the bundle (scripts/bundle.mjs), so the tests run what a user runs. */
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds first) as a user would. */
export function fleetsim(args: string[], cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const createdDirs: string[] = [];

/** A fresh temp dir, removed after the test file by `removeTempDirs` (test/setup.ts). */
export function tempDir(prefix = 'fleetsim-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of createdDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes files into a fresh temp dir and returns it. */
export function withFiles(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** A small, fast scenario the tests vary. */
export const SMALL_SCENARIO = `name: small
start: 2026-03-01T00:00:00Z
horizon: 5m
warmup: 30s
seed: 3
report_interval: 1m
deployments:
  - { name: l8-h100, model: llama-3.1-8b, silicon: h100-sxm, replicas: 2, dtype: fp8 }
  - { name: mix-mi300x, model: mixtral-8x7b, silicon: mi300x, replicas: 1, dtype: fp8 }
  - { name: m7-cobalt, model: mistral-7b, silicon: cobalt-100, replicas: 2, dtype: int8, max_batch: 8 }
workloads:
  - name: chat
    tenant: contoso
    model: llama-3.1-8b
    fallback: [mixtral-8x7b]
    arrival: { process: poisson, rate: 20/s }
    prompt_tokens: { dist: lognormal, median: 500, p99: 3000 }
    output_tokens: { dist: lognormal, median: 150, p99: 800 }
    slo: { ttft: 1s, tpot: 100ms }
  - name: tags
    tenant: fabrikam
    model: mistral-7b
    fallback: [llama-3.1-8b]
    arrival: { process: poisson, rate: 2/s }
    prompt_tokens: { dist: uniform, min: 50, max: 300 }
    output_tokens: { dist: constant, value: 5 }
    timeout: 30s
incidents:
  - { at: 2m, duration: 1m, deployment: l8-h100 }
`;
