/**
 * Ctrl-C (SIGINT) and SIGTERM during a command that writes --out: stop the work, restore the
 * terminal, remove the output staged beside --out (so --out is left as it was), say so in one
 * line and exit 128 + the signal's number (130, 143), as shells do. The work must run off the
 * main thread (a worker), or this handler could not run before it ended.
 */
import { dirname, resolve } from 'node:path';
import { removeOwnTempDirs } from '../report/atomic.js';

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export interface Interruption {
  /** Stops the work (terminates workers); awaited before the staged files are removed. */
  stop: () => Promise<unknown>;
  /** Puts the terminal back (the progress bar turns line wrapping and the cursor off). */
  restoreTerminal: () => void;
}

/** Installs the handlers for the work writing `outDir`; the returned function removes them. */
export function cleanUpOnSignal(outDir: string, what: Interruption): () => void {
  let handling = false;
  const handlers = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).map((signal) => {
    const handler = () => {
      if (handling) return;
      handling = true;
      what.restoreTerminal();
      void what.stop().finally(() => {
        removeOwnTempDirs(dirname(resolve(outDir)));
        process.stderr.write(`fleetsim: interrupted by ${signal}; nothing written, ${outDir} left as it was\n`);
        process.exit(EXIT_CODES[signal]);
      });
    };
    process.on(signal, handler);
    return () => process.removeListener(signal, handler);
  });
  return () => handlers.forEach((remove) => remove());
}
