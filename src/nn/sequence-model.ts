/**
 * A recurrent stack followed by a {@link Linear} head: the usual sequence model, per time step (sequence to
 * sequence) or on the final state (sequence classification or regression).
 * @module
 */
import { InvalidArgumentError, RnnWasmError, StateDictError } from '../errors.js';
import { Tensor, checkOptions, describe, shapeStr, type TensorLike } from '../tensor.js';
import type { Parameter } from '../train/parameter.js';
import { normalizeStateDict, type StateDictInput } from '../io/state-dict.js';
import { Linear } from './linear.js';
import { RecurrentLayer, type BackwardResult, type ForwardOptions } from './recurrent.js';

/** Which features the head reads. */
export type HeadInput = 'sequence' | 'last';

/** Options of {@link SequenceModel}. */
export interface SequenceModelOptions {
  /** The recurrent stack. The model takes ownership (disposing the model disposes it). */
  rnn: RecurrentLayer;
  /** The head; its inFeatures must be numDirections * outputSize of `rnn`. Owned likewise. */
  head: Linear;
  /**
   * `'sequence'` (default): the head maps every time step's output, giving (T, B, out) (or (B, T, out) with
   * batchFirst). `'last'`: the head maps the top layer's final hidden state of each direction, concatenated
   * (B, D*H_out) → (B, out); with `lengths` that is each sequence's own last step, as with packed sequences.
   */
  headInput?: HeadInput;
}

/** Recurrent stack + linear head, with forward, backward and parameters for training. */
export class SequenceModel {
  /** The recurrent stack. */
  readonly rnn: RecurrentLayer;
  /** The head. */
  readonly head: Linear;
  /** What the head reads. */
  readonly headInput: HeadInput;
  private pending: { hShape: readonly number[]; oShape: readonly number[] } | undefined;

