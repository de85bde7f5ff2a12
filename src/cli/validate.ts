/** `fleetsim validate`, apart from the other commands so that it loads only the scenario loader. */
import { validateScenario } from '../scenario/validate.js';
import { reportWarnings } from './warnings.js';
import { count } from '../scenario/units.js';

export function validateCommand(file: string, flags: { strict?: boolean } = {}): void {
  const { summary, warnings } = validateScenario(file);
  reportWarnings(warnings, flags.strict);
  process.stdout.write(`${file}: ok (${summary}${warnings.length ? `; ${count(warnings.length, 'warning')} on stderr` : ''})\n`);
}
