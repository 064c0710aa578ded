// node bench/gru-reset-before.js [flags]: bench/gru-reset-before.ts bundled and run (see that file for the flags).
import { runBundled } from './bundled.js';

await runBundled('gru-reset-before');
