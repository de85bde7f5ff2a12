/** How `bench --against` describes one end-to-end bench run on two builds. */

export interface RunCounts {
  requests: number;
  events: number;
}

/**
 * The note on our row: the other build's median wall as a multiple of ours, and which counts
 * differ. Different requests mean different work, so the ratio says little; different events for
 * the same requests are an engine that collapses more (or less), which is what the ratio measures.
 */
export function againstNote(against: string, ratio: number, ours: RunCounts, theirs: RunCounts): string {
  let counts = '';
  if (ours.requests !== theirs.requests) counts = ` (requests differ: ${theirs.requests} there, so not the same work)`;
  else if (ours.events !== theirs.events) counts = ` (${theirs.events} events there)`;
  return `${against} took ${ratio}x our median wall${counts}`;
}
