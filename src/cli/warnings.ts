/** Scenario warnings on stderr (never silenced by --quiet: they are about the input, not progress); --strict makes them exit 2. */
import { InputError } from '../errors.js';

export function reportWarnings(warnings: readonly string[], strict: boolean | undefined): void {
  for (const w of warnings) process.stderr.write(`fleetsim: warning: ${w}\n`);
  if (strict && warnings.length > 0) {
    const n = warnings.length === 1 ? 'the warning above' : `the ${warnings.length} warnings above`;
    throw new InputError(`${n}: nothing simulated or written`, { path: '--strict' });
  }
}
