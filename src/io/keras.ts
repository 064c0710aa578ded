/**
 * Import of Keras / TensorFlow.js layers models (`model.json` + `weights.bin`) with SimpleRNN, LSTM or GRU layers,
 * optionally stacked, optionally `Bidirectional(merge_mode='concat')`, optionally followed by one `Dense` head.
 *
 * ```ts
 * import { init, importKeras } from 'rnn-wasm';
 * await init();
 * const keras = importKeras(await readFile('model.json', 'utf8'), [await readFile('group1-shard1of1.bin')]);
 * const y = keras.predict({ data: x, shape: [B, T, F] });   // what Keras' model.predict(x) returns
 * keras.dispose();
 * ```
 *
 * The format is the one `tensorflowjs_converter --input_format keras` and tfjs-layers' `model.save()` write: a
 * JSON file with `modelTopology` (the Keras model config: `Sequential` or a chain-shaped `Functional` / `Model`,
 * optionally wrapped in `model_config`) and `weightsManifest` (groups of `{ paths, weights: [{ name, shape,
 * dtype, quantization? }] }` describing the concatenated bytes of each group's shards).
 *
 * Mapping to PyTorch's layout (what the engine runs):
 *
 * - Keras kernels are (input_dim, G*units) and recurrent kernels (units, G*units), i.e. transposed with respect to
 *   PyTorch's `weight_ih` (G*H, I) and `weight_hh` (G*H, H).
 * - LSTM gates i, f, c, o are PyTorch's i, f, g, o (same order); the single bias goes to `bias_ih`, `bias_hh` is 0.
 * - GRU gates z, r, h become PyTorch's r, z, n (blocks reordered). With `reset_after=True` the bias is (2, 3*units):
 *   row 0 (input bias) goes to `bias_ih` and row 1 (recurrent bias) to `bias_hh`, which is exactly PyTorch's GRU
 *   (`r * (W_hn h + b_hn)`; Keras' h = z*h_prev + (1-z)*hh is PyTorch's (1-z)*n + z*h). With `reset_after=False`
 *   (Keras' original GRU, hh = tanh(x W_h + b_h + (r*h) U_h), the default of Keras 2.2 and tfjs-layers) the single
 *   bias goes to `bias_ih`, `bias_hh` is 0, and the layer is a {@link GRU} with `resetAfter: false`, which has no
 *   torch.nn equivalent (a model file or state dict of it is only meaningful to this library).
 * - SimpleRNN with `tanh` or `relu` is `nn.RNN` with that nonlinearity; its bias goes to `bias_ih`.
 * - Consecutive recurrent layers of one cell type and size become `numLayers`; `Bidirectional(concat)` becomes
 *   `bidirectional` (Keras concatenates [forward, backward] as PyTorch does); `Dense` (or `TimeDistributed(Dense)`)
 *   becomes a {@link Linear} head reading every step (`headInput: 'sequence'`) when the last recurrent layer returns
 *   sequences, else the final state (`'last'`). The Dense activation is reported as `headActivation` and applied by
 *   {@link KerasModel.predict} (the {@link SequenceModel} itself returns pre-activation values).
 * - Keras is batch-major: the layer is created with `batchFirst: true`.
 *
 * Everything is validated before any WebAssembly memory is allocated: the topology (supported layers,
 * activations and options), the manifest (dtypes, shapes, byte sizes against the given buffers) and every weight
 * (presence, shape, finiteness; weights no layer uses are an error).
 * @module
 */
import { InvalidArgumentError, StateDictError, UnsupportedError } from '../errors.js';
import { Linear } from '../nn/linear.js';
import { GRU, LSTM, RNN, type CellMode, type GRUOptions, type RecurrentLayer } from '../nn/recurrent.js';
import { SequenceModel, type HeadInput } from '../nn/sequence-model.js';
import { describe, shapeStr, Tensor, type TensorLike } from '../tensor.js';

/** The weight bytes: one buffer (all shards of all groups concatenated) or one buffer per manifest path, in order. */
export type KerasWeightsInput =
  | Uint8Array
  | ArrayBuffer
  | ArrayBufferView
  | Array<Uint8Array | ArrayBuffer | ArrayBufferView>;

/** Activations a Dense head may have; {@link KerasModel.predict} applies it after the {@link Linear} layer. */
export type KerasHeadActivation = 'linear' | 'softmax' | 'sigmoid' | 'tanh' | 'relu';

/** A Keras model converted to PyTorch's names and layout, without any WebAssembly memory (see {@link convertKeras}). */
export interface KerasConversion {
  /** Cell kind in PyTorch's vocabulary. */
  mode: CellMode;
  /** Options for `new LSTM(...)`, `new GRU(...)` or `new RNN(...)`; `batchFirst` is true (Keras is batch-major). */
  options: {
    inputSize: number;
    hiddenSize: number;
    numLayers: number;
    bidirectional: boolean;
    batchFirst: true;
    bias: boolean;
    nonlinearity?: 'tanh' | 'relu';
    /** GRU only: false for Keras' `reset_after=False` (see {@link GRUOptions.resetAfter}). */
    resetAfter?: boolean;
  };
  /** The recurrent weights under PyTorch's names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...) and shapes. */
  stateDict: Record<string, Tensor>;
  /** The Dense head, when the Keras model ends with one. */
  head?: {
    inFeatures: number;
    outFeatures: number;
    bias: boolean;
    /** `weight` (out, in) and, with a bias, `bias` (out): `torch.nn.Linear`'s names. */
    stateDict: Record<string, Tensor>;
    /** What the head reads: every step's output, or the final state. */
    input: HeadInput;
    /** The Dense activation (or that of an `Activation` layer right after it). */
    activation: KerasHeadActivation;
  };
  /** `return_sequences` of the last recurrent layer. */
  returnSequences: boolean;
  /** Names of the Keras layers that became recurrent layers 0, 1, ... of the stack. */
  recurrentLayers: string[];
  /** Name of the Keras layer that became the head. */
  headLayer?: string;
}

