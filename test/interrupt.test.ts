/**
 * Interrupted runs (issue 21 item 2): a real SIGINT or SIGTERM sent to a spawned `fleetsim run`
 * while it simulates. It must exit 130 / 143 with one line on stderr, remove the output it had
 * staged beside --out, leave --out as it was, and put the terminal back (the progress bar turns
 * line wrapping off with ESC[?7l; on a pseudo-terminal we check that ESC[?7h follows).
 */
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT, tempDir } from './helpers/cli.js';

const LONG_RUN = ['run', join(ROOT, 'scenarios/multi-model-platform.yaml'), '--horizon', '12h'];

/** The pid in the name of the first temp dir a fleetsim process staged in `dir`, once one appears. */
async function stagedBy(dir: string, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const m = readdirSync(dir).map((n) => /^\.fleetsim-tmp-(\d+)-/.exec(n)).find((x) => x !== null);
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no .fleetsim-tmp- dir appeared in ${dir}`);
}

function prepare(): { dir: string; out: string } {
  const dir = tempDir('fleetsim-signal-');
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'summary.csv'), 'an earlier run\n');
  return { dir, out };
}

describe('a run interrupted by a signal', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal}: exit ${code}, one line, no staged files, --out unchanged`, async () => {
      const { dir, out } = prepare();
      const child = spawn(process.execPath, [CLI, ...LONG_RUN, '--out', out], { cwd: dir, env: { ...process.env, CI: '1' } });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      await stagedBy(dir);
      await new Promise((r) => setTimeout(r, 300)); // well inside the simulation, which takes seconds
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(stderr).toBe(`fleetsim: interrupted by ${signal}; nothing written, ${out} left as it was\n`);
      expect(readdirSync(dir)).toEqual(['out']);
      expect(readdirSync(out)).toEqual(['summary.csv']);
      expect(readFileSync(join(out, 'summary.csv'), 'utf8')).toBe('an earlier run\n');
    });
  }

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it.skipIf(!hasScript)('on a terminal, the progress bar turns line wrapping back on (ESC[?7h) before exit', async () => {
    const { dir, out } = prepare();
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
    delete env.CI; // progress shows only on a terminal and outside CI
    const command = [process.execPath, CLI, ...LONG_RUN, '--out', out].map((a) => `'${a}'`).join(' ');
    // script(1) gives the command a pseudo-terminal and copies what it writes there to our stdout.
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: dir, env });
    let tty = '';
    child.stdout.on('data', (d: Buffer) => (tty += d.toString('latin1')));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const pid = await stagedBy(dir);
    await new Promise((r) => setTimeout(r, 500));
    expect(tty).toContain('\x1b[?7l');
    process.kill(pid, 'SIGINT');
    expect(await exited).toBe(130);
    expect(tty.lastIndexOf('\x1b[?7h')).toBeGreaterThan(tty.lastIndexOf('\x1b[?7l'));
    expect(tty).toContain('fleetsim: interrupted by SIGINT');
    expect(readdirSync(dir)).toEqual(['out']);
  });
});
