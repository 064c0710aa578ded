export interface TrainSpec {
  name: string;
  cell: 'LSTM' | 'LSTM_PROJ' | 'GRU' | 'GRU_BEFORE' | 'RNN_TANH' | 'RNN_RELU';
  L: number;
  bi: boolean;
  bf: boolean;
  head: 'sequence' | 'last';
  optimizer: 'adam' | 'sgd-momentum';
  clipGradNorm?: number;
  clipGradValue?: number;
  shuffle: boolean;
  ragged: boolean;
  validation: boolean;
  tbptt?: number;
  epochs: number;
}

export interface TrainRun {
  weights: Record<string, Uint32Array>;
  losses: number[];
  gradNorms: number[];
  epochs: Array<{ loss: number; valLoss?: number; lr: number; skippedSteps: number }>;
}

export const TRAIN_SPECS: TrainSpec[];
export function trainOnce(lib: unknown, spec: TrainSpec): TrainRun;
export function hashRun(run: TrainRun): string;
