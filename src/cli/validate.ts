/** `fleetsim validate`, apart from the other commands so that it loads only the scenario loader. */
import { readScenarioSource } from '../scenario/load.js';
import { validateScenario } from '../scenario/validate.js';
import { parseSetFlag, resolveEdited } from '../sweep/paths.js';
import { reportWarnings } from './warnings.js';
import { count } from '../scenario/units.js';

export function validateCommand(file: string, flags: { strict?: boolean; set?: string[] } = {}): void {
  const { summary, warnings } = validateScenario(resolveEdited(readScenarioSource(file), (flags.set ?? []).map(parseSetFlag)));
  reportWarnings(warnings, flags.strict);
  process.stdout.write(`${file}: ok (${summary}${warnings.length ? `; ${count(warnings.length, 'warning')} on stderr` : ''})\n`);
}
