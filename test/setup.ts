import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/cli.js';

// Each test file has its own module graph, so this removes exactly the dirs its tests made.
afterAll(removeTempDirs);
