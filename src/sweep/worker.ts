/** Worker thread entry: runs jobs posted by the pool, one at a time, and posts back plain results. */
import { parentPort, workerData } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { runJob, type JobSpec, type SweepConfig } from './job.js';

const config = (workerData as { config: SweepConfig }).config;
parentPort!.on('message', (msg: { id: number; job: JobSpec }) => {
  try {
    parentPort!.postMessage({ id: msg.id, result: runJob(config, msg.job) });
  } catch (err) {
    const input = err instanceof InputError ? { message: err.message, location: err.location } : null;
    parentPort!.postMessage({ id: msg.id, error: { input, message: (err as Error).stack ?? String(err) } });
  }
});
