// What bench/forward and bench/train share: the engine issue's workloads (LSTM, GRU, RNN-tanh; input 32; hidden
// 128, 256, 512; batch 1 and 32; sequence 100), the command-line filters, and the model they are run on.
import { GRU, LSTM, RNN, type RecurrentLayer } from '../dist/index.js';
import type { PlainCell } from './plain.js';

export const T = 100;
export const I = 32;

export interface Cell {
  name: string;
  mode: PlainCell;
  gates: number;
}

export const CELLS: Cell[] = [
  { name: 'LSTM', mode: 'LSTM', gates: 4 },
  { name: 'GRU', mode: 'GRU', gates: 3 },
  { name: 'RNN', mode: 'RNN_TANH', gates: 1 },
];

/** The value after a flag, e.g. `--hidden 256`. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A comma-separated flag value as a list. */
export function listArg(name: string): string[] | undefined {
  return arg(name)?.split(',').map((s) => s.trim()).filter(Boolean);
}

export const cellsSel = listArg('--cells')?.map((s) => s.toUpperCase());
export const hiddenSel = listArg('--hidden')?.map(Number);
export const batchSel = listArg('--batch')?.map(Number);
export const withPlain = !process.argv.includes('--no-plain');
/** True when a filter leaves out part of the table (results files are then not written). */
export const selectionFiltered = !!(cellsSel || hiddenSel || batchSel || !withPlain);

/** The workloads the filters select, in table order. */
export function* workloads(): Generator<{ c: Cell; H: number; B: number; label: string }> {
  for (const c of CELLS) {
    if (cellsSel && !cellsSel.includes(c.name)) continue;
    for (const H of [128, 256, 512]) {
      if (hiddenSel && !hiddenSel.includes(H)) continue;
      for (const B of [1, 32]) {
        if (batchSel && !batchSel.includes(B)) continue;
        yield { c, H, B, label: `${c.name} H${H} B${B}` };
      }
    }
  }
}

/** One layer, one direction, fixed seed. */
export function makeModel(cell: string, H: number): RecurrentLayer {
  const o = { inputSize: I, hiddenSize: H, seed: 1234 };
  if (cell === 'LSTM') return new LSTM(o);
  if (cell === 'GRU') return new GRU(o);
  return new RNN({ ...o, nonlinearity: 'tanh' });
}
