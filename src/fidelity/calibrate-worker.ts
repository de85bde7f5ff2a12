/** Worker thread of `calibrate`: runs one leave-one-group-out refit per message (src/fidelity/calibrate-pool.ts). */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { fitParams, runFold, type FoldSpec, type ProfileGroup } from './calibrate.js';

export interface FoldRequest {
  id: number;
  group: ProfileGroup;
  params: string[];
  start: number[];
  fold: FoldSpec;
  maxEvals?: number;
  foldMaxEvals?: number;
  fitOfflineRequestsPerUser?: number;
}

parentPort!.on('message', (job: FoldRequest) => {
  try {
    const heldOut = runFold(job.group, fitParams(job.params), job.start, job.fold, {
      maxEvals: job.maxEvals,
      foldMaxEvals: job.foldMaxEvals,
      fitOfflineRequestsPerUser: job.fitOfflineRequestsPerUser,
      onProgress: (message) => parentPort!.postMessage({ id: job.id, progress: message }),
    });
    parentPort!.postMessage({ id: job.id, heldOut });
  } catch (err) {
    const input = err instanceof InputError ? { message: err.message, location: err.location } : null;
    parentPort!.postMessage({ id: job.id, error: { input, message: (err as Error).stack ?? String(err) } });
  }
});