type Json = Record<string, unknown>;
type CellKind = 'LSTM' | 'GRU' | 'SimpleRNN';
const GATES: Record<CellKind, number> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };
/** For each PyTorch gate block, the Keras gate block it comes from. GRU: PyTorch r, z, n from Keras z, r, h. */
const ORDER: Record<CellKind, number[]> = { LSTM: [0, 1, 2, 3], GRU: [1, 0, 2], SimpleRNN: [0] };
const MAX_DIM = 1 << 16;

interface KLayer {
  className: string;
  name: string;
  config: Json;
}

interface RecurrentSpec {
  name: string;
  className: string;
  kind: CellKind;
  units: number;
  activation: string;
  useBias: boolean;
  returnSequences: boolean;
  resetAfter?: boolean;
  bidirectional: boolean;
  /** Declared input feature size (batch_input_shape / batch_shape), when the config has one. */
  inputDim?: number;
}

interface HeadSpec {
  name: string;
  className: string;
  units: number;
  useBias: boolean;
  activation: KerasHeadActivation;
}

interface Plan {
  recurrent: RecurrentSpec[];
  head?: HeadSpec;
  inputDim?: number;
}

interface ManifestEntry {
  name: string;
  segments: string[];
  shape: number[];
  /** Storage dtype: float32, float16 (quantized), uint8 / uint16 (affine quantized). */
  storage: 'float32' | 'float16' | 'uint8' | 'uint16';
  scale: number;
  min: number;
  group: number;
  offset: number;
  bytes: number;
}

/** Manifest entries with their location, and each group's bytes (its shards concatenated). */
interface Manifest {
  entries: ManifestEntry[];
  groups: Uint8Array[];
}

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

// ------------------------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------------------------

/**
 * Converts a Keras / TensorFlow.js layers model to PyTorch's names and layout, validating everything, without
 * touching WebAssembly memory (no `init()` needed): handy to write a `.safetensors` file with
 * {@link writeSafetensors}, or to inspect what {@link importKeras} will build.
 *
 * @param modelJson the text of `model.json` or its parsed object.
 * @param weights the bytes of the weight files: one buffer holding every shard of every group concatenated in
 *   manifest order, or one buffer per path of `weightsManifest` (all groups' paths in order).
 * @throws InvalidArgumentError malformed JSON, manifest or buffers (byte sizes that disagree with the manifest).
 * @throws UnsupportedError a layer, activation or option that has no exact equivalent here.
 * @throws StateDictError a missing, misshaped, non-finite or unused weight (named, with the expected shape).
 */
export function convertKeras(modelJson: string | object, weights: KerasWeightsInput): KerasConversion {
  const { topology, manifest } = parseModelJson(modelJson);
  const plan = buildPlan(topologyLayers(topology));
  const entries = readManifest(manifest, weights);
  return mapWeights(plan, entries);
}

/**
 * Builds the recurrent stack (and Linear head) of a Keras / TensorFlow.js layers model. See the module
 * documentation for the mapping and {@link convertKeras} for the arguments and errors. Nothing is allocated
 * unless the whole model is valid. Requires `await init()` first.
 */
export function importKeras(modelJson: string | object, weights: KerasWeightsInput): KerasModel {
  return KerasModel.fromConversion(convertKeras(modelJson, weights));
}

/** An imported Keras model: the recurrent stack, its optional head, and Keras' `predict`. */
export class KerasModel {
  /** The recurrent stack (`batchFirst: true`). Owned by this object. */
  readonly rnn: RecurrentLayer;
  /** The Dense head, if the Keras model has one. Owned by this object. */
  readonly head?: Linear;
  /** What the head reads (present with a head). */
  readonly headInput?: HeadInput;
  /** The Dense activation, applied by {@link predict} but not by {@link model} (present with a head). */
  readonly headActivation?: KerasHeadActivation;
  /** `rnn` + `head` as a {@link SequenceModel} (present with a head); its forward returns pre-activation values. */
  readonly model?: SequenceModel;
  /** `return_sequences` of the last recurrent layer. */
  readonly returnSequences: boolean;
  /** The conversion this model was built from (PyTorch-named weights, Keras layer names). */
  readonly conversion: KerasConversion;

  private constructor(c: KerasConversion, rnn: RecurrentLayer, head?: Linear) {
    this.conversion = c;
    this.rnn = rnn;
    this.returnSequences = c.returnSequences;
    if (head && c.head) {
      this.head = head;
      this.headInput = c.head.input;
      this.headActivation = c.head.activation;
      this.model = new SequenceModel({ rnn, head, headInput: c.head.input });
    }
  }

  /** Builds the layers of a conversion (see {@link convertKeras}). Requires `await init()` first. */
  static fromConversion(c: KerasConversion): KerasModel {
    const o = c.options;
    const common = {
      inputSize: o.inputSize, hiddenSize: o.hiddenSize, numLayers: o.numLayers, bidirectional: o.bidirectional,
      batchFirst: true, bias: o.bias, seed: 0,
    };
    let rnn: RecurrentLayer;
    if (c.mode === 'LSTM') rnn = new LSTM(common);
    else if (c.mode === 'GRU') rnn = new GRU({ ...common, resetAfter: o.resetAfter ?? true });
    else rnn = new RNN({ ...common, nonlinearity: c.mode === 'RNN_RELU' ? 'relu' : 'tanh' });
    let head: Linear | undefined;
    try {
      rnn.loadStateDict(c.stateDict);
      if (c.head) {
        const h = c.head;
        head = new Linear({ inFeatures: h.inFeatures, outFeatures: h.outFeatures, bias: h.bias, seed: 0 });
        head.loadStateDict(c.head.stateDict);
      }
    } catch (e) {
      head?.dispose();
      rnn.dispose();
      throw e;
    }
    return new KerasModel(c, rnn, head);
  }

