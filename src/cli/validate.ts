/** `fleetsim validate`, apart from the other commands so that it loads only the scenario loader. */
import { validateScenario } from '../scenario/validate.js';

export function validateCommand(file: string): void {
  const summary = validateScenario(file);
  process.stdout.write(`${file}: ok (${summary})\n`);
}
