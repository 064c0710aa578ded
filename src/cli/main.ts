#!/usr/bin/env node
/**
 * `rnn-wasm` command line: dispatches to one file per command. Usage errors exit with code 2, runtime failures
 * with 1.
 * @module
 */
import { CliError, UsageError } from './args.js';
import { analyzeCommand } from './analyze.js';
import { benchCommand } from './bench.js';
import { experimentsCommand } from './experiments.js';
import { predictCommand } from './predict.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { trainCommand } from './train.js';

const HELP = `Usage: rnn-wasm <command> [options]   (rnn-wasm <command> --help for each)

Commands:
  train DATA        train a recurrent model with a linear head on CSV or JSON-lines data, save a model file
  predict MODEL DATA  run a model file over data, write its outputs as CSV or JSON lines
  analyze [MODEL]   the model as a dynamical system: text report, --html / --json
  bench             quick forward / training-step benchmark (ms, GFLOP/s)
  experiments [NAME]  the theory's claims as runnable experiments: plots, verdicts, one HTML page
  start             the main job on the bundled data: compare with PyTorch, train, evaluate, analyze,
                    write out/report.html (what npm start runs)
  run               (default without arguments) the bundled PyTorch-trained LSTM against PyTorch, then
                    training a new LSTM on the bundled data set
  -h, --help        this help`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  train: trainCommand, predict: predictCommand, analyze: analyzeCommand, bench: benchCommand, start: startCommand,
  run: runCommand, experiments: experimentsCommand,
};

async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === '-h' || first === '--help' || first === 'help') {
    console.log(HELP);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) return runCommand(argv);
  const command = COMMANDS[first];
  if (!command) {
    throw new UsageError(`unknown command '${first}'; expected one of ${Object.keys(COMMANDS).join(', ')} ` +
      '(see rnn-wasm --help)');
  }
  return command(argv.slice(1));
}

const argv = process.argv.slice(2);
const name = argv[0] && !argv[0].startsWith('-') ? argv[0] : 'run';
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`rnn-wasm ${name}: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof CliError) console.error(`rnn-wasm ${name}: ${err.message}`);
    else console.error(`rnn-wasm ${name}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    if (process.env.RNN_WASM_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