  /**
   * What Keras' `model.predict(x)` returns, for x of shape (B, T, features) (Keras is batch-major): the last
   * recurrent layer's output, (B, T, D*units) with `return_sequences`, else (B, D*units); with a head, the Dense
   * layer's output (B, T, out) or (B, out), its activation applied (softmax over the last axis).
   */
  predict(input: TensorLike): Tensor {
    if (input !== null && typeof input === 'object' && Array.isArray(input.shape) && input.shape.length !== 3) {
      throw new InvalidArgumentError('input', `Keras models take (batch, steps, features); got shape ` +
        `${shapeStr(input.shape)}`);
    }
    if (this.model) return applyActivation(this.model.forward(input), this.headActivation ?? 'linear');
    const r = this.rnn.forward(input);
    if (this.returnSequences) return r.output;
    const { numDirections: D, numLayers: L, outputSize: H } = this.rnn;
    const B = r.hN.shape[1]!;
    const out = new Float32Array(B * D * H);
    for (let d = 0; d < D; d++) {
      for (let b = 0; b < B; b++) {
        const src = (((L - 1) * D + d) * B + b) * H;
        out.set(r.hN.data.subarray(src, src + H), (b * D + d) * H);
      }
    }
    return new Tensor(out, [B, D * H]);
  }

  /** Frees the recurrent stack and the head. */
  dispose(): void {
    this.rnn.dispose();
    this.head?.dispose();
  }

  /** Same as {@link dispose}. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

function applyActivation(t: Tensor, act: KerasHeadActivation): Tensor {
  if (act === 'linear') return t;
  const x = t.data;
  const y = new Float32Array(x.length);
  if (act === 'softmax') {
    const n = t.shape[t.shape.length - 1]!;
    for (let r = 0; r < x.length; r += n) {
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, x[r + i]!);
      let s = 0;
      for (let i = 0; i < n; i++) s += Math.exp(x[r + i]! - m);
      for (let i = 0; i < n; i++) y[r + i] = Math.exp(x[r + i]! - m) / s;
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      y[i] = act === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : act === 'tanh' ? Math.tanh(v) : Math.max(0, v);
    }
  }
  return new Tensor(y, t.shape);
}

// ------------------------------------------------------------------------------------------------------------
// model.json → topology and manifest
// ------------------------------------------------------------------------------------------------------------

function parseModelJson(modelJson: string | object): { topology: Json; manifest: unknown[] } {
  let m: unknown = modelJson;
  if (typeof modelJson === 'string') {
    try {
      m = JSON.parse(modelJson);
    } catch (e) {
      throw new InvalidArgumentError('modelJson', `not valid JSON: ${(e as Error).message}`);
    }
  }
  if (!isObj(m)) throw new InvalidArgumentError('modelJson', `expected the object of a model.json, got ${describe(m)}`);
  if (m.format !== undefined && m.format !== null && m.format !== 'layers-model') {
    throw new UnsupportedError(`modelJson.format is ${describe(m.format)}: only Keras / TensorFlow.js layers models ` +
      `('layers-model') can be imported (a graph model has no layer structure)`);
  }
  if (!isObj(m.modelTopology)) {
    throw new InvalidArgumentError('modelJson.modelTopology', `expected the Keras model config, got ` +
      `${describe(m.modelTopology)}`);
  }
  if (!Array.isArray(m.weightsManifest)) {
    throw new InvalidArgumentError('modelJson.weightsManifest', `expected an array of { paths, weights }, got ` +
      `${describe(m.weightsManifest)}`);
  }
  return { topology: m.modelTopology, manifest: m.weightsManifest };
}

/** The layers of the model as a chain, in order. */
function topologyLayers(topology: Json): KLayer[] {
  // tensorflowjs_converter wraps the Keras config in `model_config`; tfjs-layers' model.save() does not.
  const top = isObj(topology.model_config) ? topology.model_config : topology;
  const cls = top.class_name;
  const where = 'modelTopology';
  if (cls === 'Sequential') {
    const cfg = top.config;
    // Keras < 2.2.3 stored the list of layers directly as the config.
    const list = Array.isArray(cfg) ? cfg : isObj(cfg) ? cfg.layers : undefined;
    if (!Array.isArray(list)) {
      throw new InvalidArgumentError(`${where}.config.layers`, `expected an array, got ${describe(list)}`);
    }
    return list.map((l, i) => layerOf(l, `${where}.config.layers[${i}]`));
  }
  if (cls === 'Functional' || cls === 'Model') return functionalChain(top, where);
  throw new UnsupportedError(`${where}.class_name is ${describe(cls)}: expected 'Sequential', 'Functional' or 'Model'`);
}

function layerOf(l: unknown, where: string): KLayer {
  if (!isObj(l) || typeof l.class_name !== 'string' || !isObj(l.config)) {
    throw new InvalidArgumentError(where, `expected { class_name, config }, got ${describe(l)}`);
  }
  const name = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : undefined;
  if (name === undefined) throw new InvalidArgumentError(`${where}.config.name`, 'missing layer name');
  return { className: l.class_name, name, config: l.config };
}

/** A Functional model that is a single chain input → ... → output, as a list of layers. */
function functionalChain(top: Json, where: string): KLayer[] {
  const cfg = top.config;
  if (!isObj(cfg) || !Array.isArray(cfg.layers)) {
    throw new InvalidArgumentError(`${where}.config.layers`, `expected an array, got ` +
      `${describe(isObj(cfg) ? cfg.layers : cfg)}`);
  }
  const layers = new Map<string, KLayer>();
  const preds = new Map<string, string[]>();
  cfg.layers.forEach((raw, i) => {
    const w = `${where}.config.layers[${i}]`;
    const l = layerOf(raw, w);
    const name = isObj(raw) && typeof raw.name === 'string' ? raw.name : l.name;
    if (layers.has(name)) throw new InvalidArgumentError(w, `duplicate layer name '${name}'`);
    layers.set(name, l);
    const nodes = isObj(raw) ? raw.inbound_nodes : undefined;
    if (nodes === undefined || (Array.isArray(nodes) && nodes.length === 0)) {
      preds.set(name, []);
      return;
    }
    if (!Array.isArray(nodes)) {
      throw new InvalidArgumentError(`${w}.inbound_nodes`, `expected an array, got ${describe(nodes)}`);
    }
    if (nodes.length > 1) {
      throw new UnsupportedError(`layer '${name}' is called ${nodes.length} times (shared layer): only a chain of ` +
        `layers each used once can be imported`);
    }
    preds.set(name, inboundNames(nodes[0], name, `${w}.inbound_nodes[0]`));
  });
  const ins = layerRefs(cfg.input_layers, `${where}.config.input_layers`);
  const outs = layerRefs(cfg.output_layers, `${where}.config.output_layers`);
  if (ins.length !== 1 || outs.length !== 1) {
    throw new UnsupportedError(`the model has ${ins.length} inputs and ${outs.length} outputs: only one of each is ` +
      `supported`);
  }
  const chain: string[] = [];
  let cur: string | undefined = outs[0]!;
  while (cur !== undefined) {
    if (!layers.has(cur)) throw new InvalidArgumentError(`${where}.config`, `unknown layer '${cur}'`);
    if (chain.includes(cur)) throw new InvalidArgumentError(`${where}.config`, `cycle through layer '${cur}'`);
    chain.unshift(cur);
    const p: string[] = preds.get(cur) ?? [];
    if (p.length > 1) {
      throw new UnsupportedError(`layer '${cur}' takes ${p.length} inputs (${p.join(', ')}): only a chain of layers ` +
        `can be imported`);
    }
    cur = p[0];
  }
  if (chain[0] !== ins[0]) {
    throw new UnsupportedError(`the output '${outs[0]}' does not depend on the input '${ins[0]}' through a chain of ` +
      `layers`);
  }
  for (const n of layers.keys()) {
    if (!chain.includes(n)) throw new UnsupportedError(`layer '${n}' is not on the chain from input to output`);
  }
  return chain.map((n) => layers.get(n)!);
}

function layerRefs(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) {
    throw new InvalidArgumentError(where, `expected [[name, node, tensor], ...], got ${describe(v)}`);
  }
  if (typeof v[0] === 'string') return [v[0]]; // Keras 3 writes a single input as [name, node, tensor].
  return v.map((r, i) => {
    if (!Array.isArray(r) || typeof r[0] !== 'string') {
      throw new InvalidArgumentError(`${where}[${i}]`, 'expected [name, node, tensor]');
    }
    return r[0];
  });
}

