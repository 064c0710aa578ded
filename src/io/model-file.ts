/**
 * Whole-model files: architecture and weights in one `.safetensors` file. The weights are stored under
 * PyTorch's names (`rnn.weight_ih_l0`, ..., `head.weight`) in F32, so the file also loads in PyTorch with
 * `safetensors.torch.load_file`; the architecture is JSON in the metadata under `rnn-wasm.architecture`.
 * Loading reproduces the weights bit for bit.
 * @module
 */
import { InvalidArgumentError, StateDictError } from '../errors.js';
import { Linear } from '../nn/linear.js';
import { GRU, LSTM, RNN, RecurrentLayer } from '../nn/recurrent.js';
import { SequenceModel, type HeadInput } from '../nn/sequence-model.js';
import { describe, shapeStr } from '../tensor.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensor } from './safetensors.js';

/** The architecture recorded in a model file. */
export interface Architecture {
  /** File format version. */
  version: 1;
  /** The recurrent stack. */
  rnn: {
    mode: 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    bidirectional: boolean;
    batchFirst: boolean;
    bias: boolean;
    projSize: number;
    /** GRU only, when false (the reset-before form). */
    resetAfter?: boolean;
  };
  /** The head, when the model is a {@link SequenceModel}. */
  head?: { inFeatures: number; outFeatures: number; bias: boolean; headInput: HeadInput };
}

const KEY = 'rnn-wasm.architecture';

/** The architecture of a model. */
export function architectureOf(model: RecurrentLayer | SequenceModel): Architecture {
  const rnn = model instanceof SequenceModel ? model.rnn : model;
  const arch: Architecture = {
    version: 1,
    rnn: {
      mode: rnn.mode, inputSize: rnn.inputSize, hiddenSize: rnn.hiddenSize, numLayers: rnn.numLayers,
      bidirectional: rnn.bidirectional, batchFirst: rnn.batchFirst, bias: rnn.bias, projSize: rnn.projSize,
    },
  };
  if (rnn instanceof GRU && !rnn.resetAfter) arch.rnn.resetAfter = false;
  if (model instanceof SequenceModel) {
    arch.head = { inFeatures: model.head.inFeatures, outFeatures: model.head.outFeatures, bias: model.head.hasBias,
      headInput: model.headInput };
  }
  return arch;
}

/** Serialises a model (architecture + weights) to `.safetensors` bytes. */
export function saveModel(model: RecurrentLayer | SequenceModel, metadata: Record<string, string> = {}): Uint8Array {
  if (!(model instanceof RecurrentLayer) && !(model instanceof SequenceModel)) {
    throw new InvalidArgumentError('model', 'expected an RNN, LSTM, GRU or SequenceModel');
  }
  const sd = model instanceof SequenceModel ? model.stateDict() : model.stateDict({ prefix: 'rnn.' });
  return writeSafetensors(sd, { metadata: { ...metadata, format: 'pt', [KEY]: JSON.stringify(architectureOf(model)) } });
}

