/**
 * Atomic output: readers (and a re-run after a crash) see either the previous files or the
 * complete new ones, never a half-written file. Temporary files live next to their
 * destination so the final `rename` stays on one filesystem, where it is atomic.
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * A set of output files staged in a hidden temporary directory
 * (`.fleetsim-tmp-<pid>-<random>`, a sibling of the final directory) and moved into place by
 * {@link OutputDir.commit}. Each file is replaced atomically; the set as a whole is not (a
 * crash during commit can leave some files new and others old), but no file is ever partial.
 * If the process dies before commit or abort (SIGKILL, a crash), its temp dir is left behind; its
 * name says which process made it, and the next OutputDir created beside it removes it once that
 * process is gone. On SIGINT and SIGTERM the CLI removes it at once (src/cli/interrupt.ts).
 *
 * `replaces` names every file the command can write there. Commit removes those this commit did
 * not write, so a directory written twice never holds one run's summary.csv beside another run's
 * requests.csv; files fleetsim does not write are left alone.
 */
export class OutputDir {
  /** Absolute path of the directory the files end up in. */
  readonly finalDir: string;
  private readonly tmpDir: string;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  /** Creates the temp dir now (and finalDir's parent if missing), but not finalDir itself. */
  constructor(
    finalDir: string,
    private readonly replaces: readonly string[] = [],
  ) {
    this.finalDir = resolve(finalDir);
    const parent = dirname(this.finalDir);
    mkdirSync(parent, { recursive: true });
    removeStaleTempDirs(parent);
    this.tmpDir = mkdtempSync(join(parent, `.fleetsim-tmp-${process.pid}-`));
  }

  /**
   * The temporary path to write output file `name` to; it moves to `finalDir/name` on commit.
   * @throws Error if `name` is not a plain file name or the directory is already committed or aborted.
   */
  path(name: string): string {
    this.assertOpen('path');
    if (name === '' || name === '.' || name === '..' || name !== basename(name) || name.includes('\\')) {
      throw new Error(`OutputDir.path: expected a plain file name, got ${JSON.stringify(name)}`);
    }
    return join(this.tmpDir, name);
  }

  /**
   * Create finalDir if needed, rename every file written in the temp dir into it (replacing
   * same-named files), remove the `replaces` files not written, then remove the temp dir. Names
   * requested but never written are skipped.
   */
  commit(): void {
    this.assertOpen('commit');
    mkdirSync(this.finalDir, { recursive: true });
    const written = readdirSync(this.tmpDir);
    for (const name of written) {
      renameSync(join(this.tmpDir, name), join(this.finalDir, name));
    }
    for (const name of this.replaces) {
      if (!written.includes(name)) rmSync(join(this.finalDir, name), { force: true });
    }
    rmSync(this.tmpDir, { recursive: true, force: true });
    this.state = 'committed';
  }

  /** Discard everything written; finalDir is left untouched. Safe to call more than once. */
  abort(): void {
    if (this.state === 'committed') return;
    rmSync(this.tmpDir, { recursive: true, force: true });
    this.state = 'aborted';
  }

  private assertOpen(op: string): void {
    if (this.state !== 'open') throw new Error(`OutputDir.${op}: output dir is already ${this.state}`);
  }
}

/**
 * Replace `path` with `data` (a string as UTF-8, or bytes) atomically: write and fsync a hidden temp file in the
 * same directory (named `.fleetsim-tmp-<pid>-<random>-<name>`, like
 * {@link OutputDir}'s, so one ignore pattern covers both), then rename it over `path`. The temp file is removed if anything fails.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const target = resolve(path);
  const tmp = join(
    dirname(target),
    `.fleetsim-tmp-${process.pid}-${randomBytes(6).toString('hex')}-${basename(target)}`,
  );
  try {
    const fd = openSync(tmp, 'wx');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      // Without fsync a power loss after rename can leave an empty file under the new name.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created; the original error is the one that matters.
    }
    throw err;
  }
}

/**
 * Removes the temp dirs and files this process staged in `parent` (its pid is in their names; worker
 * threads share it): what a signal handler calls so an interrupted command leaves nothing behind.
 */
export function removeOwnTempDirs(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return; // no parent, nothing staged
  }
  const own = `.fleetsim-tmp-${process.pid}-`;
  for (const name of names) if (name.startsWith(own)) rmSync(join(parent, name), { recursive: true, force: true });
}

/** Removes temp dirs in `parent` left by fleetsim processes that no longer run. */
function removeStaleTempDirs(parent: string): void {
  for (const name of readdirSync(parent)) {
    const m = /^\.fleetsim-tmp-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