/** Names of the layers one inbound node reads: Keras 2 / tfjs form [[name, node, tensor, kwargs], ...] or Keras 3's. */
function inboundNames(node: unknown, layer: string, where: string): string[] {
  const out: string[] = [];
  if (Array.isArray(node)) {
    for (const ref of node) {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') {
        throw new InvalidArgumentError(where, 'expected [name, node, tensor, kwargs]');
      }
      const kw = ref[3];
      if (isObj(kw) && Object.values(kw).some((v) => v !== null && typeof v === 'object')) {
        throw new UnsupportedError(`layer '${layer}' is called with tensor arguments ${Object.keys(kw).join(', ')} ` +
          `(e.g. initial_state or mask): only plain sequence inputs are supported`);
      }
      out.push(ref[0]);
    }
    return out;
  }
  if (isObj(node)) {
    const collect = (v: unknown, acc: string[], depth = 0): void => {
      if (depth > 64) throw new InvalidArgumentError(where, 'inbound node arguments nested more than 64 deep');
      if (Array.isArray(v)) v.forEach((x) => collect(x, acc, depth + 1));
      else if (isObj(v)) {
        if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) {
          const h: unknown = v.config.keras_history[0];
          acc.push(typeof h === 'string' ? h : describe(h));
        } else Object.values(v).forEach((x) => collect(x, acc, depth + 1));
      }
    };
    collect(node.args, out);
    const kwTensors: string[] = [];
    collect(node.kwargs, kwTensors);
    if (kwTensors.length) {
      throw new UnsupportedError(`layer '${layer}' is called with tensor keyword arguments (e.g. initial_state or ` +
        `mask, from ${kwTensors.join(', ')}): only plain sequence inputs are supported`);
    }
    return out;
  }
  throw new InvalidArgumentError(where, `unrecognised inbound node ${describe(node)}`);
}

// ------------------------------------------------------------------------------------------------------------
// Layers → plan
// ------------------------------------------------------------------------------------------------------------

/** Layers that compute nothing at inference. */
const PASS_THROUGH = new Set(['InputLayer', 'Dropout', 'SpatialDropout1D', 'GaussianDropout', 'GaussianNoise',
  'AlphaDropout', 'ActivityRegularization']);
const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN']);

function snake(s: string): string {
  return s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** An activation as Keras / tfjs serialise it: a name, or (Keras 3) an object with the name in `config`. */
function activationOf(v: unknown, fallback: string | undefined, where: string): string {
  if (v === undefined || v === null) {
    if (fallback === undefined) {
      throw new InvalidArgumentError(where, 'missing: the default differs between Keras versions (hard_sigmoid in ' +
        'Keras 2.2 and tfjs-layers, sigmoid in TF2), so it must be given');
    }
    return fallback;
  }
  if (typeof v === 'string') return snake(v);
  if (isObj(v)) {
    if (typeof v.config === 'string') return snake(v.config);
    if (isObj(v.config) && typeof v.config.name === 'string') return snake(v.config.name);
    if (typeof v.class_name === 'string') return snake(v.class_name);
  }
  throw new InvalidArgumentError(where, `expected an activation name, got ${describe(v)}`);
}

function boolOpt(cfg: Json, key: string, dflt: boolean, where: string): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') {
    throw new InvalidArgumentError(`${where}.${key}`, `expected a boolean, got ${describe(v)}`);
  }
  return v;
}

function unitsOf(cfg: Json, where: string): number {
  const u = cfg.units;
  if (typeof u !== 'number' || !Number.isSafeInteger(u) || u < 1 || u > MAX_DIM) {
    throw new InvalidArgumentError(`${where}.units`, `expected an integer in [1, ${MAX_DIM}], got ${describe(u)}`);
  }
  return u;
}

/** Feature size declared by batch_input_shape (Keras 2, tfjs) or batch_shape (Keras 3), if any. */
function declaredInputDim(cfg: Json): number | undefined {
  const s = cfg.batch_input_shape ?? cfg.batch_shape;
  if (!Array.isArray(s) || s.length === 0) return undefined;
  const f = s[s.length - 1];
  return typeof f === 'number' && Number.isSafeInteger(f) && f > 0 ? f : undefined;
}