/** Builds the model a file describes and loads its weights. Requires `await init()`. */
export function loadModel(bytes: Uint8Array | ArrayBuffer): RecurrentLayer | SequenceModel {
  const file = readSafetensors(bytes);
  const json = file.metadata[KEY];
  if (json === undefined) {
    throw new StateDictError('__metadata__', `no '${KEY}' entry: not an rnn-wasm model file (a plain state dict ` +
      'loads with model.loadStateDict)');
  }
  let arch: Architecture;
  try {
    arch = JSON.parse(json) as Architecture;
  } catch (e) {
    throw new StateDictError('__metadata__', `'${KEY}' is not valid JSON: ${String(e)}`);
  }
  if (arch?.version !== 1 || typeof arch.rnn !== 'object' || arch.rnn === null) {
    const version: unknown = (arch as { version?: unknown } | null)?.version;
    throw new StateDictError('__metadata__', `unsupported architecture record (version ${describe(version)})`);
  }
  checkTensors(arch, file.tensors);
  const a = arch.rnn;
  const common = { inputSize: a.inputSize, hiddenSize: a.hiddenSize, numLayers: a.numLayers,
    bidirectional: a.bidirectional, batchFirst: a.batchFirst, bias: a.bias, seed: 0 };
  let rnn: RecurrentLayer;
  if (a.mode === 'LSTM') rnn = new LSTM({ ...common, projSize: a.projSize });
  else if (a.mode === 'GRU') rnn = new GRU({ ...common, resetAfter: a.resetAfter ?? true });
  else if (a.mode === 'RNN_TANH' || a.mode === 'RNN_RELU') {
    rnn = new RNN({ ...common, nonlinearity: a.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
  } else {
    throw new StateDictError('__metadata__', `unknown cell mode ${describe(a.mode)}`);
  }
  const tensors = new Map([...file.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
  try {
    if (!arch.head) {
      rnn.loadStateDict(tensors, { prefix: 'rnn.' });
      for (const n of tensors.keys()) {
        if (!n.startsWith('rnn.')) throw new StateDictError(n, 'unexpected tensor in a model without a head');
      }
      return rnn;
    }
    const h = arch.head;
    const head = new Linear({ inFeatures: h.inFeatures, outFeatures: h.outFeatures, bias: h.bias, seed: 0 });
    let model: SequenceModel;
    try {
      model = new SequenceModel({ rnn, head, headInput: h.headInput });
    } catch (e) {
      head.dispose();
      throw e;
    }
    try {
      model.loadStateDict(tensors);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  } catch (e) {
    if (!rnn.isDisposed) rnn.dispose();
    throw e;
  }
}

/** An architecture field that must be an integer in [lo, hi]. */
function archInt(where: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) {
    throw new StateDictError('__metadata__', `'${KEY}' ${where}: expected an integer in [${lo}, ${hi}], got ` +
      `${describe(v)}`);
  }
  return v;
}

/** An architecture field that must be a boolean when present. */
function archBool(where: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') {
    throw new StateDictError('__metadata__', `'${KEY}' ${where}: expected a boolean, got ${describe(v)}`);
  }
}

/**
 * Checks the file's tensors against the shapes the architecture implies (names, shapes, nothing missing or extra)
 * before any model is built, so that an architecture record declaring a huge model next to small tensors is
 * refused without allocating WebAssembly memory for it. Field types beyond the sizes are left to the constructors.
 */
function checkTensors(arch: Architecture, tensors: Map<string, SafetensorsTensor>): void {
  const a = arch.rnn as Record<string, unknown>;
  if (a.mode !== 'LSTM' && a.mode !== 'GRU' && a.mode !== 'RNN_TANH' && a.mode !== 'RNN_RELU') {
    throw new StateDictError('__metadata__', `unknown cell mode ${describe(a.mode)}`);
  }
  const inputSize = archInt('rnn.inputSize', a.inputSize, 1, 1 << 16);
  const H = archInt('rnn.hiddenSize', a.hiddenSize, 1, 1 << 16);
  const L = archInt('rnn.numLayers', a.numLayers, 1, 1024);
  const P = a.projSize === undefined ? 0 : archInt('rnn.projSize', a.projSize, 0, H - 1);
  for (const k of ['bidirectional', 'batchFirst', 'bias', 'resetAfter'] as const) archBool(`rnn.${k}`, a[k]);
  const D = a.bidirectional === true ? 2 : 1;
  const G = a.mode === 'LSTM' ? 4 : a.mode === 'GRU' ? 3 : 1;
  const out = P > 0 ? P : H;
  const want = new Map<string, number[]>();
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      want.set(`rnn.weight_ih${sfx}`, [G * H, l === 0 ? inputSize : D * out]);
      want.set(`rnn.weight_hh${sfx}`, [G * H, out]);
      if (a.bias !== false) {
        want.set(`rnn.bias_ih${sfx}`, [G * H]);
        want.set(`rnn.bias_hh${sfx}`, [G * H]);
      }
      if (P > 0) want.set(`rnn.weight_hr${sfx}`, [P, H]);
    }
  }
  const head = arch.head as Record<string, unknown> | undefined;
  if (head !== undefined && head !== null) {
    if (typeof head !== 'object') {
      throw new StateDictError('__metadata__', `'${KEY}' head: expected an object, got ${describe(head)}`);
    }
    if (head.headInput !== undefined && head.headInput !== 'sequence' && head.headInput !== 'last') {
      throw new StateDictError('__metadata__', `'${KEY}' head.headInput: expected 'sequence' or 'last', got ` +
        `${describe(head.headInput)}`);
    }
    archBool('head.bias', head.bias);
    const inF = archInt('head.inFeatures', head.inFeatures, 1, 1 << 24);
    const outF = archInt('head.outFeatures', head.outFeatures, 1, 1 << 24);
    want.set('head.weight', [outF, inF]);
    if (head.bias !== false) want.set('head.bias', [outF]);
  }
  for (const [name, t] of tensors) {
    const shape = want.get(name);
    if (shape === undefined) {
      throw new StateDictError(name, `unexpected tensor for the architecture in '${KEY}'`);
    }
    if (shape.length !== t.shape.length || shape.some((s, i) => s !== t.shape[i])) {
      throw new StateDictError(name, `expected shape ${shapeStr(shape)} (from '${KEY}'), got ${shapeStr(t.shape)}`);
    }
  }
  for (const [name, shape] of want) {
    if (!tensors.has(name)) {
      throw new StateDictError(name, `missing tensor of shape ${shapeStr(shape)} (from '${KEY}')`);
    }
  }
}