  constructor(options: SequenceModelOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('options', `expected { rnn, head, headInput? }, got ${describe(options)}`);
    }
    const { rnn, head } = options;
    if (!(rnn instanceof RecurrentLayer)) {
      throw new InvalidArgumentError('options.rnn', `expected an RNN, LSTM or GRU, got ${describe(rnn)}`);
    }
    if (!(head instanceof Linear)) {
      throw new InvalidArgumentError('options.head', `expected a Linear, got ${describe(head)}`);
    }
    const want = rnn.numDirections * rnn.outputSize;
    if (head.inFeatures !== want) {
      throw new InvalidArgumentError('options.head', `inFeatures must be ${want} (numDirections x outputSize of rnn), ` +
        `got ${head.inFeatures}`);
    }
    const hi = options.headInput ?? 'sequence';
    if (hi !== 'sequence' && hi !== 'last') {
      throw new InvalidArgumentError('options.headInput', `expected 'sequence' or 'last', got ${describe(hi)}`);
    }
    this.rnn = rnn;
    this.head = head;
    this.headInput = hi;
  }

  // The head checks its input for non-finite values as a user input; here that input is the recurrent layer's
  // output, finite whenever the caller's input was (forward checks it), so a non-finite value means the
  // recurrence overflowed float32: say so instead of blaming `input`.
  private headForward(x: TensorLike, train: boolean): Tensor {
    try {
      return this.head.forward(x, { train });
    } catch (e) {
      if (e instanceof InvalidArgumentError && e.argument === 'input' && /not finite|finite numbers/.test(e.message)) {
        throw new RnnWasmError('NON_FINITE', `the recurrent layer's output overflowed float32 (${e.message.slice(7)}); ` +
          'the weights or the input are too large for this sequence');
      }
      throw e;
    }
  }

  /** Runs the model. With `train`, keeps what {@link backward} needs. */
  forward(input: TensorLike, options: ForwardOptions = {}): Tensor {
    options = checkOptions('options', options, '{ h0?, c0?, lengths?, train? }');
    const r = this.rnn.forward(input, options);
    const train = options.train ?? false;
    if (this.headInput === 'sequence') {
      this.pending = train ? { hShape: r.hN.shape, oShape: r.output.shape } : undefined;
      return this.headForward(r.output, train);
    }
    const B = r.hN.shape.length === 3 ? r.hN.shape[1]! : 1;
    const feats = topStateFeatures(this.rnn, r.hN.data, B);
    this.pending = train ? { hShape: r.hN.shape, oShape: r.output.shape } : undefined;
    const y = this.headForward({ data: feats, shape: [B, feats.length / B] }, train);
    return r.hN.shape.length === 3 ? y : new Tensor(y.data, [y.shape[1]!]);
  }

  /**
   * Backward from the gradient of the loss with respect to the forward's result. Accumulates gradients; returns
   * the recurrent stack's result (input and initial-state gradients, per-step gradient norms on request).
   */
  backward(dOutput: TensorLike, options: { recordGradNorms?: boolean; collectGrads?: boolean } = {}): BackwardResult {
    const p = this.pending;
    if (!p) throw new InvalidArgumentError('backward', 'call forward(input, { train: true }) first');
    this.pending = undefined;
    const dFeat = this.head.backward(dOutput);
    if (this.headInput === 'sequence') {
      return this.rnn.backward({ output: { data: dFeat.data, shape: p.oShape } }, options);
    }
    const B = p.hShape.length === 3 ? p.hShape[1]! : 1;
    const dh = spreadTopState(this.rnn, dFeat.data, B);
    return this.rnn.backward({ hN: { data: dh, shape: p.hShape } }, options);
  }

  /** Every parameter, named `rnn.*` and `head.*`. */
  parameters(): Parameter[] {
    return [
      ...this.rnn.parameters().map((p) => ({ ...p, name: `rnn.${p.name}` })),
      ...this.head.parameters().map((p) => ({ ...p, name: `head.${p.name}` })),
    ];
  }

  /** Zeroes every gradient. */
  zeroGrad(): void {
    this.rnn.zeroGrad();
    this.head.zeroGrad();
  }

  /** Weights under `rnn.` and `head.` (PyTorch's names for a module with attributes `rnn` and `head`). */
  stateDict(): Record<string, Tensor> {
    return { ...this.rnn.stateDict({ prefix: 'rnn.' }), ...this.head.stateDict({ prefix: 'head.' }) };
  }

  /**
   * Loads `rnn.*` and `head.*` tensors. Every expected tensor must be present and nothing else; names are
   * checked before anything is written.
   */
  loadStateDict(sd: StateDictInput): void {
    const entries = normalizeStateDict(sd);
    const expected = this.stateDict();
    const given = new Set<string>();
    for (const [n] of entries) {
      if (!(n in expected)) {
        throw new StateDictError(n, `unexpected tensor; expected one of ${Object.keys(expected).join(', ')}`);
      }
      given.add(n);
    }
    for (const n of Object.keys(expected)) {
      if (!given.has(n)) throw new StateDictError(n, `missing tensor of shape ${shapeStr(expected[n]!.shape)}`);
    }
    const m = new Map(entries.map(([n, e]) => [n, e.shape ? { shape: e.shape, data: e.data } : e.data]));
    // Each part validates before writing; a head refused after the rnn was written puts the rnn back, so that
    // nothing is written unless every tensor is valid.
    this.rnn.loadStateDict(m, { prefix: 'rnn.', strict: false });
    try {
      this.head.loadStateDict(m, { prefix: 'head.', strict: false });
    } catch (e) {
      this.rnn.loadStateDict(expected, { prefix: 'rnn.', strict: false });
      throw e;
    }
  }

  /** Disposes the recurrent stack and the head. */
  dispose(): void {
    this.rnn.dispose();
    this.head.dispose();
  }

  /** Same as {@link dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** The top layer's final hidden state of each direction, concatenated: (B, D*H_out) from hN (D*L, B, H_out). */
export function topStateFeatures(rnn: RecurrentLayer, hN: Float32Array, B: number): Float32Array {
  const { numDirections: D, numLayers: L, outputSize: H } = rnn;
  const f = new Float32Array(B * D * H);
  for (let d = 0; d < D; d++) {
    const idx = (L - 1) * D + d;
    for (let b = 0; b < B; b++) f.set(hN.subarray((idx * B + b) * H, (idx * B + b + 1) * H), (b * D + d) * H);
  }
  return f;
}

/** The adjoint of {@link topStateFeatures}: a gradient (B, D*H_out) spread into a zero dhN (D*L, B, H_out). */
export function spreadTopState(rnn: RecurrentLayer, dFeat: Float32Array, B: number): Float32Array {
  const { numDirections: D, numLayers: L, outputSize: H } = rnn;
  const dh = new Float32Array(D * L * B * H);
  for (let d = 0; d < D; d++) {
    const idx = (L - 1) * D + d;
    for (let b = 0; b < B; b++) dh.set(dFeat.subarray((b * D + d) * H, (b * D + d + 1) * H), (idx * B + b) * H);
  }
  return dh;
}