/** One recurrent layer's config (inner layer of a Bidirectional, or standalone). */
function recurrentSpec(className: string, cfg: Json, name: string, where: string,
                       bidirectional: boolean): RecurrentSpec {
  const kind = className as CellKind;
  const units = unitsOf(cfg, where);
  const activation = activationOf(cfg.activation, 'tanh', `${where}.activation`);
  if (kind === 'SimpleRNN') {
    if (activation !== 'tanh' && activation !== 'relu') {
      throw new UnsupportedError(`layer '${name}' (SimpleRNN): activation '${activation}' is not supported; ` +
        `expected 'tanh' or 'relu' (torch.nn.RNN's nonlinearities)`);
    }
  } else {
    const rec = activationOf(cfg.recurrent_activation, undefined, `${where}.recurrent_activation`);
    if (activation !== 'tanh' || rec !== 'sigmoid') {
      const bad = activation !== 'tanh' ? `activation '${activation}'` : `recurrent_activation '${rec}'`;
      throw new UnsupportedError(`layer '${name}' (${kind}): ${bad} is not supported; only activation 'tanh' with ` +
        `recurrent_activation 'sigmoid' matches torch.nn.${kind}` +
        (rec === 'hard_sigmoid' ? ` (hard_sigmoid is the default of Keras 2.2 and tfjs-layers)` : ''));
    }
  }
  const unsupported = [
    ['return_state', 'return_state=True (states as extra outputs)'],
    ['time_major', 'time_major=True'],
    ['go_backwards', 'go_backwards=True (a reversed unidirectional layer; use Bidirectional)'],
  ] as const;
  for (const [key, what] of unsupported) {
    if (boolOpt(cfg, key, false, where)) {
      throw new UnsupportedError(`layer '${name}' (${kind}): ${what} is not supported`);
    }
  }
  boolOpt(cfg, 'stateful', false, where); // Stateful only carries state across calls; a fresh model starts at zero.
  const spec: RecurrentSpec = {
    name, className, kind, units, activation, bidirectional,
    useBias: boolOpt(cfg, 'use_bias', true, where),
    returnSequences: boolOpt(cfg, 'return_sequences', false, where),
    inputDim: declaredInputDim(cfg),
  };
  if (kind === 'GRU') {
    const ra = cfg.reset_after;
    if (ra !== undefined && ra !== null && typeof ra !== 'boolean') {
      throw new InvalidArgumentError(`${where}.reset_after`, `expected a boolean, got ${describe(ra)}`);
    }
    // Absent from old configs (whose GRU was reset_after=False): then the bias shape decides, in mapWeights.
    if (typeof ra === 'boolean') spec.resetAfter = ra;
  }
  return spec;
}

function buildPlan(layers: KLayer[]): Plan {
  const plan: Plan = { recurrent: [] };
  let stage: 'input' | 'recurrent' | 'head' = 'input';
  let pendingActivation = false;
  for (const l of layers) {
    const where = `layer '${l.name}' (${l.className})`;
    if (PASS_THROUGH.has(l.className)) {
      if (l.className === 'InputLayer' && plan.inputDim === undefined) plan.inputDim = declaredInputDim(l.config);
      continue;
    }
    if (stage === 'head') {
      if (l.className === 'Activation' && plan.head!.activation === 'linear' && !pendingActivation) {
        plan.head!.activation = headActivation(l.config.activation, l.name);
        pendingActivation = true;
        continue;
      }
      throw new UnsupportedError(`${where} after the Dense head '${plan.head!.name}': only one Dense layer ` +
        `(optionally followed by an Activation) may follow the recurrent layers`);
    }
    if (RECURRENT.has(l.className) || l.className === 'Bidirectional') {
      if (stage === 'recurrent') {
        const prev = plan.recurrent[plan.recurrent.length - 1]!;
        if (!prev.returnSequences) {
          throw new UnsupportedError(`${where} follows '${prev.name}', which has return_sequences=False`);
        }
      }
      const spec = l.className === 'Bidirectional' ? bidirectionalSpec(l) : recurrentSpec(l.className, l.config, l.name,
        `modelTopology layer '${l.name}'.config`, false);
      if (plan.recurrent.length === 0 && plan.inputDim === undefined) {
        plan.inputDim = spec.inputDim ?? declaredInputDim(l.config);
      }
      const first = plan.recurrent[0];
      if (first) {
        if (spec.kind !== first.kind || spec.units !== first.units || spec.bidirectional !== first.bidirectional ||
            spec.activation !== first.activation) {
          const d = (s: RecurrentSpec): string => `${s.bidirectional ? 'Bidirectional ' : ''}${s.kind}(` +
            `units=${s.units}${s.kind === 'SimpleRNN' ? `, activation='${s.activation}'` : ''})`;
          throw new UnsupportedError(`${where}: ${d(spec)} cannot be stacked with '${first.name}': ${d(first)}; ` +
            `numLayers > 1 needs one cell type, size, activation and direction for every layer`);
        }
        if (spec.kind === 'GRU' && spec.resetAfter !== undefined && first.resetAfter !== undefined &&
            spec.resetAfter !== first.resetAfter) {
          throw new UnsupportedError(`${where}: reset_after=${spec.resetAfter} cannot be stacked with ` +
            `'${first.name}' (reset_after=${first.resetAfter})`);
        }
      }
      plan.recurrent.push(spec);
      stage = 'recurrent';
      continue;
    }
    if (l.className === 'Dense' || l.className === 'TimeDistributed') {
      if (stage !== 'recurrent') throw new UnsupportedError(`${where} before any recurrent layer is not supported`);
      let cfg = l.config;
      if (l.className === 'TimeDistributed') {
        const inner = cfg.layer;
        if (!isObj(inner) || inner.class_name !== 'Dense' || !isObj(inner.config)) {
          const cls: unknown = isObj(inner) ? inner.class_name : inner;
          throw new UnsupportedError(`${where}: only TimeDistributed(Dense) is supported, got TimeDistributed(` +
            `${typeof cls === 'string' ? cls : describe(cls)})`);
        }
        if (!plan.recurrent[plan.recurrent.length - 1]!.returnSequences) {
          throw new InvalidArgumentError(where, 'TimeDistributed needs a sequence, but the recurrent layer before it ' +
            'has return_sequences=False');
        }
        cfg = inner.config;
      }
      plan.head = {
        name: l.name, className: l.className, units: unitsOf(cfg, `${where}.config`),
        useBias: boolOpt(cfg, 'use_bias', true, `${where}.config`),
        activation: headActivation(cfg.activation, l.name),
      };
      stage = 'head';
      continue;
    }
    throw new UnsupportedError(`${where} is not supported: a model must be [InputLayer] (SimpleRNN | LSTM | GRU | ` +
      `Bidirectional)+ [Dense | TimeDistributed(Dense)] [Activation], with Dropout anywhere`);
  }
  if (plan.recurrent.length === 0) {
    throw new UnsupportedError('the model has no SimpleRNN, LSTM, GRU or Bidirectional layer');
  }
  return plan;
}

