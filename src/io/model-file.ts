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
import { readSafetensors, writeSafetensors } from './safetensors.js';

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
    throw new StateDictError('__metadata__', `unsupported architecture record (version ${String(arch?.version)})`);
  }
  const a = arch.rnn;
  const common = { inputSize: a.inputSize, hiddenSize: a.hiddenSize, numLayers: a.numLayers,
    bidirectional: a.bidirectional, batchFirst: a.batchFirst, bias: a.bias, seed: 0 };
  let rnn: RecurrentLayer;
  if (a.mode === 'LSTM') rnn = new LSTM({ ...common, projSize: a.projSize });
  else if (a.mode === 'GRU') rnn = new GRU({ ...common, resetAfter: a.resetAfter ?? true });
  else if (a.mode === 'RNN_TANH' || a.mode === 'RNN_RELU') {
    rnn = new RNN({ ...common, nonlinearity: a.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
  } else {
    throw new StateDictError('__metadata__', `unknown cell mode ${String(a.mode)}`);
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
    const model = new SequenceModel({ rnn, head: new Linear({ inFeatures: h.inFeatures, outFeatures: h.outFeatures,
      bias: h.bias, seed: 0 }), headInput: h.headInput });
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
