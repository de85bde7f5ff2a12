/**
 * Runs sweep jobs on worker threads. Workers load the scenario themselves from its path and the
 * edits (resolved scenarios hold Maps and class instances, which do not cross threads), and results
 * are stored by job position, never completion order, so output is identical for any worker count.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { packageRoot } from '../catalog/catalog.js';
import { runJob, type JobResult, type JobSpec, type SweepConfig } from './job.js';

export const defaultWorkers = () => availableParallelism();

function workerScript(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return new URL('./worker.js', import.meta.url);
  // Running from TypeScript sources (vitest): threads need the compiled worker (`npm run build`).
  const built = join(packageRoot(), 'dist', 'src', 'sweep', 'worker.js');
  if (!existsSync(built)) throw new Error(`sweep workers need the build: run npm run build (missing ${built})`);
  return new URL(`file://${built}`);
}

interface WorkerReply {
  id: number;
  result?: JobResult;
  error?: { input: { message: string; location: InputError['location'] } | null; message: string };
}

/** Runs every job and returns the results in job order. `workers` ≤ 1 runs them in this thread. */
export async function runJobs(
  config: SweepConfig,
  jobs: readonly JobSpec[],
  workers: number,
  onDone?: (done: number, total: number) => void,
): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  const n = Math.max(1, Math.min(workers, jobs.length));
  if (n <= 1) {
    jobs.forEach((job, i) => {
      results[i] = runJob(config, job);
      onDone?.(i + 1, jobs.length);
    });
    return results;
  }
  const script = workerScript();
  const threads: Worker[] = [];
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolvePool, rejectPool) => {
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        rejectPool(err);
      };
      const feed = (w: Worker) => {
        if (failed) return;
        if (next < jobs.length) {
          const id = next++;
          w.postMessage({ id, job: jobs[id] });
        }
      };
      for (let i = 0; i < n; i++) {
        const w = new Worker(script, { workerData: { config } });
        threads.push(w);
        w.on('message', (msg: WorkerReply) => {
          if (msg.error) {
            fail(msg.error.input ? new InputError(msg.error.input.message, msg.error.input.location) : new Error(msg.error.message));
            return;
          }
          results[msg.id] = msg.result!;
          done++;
          onDone?.(done, jobs.length);
          if (done === jobs.length) resolvePool();
          else feed(w);
        });
        w.on('error', fail);
        w.on('exit', (code) => {
          if (done < jobs.length && !failed) fail(new Error(`sweep worker exited with code ${code}`));
        });
        feed(w);
      }
    });
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
  return results;
}