function headActivation(v: unknown, layer: string): KerasHeadActivation {
  const a = activationOf(v, 'linear', `layer '${layer}'.activation`);
  if (a === 'linear' || a === 'softmax' || a === 'sigmoid' || a === 'tanh' || a === 'relu') return a;
  throw new UnsupportedError(`layer '${layer}': head activation '${a}' is not supported; expected linear, softmax, ` +
    `sigmoid, tanh or relu`);
}

function bidirectionalSpec(l: KLayer): RecurrentSpec {
  const cfg = l.config;
  const where = `modelTopology layer '${l.name}'.config`;
  const mode = cfg.merge_mode === undefined ? 'concat' : cfg.merge_mode;
  if (mode !== 'concat') {
    throw new UnsupportedError(`layer '${l.name}' (Bidirectional): merge_mode ${describe(mode)} is not supported; ` +
      `only 'concat' (as PyTorch's bidirectional output) is`);
  }
  const inner = cfg.layer;
  if (!isObj(inner) || typeof inner.class_name !== 'string' || !isObj(inner.config)) {
    throw new InvalidArgumentError(`${where}.layer`, `expected { class_name, config }, got ${describe(inner)}`);
  }
  if (!RECURRENT.has(inner.class_name)) {
    throw new UnsupportedError(`layer '${l.name}' (Bidirectional): wrapped layer ${inner.class_name} is not ` +
      `supported; expected SimpleRNN, LSTM or GRU`);
  }
  const spec = recurrentSpec(inner.class_name, inner.config, l.name, `${where}.layer.config`, true);
  spec.inputDim = declaredInputDim(cfg) ?? spec.inputDim;
  const back = cfg.backward_layer;
  if (back !== undefined && back !== null) {
    if (!isObj(back) || !isObj(back.config)) {
      throw new InvalidArgumentError(`${where}.backward_layer`, `expected { class_name, config }, got ` +
        `${describe(back)}`);
    }
    if (back.class_name !== inner.class_name) {
      const cls: unknown = back.class_name;
      throw new UnsupportedError(`layer '${l.name}' (Bidirectional): backward layer ` +
        `${typeof cls === 'string' ? cls : describe(cls)} differs from forward layer ${inner.class_name}`);
    }
    const bc = { ...back.config, go_backwards: false };
    const b = recurrentSpec(inner.class_name, bc, l.name, `${where}.backward_layer.config`, true);
    if (b.units !== spec.units || b.activation !== spec.activation || b.useBias !== spec.useBias ||
        b.returnSequences !== spec.returnSequences || b.resetAfter !== spec.resetAfter) {
      throw new UnsupportedError(`layer '${l.name}' (Bidirectional): the backward layer's configuration differs from ` +
        `the forward layer's (units, activation, use_bias, return_sequences, reset_after must match)`);
    }
  }
  return spec;
}

// ------------------------------------------------------------------------------------------------------------
// Manifest and bytes
// ------------------------------------------------------------------------------------------------------------

