// node bench/train-step.js [flags]: bench/train-step.ts bundled and run (see that file for the flags).
import { runBundled } from './bundled.js';

await runBundled('train-step');
