/**
 * Runs calibrate's leave-one-group-out refits on worker threads: each refit is a whole fit
 * (a hundred simulations of the training rows), independent of the others, so they split across
 * cores with nothing shared. Results are kept by fold position, never by completion order, so the
 * output is identical for any worker count.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../catalog/catalog.js';
import { InputError } from '../errors.js';
import { runFoldsHere, type FoldRunner, type HeldOut } from './calibrate.js';
import type { FoldRequest } from './calibrate-worker.js';

function workerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./calibrate-worker.js', import.meta.url);
  const built = join(packageRoot(), 'dist', 'src', 'fidelity', 'calibrate-worker.js');
  if (!existsSync(built)) throw new Error(`calibrate workers need the build: run npm run build (missing ${built})`);
  return new URL(`file://${built}`);
}

interface Reply {
  id: number;
  progress?: string;
  heldOut?: HeldOut;
  error?: { input: { message: string; location: InputError['location'] } | null; message: string };
}

/** A FoldRunner over `workers` threads (1 or fewer: in this thread). */
export function foldPool(workers: number): FoldRunner {
  return async (group, params, start, folds, o) => {
    const n = Math.max(1, Math.min(workers, folds.length));
    if (n <= 1) return runFoldsHere(group, params, start, folds, o);
    const results: HeldOut[] = new Array(folds.length);
    const threads: Worker[] = [];
    let next = 0;
    let done = 0;
    try {
      await new Promise<void>((resolvePool, rejectPool) => {
        const feed = (w: Worker) => {
          if (next >= folds.length) return;
          const id = next++;
          const job: FoldRequest = {
            id, group, params: params.map((p) => p.csv), start: [...start], fold: folds[id],
            maxEvals: o.maxEvals, foldMaxEvals: o.foldMaxEvals, fitOfflineRequestsPerUser: o.fitOfflineRequestsPerUser,
          };
          w.postMessage(job);
        };
        for (let i = 0; i < n; i++) {
          const w = new Worker(workerScript());
          threads.push(w);
          w.on('message', (reply: Reply) => {
            if (reply.progress !== undefined) {
              o.onProgress?.(reply.progress);
              return;
            }
            if (reply.error) {
              rejectPool(reply.error.input ? new InputError(reply.error.input.message, reply.error.input.location) : new Error(reply.error.message));
              return;
            }
            results[reply.id] = reply.heldOut!;
            if (++done === folds.length) resolvePool();
            else feed(w);
          });
          w.on('error', rejectPool);
          feed(w);
        }
      });
    } finally {
      await Promise.all(threads.map((t) => t.terminate()));
    }
    return results;
  };
}