function toBytes(v: unknown, where: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  throw new InvalidArgumentError(where, `expected a Uint8Array or ArrayBuffer, got ${describe(v)}`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const BYTES: Record<ManifestEntry['storage'], number> = { float32: 4, float16: 2, uint16: 2, uint8: 1 };

/** Parses the manifest, checks it against the bytes, and returns every entry with its location. */
function readManifest(manifest: unknown[], weights: KerasWeightsInput): Manifest {
  const entries: ManifestEntry[] = [];
  const groupBytes: number[] = [];
  const groupPaths: number[] = [];
  const names = new Set<string>();
  manifest.forEach((g, gi) => {
    const gw = `modelJson.weightsManifest[${gi}]`;
    if (!isObj(g) || !Array.isArray(g.weights)) {
      throw new InvalidArgumentError(gw, `expected { paths, weights }, got ${describe(g)}`);
    }
    const paths = Array.isArray(g.paths) ? g.paths.length : 0;
    groupPaths.push(paths);
    let offset = 0;
    g.weights.forEach((w, wi) => {
      const ww = `${gw}.weights[${wi}]`;
      if (!isObj(w) || typeof w.name !== 'string') {
        throw new InvalidArgumentError(ww, `expected { name, shape, dtype }, got ${describe(w)}`);
      }
      const name = w.name.replace(/:0$/, '');
      if (names.has(name)) throw new StateDictError(name, 'appears twice in the weights manifest');
      names.add(name);
      if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new StateDictError(name, `manifest shape must be non-negative integers, got ${describe(w.shape)}`);
      }
      const shape = w.shape as number[];
      const dtype = w.dtype ?? 'float32';
      if (dtype !== 'float32') {
        throw new StateDictError(name, `dtype ${describe(dtype)}: only float32 weights (optionally quantized to ` +
          `float16, uint8 or uint16) can be imported`);
      }
      let storage: ManifestEntry['storage'] = 'float32';
      let scale = 1;
      let min = 0;
      const q = w.quantization;
      if (q !== undefined && q !== null) {
        if (!isObj(q)) throw new StateDictError(name, `quantization must be an object, got ${describe(q)}`);
        if (q.original_dtype !== undefined && q.original_dtype !== 'float32') {
          throw new StateDictError(name, `quantization.original_dtype ${describe(q.original_dtype)}: weights must ` +
            `be float32`);
        }
        if (q.dtype === 'float16') storage = 'float16';
        else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
          storage = q.dtype;
          if (typeof q.scale !== 'number' || typeof q.min !== 'number' || !Number.isFinite(q.scale) ||
              !Number.isFinite(q.min)) {
            throw new StateDictError(name, `quantization ${q.dtype} needs finite numbers scale and min, got ` +
              `${describe(q.scale)}, ${describe(q.min)}`);
          }
          scale = q.scale;
          min = q.min;
        } else {
          throw new UnsupportedError(`weight '${name}': quantization dtype ${describe(q.dtype)} is not supported ` +
            `(float16, uint8 and uint16 are)`);
        }
      }
      const bytes = shape.reduce((a, b) => a * b, 1) * BYTES[storage];
      entries.push({ name, segments: name.split('/'), shape, storage, scale, min, group: gi, offset, bytes });
      offset += bytes;
    });
    groupBytes.push(offset);
  });
  // Bytes: one buffer for everything, or one per path.
  const list = Array.isArray(weights)
    ? weights.map((b, i) => toBytes(b, `weights[${i}]`))
    : [toBytes(weights, 'weights')];
  const totalPaths = groupPaths.reduce((a, b) => a + b, 0);
  const totalBytes = groupBytes.reduce((a, b) => a + b, 0);
  const groups: Uint8Array[] = [];
  if (list.length === 1) {
    const all = list[0]!;
    if (all.length !== totalBytes) {
      throw new InvalidArgumentError('weights', `the weights manifest describes ${totalBytes} bytes ` +
        `(${groupBytes.map((b, i) => `group ${i}: ${b}`).join(', ')}), got ${all.length}` +
        (totalPaths > 1 ? `; give one buffer per path (${totalPaths}) or all of them concatenated` : ''));
    }
    let o = 0;
    for (const b of groupBytes) {
      groups.push(all.subarray(o, o + b));
      o += b;
    }
  } else {
    if (list.length !== totalPaths) {
      throw new InvalidArgumentError('weights', `expected ${totalPaths} buffers (one per path of the weights ` +
        `manifest, in order) or one buffer of all bytes, got ${list.length}`);
    }
    let p = 0;
    groupPaths.forEach((n, gi) => {
      const bytes = concat(list.slice(p, p + n));
      p += n;
      if (bytes.length !== groupBytes[gi]) {
        throw new InvalidArgumentError('weights', `weights manifest group ${gi} describes ${groupBytes[gi]} bytes, ` +
          `its ${n} shard(s) (weights[${p - n}..${p - 1}]) hold ${bytes.length}`);
      }
      groups.push(bytes);
    });
  }
  return { entries, groups };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** The values of one entry as float32 (dequantized as tfjs does), checked finite. */
function readValues(e: ManifestEntry, groups: Uint8Array[]): Float32Array {
  const g = groups[e.group]!;
  const n = e.shape.reduce((a, b) => a * b, 1);
  const at = g.byteOffset + e.offset;
  const dv = new DataView(g.buffer, at, e.bytes);
  let out: Float32Array;
  if (e.storage === 'float32') {
    if (LITTLE_ENDIAN) out = new Float32Array(g.slice(e.offset, e.offset + e.bytes).buffer);
    else {
      out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    }
  } else {
    out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (e.storage === 'float16') out[i] = f16(dv.getUint16(i * 2, true));
      else out[i] = (e.storage === 'uint8' ? dv.getUint8(i) : dv.getUint16(i * 2, true)) * e.scale + e.min;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i]!)) {
      throw new StateDictError(e.name, `element ${i} is ${out[i]}; weights must be finite`);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// Weights → PyTorch layout
// ------------------------------------------------------------------------------------------------------------

/**
 * The manifest entry of `param` (kernel, recurrent_kernel, bias) of layer `layer`, direction `dir` of a
 * Bidirectional. Names vary by version ('lstm/kernel', 'lstm/lstm_cell/kernel', 'sequential/lstm/lstm_cell/kernel',
 * 'bidirectional/forward_lstm/lstm_cell/kernel', tfjs' 'lstm_LSTM1/kernel'): matched on a path segment equal to
 * the layer name, a later segment starting with forward_ / backward_ for a Bidirectional, and the last segment.
 */
function findEntry(entries: ManifestEntry[], layer: string, dir: 'forward' | 'backward' | undefined, param: string,
                   expected: readonly number[], what: string): ManifestEntry {
  const hits = entries.filter((e) => {
    const s = e.segments;
    if (s[s.length - 1] !== param) return false;
    const i = s.indexOf(layer);
    if (i < 0 || i >= s.length - 1) return false;
    if (dir === undefined) return true;
    return s.slice(i + 1, -1).some((x) => x.startsWith(`${dir}_`));
  });
  const label = `${layer}/${dir ? `${dir}_*/` : ''}${param}`;
  if (hits.length === 0) {
    throw new StateDictError(label, `missing weight of shape ${shapeStr(expected)} (${what}); the manifest has ` +
      `${entries.map((e) => e.name).join(', ') || 'no weights'}`);
  }
  if (hits.length > 1) {
    throw new StateDictError(label, `ambiguous: ${hits.map((e) => e.name).join(', ')} all match`);
  }
  const e = hits[0]!;
  if (e.shape.length !== expected.length || e.shape.some((d, i) => d !== expected[i])) {
    throw new StateDictError(e.name, `expected shape ${shapeStr(expected)} (${what}), got ${shapeStr(e.shape)}`);
  }
  return e;
}

/** (K, G*H) Keras matrix → (G*H, K) PyTorch matrix with gate blocks taken in `order`. */
function transposeGates(src: Float32Array, K: number, G: number, H: number, order: number[]): Float32Array {
  const out = new Float32Array(G * H * K);
  const W = G * H;
  for (let g = 0; g < G; g++) {
    const sg = order[g]! * H;
    for (let j = 0; j < H; j++) {
      const row = (g * H + j) * K;
      for (let k = 0; k < K; k++) out[row + k] = src[k * W + sg + j]!;
    }
  }
  return out;
}

function reorderBias(src: Float32Array, off: number, G: number, H: number, order: number[]): Float32Array {
  const out = new Float32Array(G * H);
  for (let g = 0; g < G; g++) out.set(src.subarray(off + order[g]! * H, off + (order[g]! + 1) * H), g * H);
  return out;
}

function mapWeights(plan: Plan, m: Manifest): KerasConversion {
  const { entries, groups } = m;
  const first = plan.recurrent[0]!;
  const kind = first.kind;
  const G = GATES[kind];
  const H = first.units;
  const D = first.bidirectional ? 2 : 1;
  const order = ORDER[kind];
  const bias = plan.recurrent.some((s) => s.useBias);
  const used = new Set<ManifestEntry>();
  const sd: Record<string, Tensor> = {};
  const pending: Array<() => void> = [];
  // Input size: declared by the config, else read from the first kernel.
  let inputSize = plan.inputDim;
  if (inputSize === undefined) {
    const k = entries.find((e) => e.segments.includes(first.name) && e.segments[e.segments.length - 1] === 'kernel');
    if (!k || k.shape.length !== 2 || k.shape[0]! < 1 || k.shape[0]! > MAX_DIM) {
      throw new StateDictError(`${first.name}/kernel`, `missing or malformed kernel of shape [input_dim, ${G * H}] ` +
        `(the config declares no input shape, so the input size is read from it)`);
    }
    inputSize = k.shape[0]!;
  }
  plan.recurrent.forEach((spec, l) => {
    // GRU without reset_after in its config (old Keras): the bias shape tells which variant it is.
    if (spec.kind === 'GRU' && spec.resetAfter === undefined) {
      const b = spec.useBias
        ? entries.find((e) => e.segments.includes(spec.name) && e.segments[e.segments.length - 1] === 'bias')
        : undefined;
      spec.resetAfter = b !== undefined && b.shape.length === 2;
    }
    if (spec.resetAfter !== first.resetAfter) {
      throw new UnsupportedError(`layer '${spec.name}' (GRU): reset_after=${spec.resetAfter} cannot be stacked with ` +
        `'${first.name}' (reset_after=${first.resetAfter})`);
    }
    const I = l === 0 ? inputSize! : D * H;
    const desc = `${spec.bidirectional ? 'Bidirectional ' : ''}${spec.kind} units=${H}`;
    for (let d = 0; d < D; d++) {
      const dir = spec.bidirectional ? (d === 0 ? 'forward' : 'backward') : undefined;
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const k = findEntry(entries, spec.name, dir, 'kernel', [I, G * H], `${desc}: kernel is (input_dim, ${G}*units)`);
      const rk = findEntry(entries, spec.name, dir, 'recurrent_kernel', [H, G * H],
        `${desc}: recurrent_kernel is (units, ${G}*units)`);
      const bShape = spec.kind === 'GRU' && spec.resetAfter ? [2, G * H] : [G * H];
      const variant = spec.kind === 'GRU' ? ` reset_after=${spec.resetAfter}` : '';
      const bWhat = `${desc}${variant}: bias is ${shapeStr(bShape)}`;
      const b = spec.useBias ? findEntry(entries, spec.name, dir, 'bias', bShape, bWhat) : undefined;
      for (const e of [k, rk, b]) {
        if (e && used.has(e)) throw new StateDictError(e.name, 'matched by two layers');
        if (e) used.add(e);
      }
      pending.push(() => {
        sd[`weight_ih${sfx}`] = new Tensor(transposeGates(readValues(k, groups), I, G, H, order), [G * H, I]);
        sd[`weight_hh${sfx}`] = new Tensor(transposeGates(readValues(rk, groups), H, G, H, order), [G * H, H]);
        if (!bias) return;
        const bv = b ? readValues(b, groups) : undefined;
        const zero = new Float32Array(G * H);
        sd[`bias_ih${sfx}`] = new Tensor(bv ? reorderBias(bv, 0, G, H, order) : zero, [G * H]);
        const bhh = bv && b!.shape.length === 2 ? reorderBias(bv, G * H, G, H, order) : zero.slice();
        sd[`bias_hh${sfx}`] = new Tensor(bhh, [G * H]);
      });
    }
  });
  let head: KerasConversion['head'];
  const last = plan.recurrent[plan.recurrent.length - 1]!;
  if (plan.head) {
    const h = plan.head;
    const In = D * H;
    const k = findEntry(entries, h.name, undefined, 'kernel', [In, h.units], `${h.className} units=${h.units}: ` +
      `kernel is (input_dim, units), input_dim = ${D}*${H} from the recurrent layers`);
    const b = h.useBias ? findEntry(entries, h.name, undefined, 'bias', [h.units], `${h.className} bias`) : undefined;
    for (const e of [k, b]) if (e) used.add(e);
    head = {
      inFeatures: In, outFeatures: h.units, bias: h.useBias, stateDict: {},
      input: last.returnSequences ? 'sequence' : 'last', activation: h.activation,
    };
    const hd = head;
    pending.push(() => {
      hd.stateDict.weight = new Tensor(transposeGates(readValues(k, groups), In, 1, h.units, [0]), [h.units, In]);
      if (b) hd.stateDict.bias = new Tensor(readValues(b, groups), [h.units]);
    });
  }
  const unused = entries.filter((e) => !used.has(e));
  if (unused.length) {
    throw new StateDictError(unused[0]!.name, `unexpected weight: no layer of the imported model uses it ` +
      `(${unused.length} unused: ${unused.map((e) => e.name).join(', ')})`);
  }
  for (const f of pending) f();
  const mode: CellMode = kind === 'LSTM' ? 'LSTM' : kind === 'GRU' ? 'GRU'
    : first.activation === 'relu' ? 'RNN_RELU' : 'RNN_TANH';
  const options: KerasConversion['options'] = {
    inputSize: inputSize!, hiddenSize: H, numLayers: plan.recurrent.length, bidirectional: D === 2, batchFirst: true,
    bias,
  };
  if (kind === 'SimpleRNN') options.nonlinearity = first.activation as 'tanh' | 'relu';
  if (kind === 'GRU') options.resetAfter = first.resetAfter!;
  const c: KerasConversion = {
    mode, options, stateDict: sd, returnSequences: last.returnSequences,
    recurrentLayers: plan.recurrent.map((s) => s.name),
  };
  if (head) {
    c.head = head;
    c.headLayer = plan.head!.name;
  }
  return c;
}
