/**
 * README's quick start, run as written (issue 21 item 0). `npx fleetsim` inside the clone copied
 * the project into npm's exec cache and rebuilt it there (~30 s), and an interrupted first run
 * broke that cache entry for good; the quick start must run the CLI `npm ci` already built. The
 * test spawns the README's first command (after `npm ci`, which the test run has done) in a
 * directory laid out as a clone, with an empty npm cache, and checks that it simulated and that
 * npm's exec cache stayed empty. .ci/run's smoke step must be the same command.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.js';

/** The shell commands of README's Quick start block, one a line. */
export function quickStartCommands(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README: no ```sh block under ## Quick start');
  return block[1]!.split('\n').filter((l) => l.trim() !== '');
}

describe('README quick start', () => {
  const commands = quickStartCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const first = commands[0]!;
  const prefix = 'npm ci && ';

  it('is `npm ci && <the first fleetsim command>` and `npm test`', () => {
    expect(first.startsWith(prefix), first).toBe(true);
    expect(commands[1]).toBe('npm test');
  });

  it("runs the built CLI without npm's exec cache, and writes the reports", () => {
    const clone = tempDir('fleetsim-clone-');
    for (const entry of ['node_modules', 'dist', 'scenarios', 'data']) symlinkSync(join(ROOT, entry), join(clone, entry));
    copyFileSync(join(ROOT, 'package.json'), join(clone, 'package.json'));
    const cache = tempDir('fleetsim-npm-cache-');
    const r = spawnSync('sh', ['-c', first.slice(prefix.length)], {
      cwd: clone,
      encoding: 'utf8',
      env: { ...process.env, CI: '1', npm_config_cache: cache, npm_config_update_notifier: 'false' },
      timeout: 50_000,
    });
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['summary.csv', 'timeseries.csv', 'pnl.csv', 'run.json']) expect(existsSync(join(clone, 'out', f)), f).toBe(true);
    // npx/npm exec installs into <cache>/_npx; the quick start must never go there.
    expect(readdirSync(cache)).not.toContain('_npx');
  });

  it(".ci/run's smoke step runs the same command", () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const command = first.slice(prefix.length).replace('--out out', '--out "$out/out"');
    expect(ci).toContain(command);
    expect(ci).not.toMatch(/^\s*npx fleetsim/m);
  });
});
