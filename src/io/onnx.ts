/**
 * ONNX import and export of recurrent models.
 *
 * {@link importOnnx} reads a `.onnx` file whose graph holds a chain of `LSTM`, `GRU` or `RNN` (Tanh or Relu)
 * nodes, one per layer, one or two directions, with `sequence_lens` and initial states, optionally followed by a
 * linear head (`MatMul` + `Add`, or `Gemm`), and the glue `torch.onnx.export` writes
 * around them (opsets 9 to 17: `Transpose`/`Squeeze`/`Reshape` between layers, `Slice` of `h0`, `Concat` of the
 * final states, zero initial states built with `Shape`/`ConstantOfShape`/`Expand`, and the `TopK`/`Gather`/
 * `ScatterElements` batch sorting of `pack_padded_sequence(..., enforce_sorted=False)`). The graph is read
 * symbolically, not executed: each value is tracked as what it means for the model (the input sequence, a
 * layer's output, rows of the stacked states, a batch permutation...), and anything the model cannot reproduce
 * is reported as an {@link UnsupportedError} naming the node.
 *
 * ONNX's gate orders differ from PyTorch's: LSTM W/R/B rows are (i, o, f, c) where PyTorch has (i, f, g, o); GRU
 * rows are (z, r, h) where PyTorch has (r, z, n); `B` is `[Wb; Rb]`. Both directions of a layer live in one node
 * (`W` is (D, G·H, I)). GRU `linear_before_reset=1` is PyTorch's GRU (what torch exports); `linear_before_reset=0`
 * (ONNX's default, Keras' `reset_after=False`) is `new GRU({ resetAfter: false })`.
 *
 * {@link exportOnnx} writes the same structure: one node per layer, weights, biases and constants as
 * initializers, optional `h0`/`c0` and `sequence_lens` graph inputs, and `MatMul` + `Add` for a head. The
 * protobuf encoding is `@bufbuild/protobuf` with the schema in `onnx_pb.ts` (generated from `onnx.proto`, a
 * subset of ONNX's schema): no `eval`, so it runs in browsers with a strict CSP and in edge runtimes.
 * @module
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { InvalidArgumentError, RnnWasmError, UnsupportedError } from '../errors.js';
import { Linear } from '../nn/linear.js';
import { GRU, LSTM, RNN, RecurrentLayer } from '../nn/recurrent.js';
import { SequenceModel, type HeadInput } from '../nn/sequence-model.js';
import { describe, Tensor } from '../tensor.js';
import {
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType as DataType,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './onnx_pb.js';

/** A file that is not a well-formed ONNX model, or whose tensors contradict each other. */
export class OnnxError extends RnnWasmError {
  /** The node (or tensor) at fault, when there is one. */
  readonly node?: string;
  constructor(message: string, node?: string) {
    super('ONNX', node === undefined ? message : `${node}: ${message}`);
    this.node = node;
  }
}

/** Names of the graph's inputs and outputs, by what they are to the model. */
export interface OnnxGraphNames {
  /** The input sequence (`input` of `forward`). */
  input: string;
  /** The graph input feeding `sequence_lens` (`lengths` of `forward`), if any. */
  lengths?: string;
  /** The graph input holding the initial hidden state (`h0`), if any. */
  h0?: string;
  /** The graph input holding the initial cell state (`c0`, LSTM), if any. */
  c0?: string;
  /** The graph output equal to what `model.forward` returns (the head's output when there is a head), if any. */
  output?: string;
  /** The graph output holding the stacked final hidden states (`hN`), if any. */
  hN?: string;
  /** The graph output holding the stacked final cell states (`cN`), if any. */
  cN?: string;
}

/** What {@link importOnnx} found. */
export interface OnnxImport {
  /** The network: a {@link SequenceModel} when the graph ends in a linear head, else the recurrent layer. */
  model: RecurrentLayer | SequenceModel;
  /** The recurrent stack (also `model.rnn` when `model` is a SequenceModel). */
  rnn: RecurrentLayer;
  /** The head, when there is one. */
  head?: Linear;
  /** What the head reads, when there is one. */
  headInput?: HeadInput;
  /** Which graph inputs and outputs correspond to `forward`'s arguments and results. */
  names: OnnxGraphNames;
  /** Graph outputs that are no result of the model (shape computations, raw 4-D `Y`...); they are ignored. */
  ignoredOutputs: string[];
  /** Initial hidden state stored in the file as a constant (pass it as `h0`), when it is not zero. */
  h0?: Tensor;
  /** Initial cell state stored in the file as a constant (pass it as `c0`). */
  c0?: Tensor;
  /** Sequence lengths stored in the file as a constant (pass them as `lengths`). */
  lengths?: Int32Array;
  /** The default-domain opset the file imports. */
  opsetVersion: number;
  /** `producer_name` and `producer_version` of the file, e.g. `pytorch 1.13.1`. */
  producer: string;
}

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Default-domain opset to declare, 9 to 21 (default 14, what torch 1.13 writes by default). */
  opsetVersion?: number;
  /**
   * Symbolic batch and sequence dimensions (`batch`, `sequence`) so one file runs any (T, B) (default true).
   * When false, `batchSize` and `seqLength` fix them.
   */
  dynamicAxes?: boolean;
  /** Batch size of the graph's inputs when `dynamicAxes` is false. */
  batchSize?: number;
  /** Sequence length of the graph's inputs when `dynamicAxes` is false. */
  seqLength?: number;
  /**
   * Add graph inputs `h0` (and `c0` for LSTM), (D·numLayers, B, H), stacked as PyTorch's (default false: the
   * initial states are zero).
   */
  initialStates?: boolean;
  /** Add the graph input `sequence_lens` (int32, (B)), the lengths of a padded batch (default false). */
  sequenceLens?: boolean;
}

// ------------------------------------------------------------------------------------------------------------
// Gate orders
// ------------------------------------------------------------------------------------------------------------

type Kind = 'LSTM' | 'GRU' | 'RNN';
const RECURRENT = new Set<string>(['LSTM', 'GRU', 'RNN']);
const GATES: Record<Kind, number> = { LSTM: 4, GRU: 3, RNN: 1 };
/**
 * PyTorch gate block k comes from ONNX block FROM_ONNX[k]. LSTM: (i, f, g, o) <- (i, o, f, c); GRU: (r, z, n) <-
 * (z, r, h).
 */
const FROM_ONNX: Record<Kind, number[]> = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2], RNN: [0] };
/** ONNX gate block j comes from PyTorch block TO_ONNX[j]. */
const TO_ONNX: Record<Kind, number[]> = { LSTM: [0, 3, 1, 2], GRU: [1, 0, 2], RNN: [0] };

/** Copies `G` blocks of `H*K` values starting at `base`, block k taken from block order[k]. */
function reorder(src: ArrayLike<number>, base: number, G: number, H: number, K: number,
                 order: number[]): Float32Array {
  const out = new Float32Array(G * H * K);
  const n = H * K;
  for (let k = 0; k < G; k++) {
    const from = base + order[k]! * n;
    for (let i = 0; i < n; i++) out[k * n + i] = src[from + i]!;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// Tensors and attributes
// ------------------------------------------------------------------------------------------------------------

interface Dense {
  dims: number[];
  data: Float64Array;
}

const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Decodes a TensorProto's values to float64 (integers exactly up to 2^53). */
function decodeTensor(t: TensorProto, what: string): Dense {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new UnsupportedError(`${what}: tensor '${t.name}' keeps its data in an external file; save the model ` +
      'with its data inline (onnx.save(model, path, save_as_external_data=False))');
  }
  const dims = t.dims.map((d) => Number(d));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new OnnxError(`tensor '${t.name}' has invalid dims [${dims.join(', ')}]`, what);
  }
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const useRaw = raw.byteLength > 0;
  // Allocated only once the data is known to hold n values: the dims alone may claim any size.
  let out = new Float64Array(0);
  const fromRaw = (size: number, get: (off: number) => number): void => {
    if (raw.byteLength !== n * size) {
      throw new OnnxError(`tensor '${t.name}' has ${raw.byteLength} bytes of raw data, expected ${n * size} ` +
        `for dims [${dims.join(', ')}]`, what);
    }
    out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = get(i * size);
  };
  const fromList = (list: ArrayLike<number | bigint>, conv: (v: number | bigint) => number = Number): void => {
    if (list.length !== n) {
      throw new OnnxError(`tensor '${t.name}' holds ${list.length} values, expected ${n} for dims [${dims.join(', ')}]`,
        what);
    }
    out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = conv(list[i]!);
  };
  switch (t.dataType) {
    case DataType.FLOAT:
      if (useRaw) fromRaw(4, (o) => dv.getFloat32(o, true)); else fromList(t.floatData);
      break;
    case DataType.DOUBLE:
      if (useRaw) fromRaw(8, (o) => dv.getFloat64(o, true)); else fromList(t.doubleData);
      break;
    case DataType.FLOAT16:
      if (useRaw) fromRaw(2, (o) => halfToFloat(dv.getUint16(o, true)));
      else fromList(t.int32Data, (v) => halfToFloat(Number(v) & 0xffff));
      break;
    case DataType.BFLOAT16: {
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      const conv = (bits: number): number => {
        u[0] = (bits & 0xffff) << 16;
        return f[0]!;
      };
      if (useRaw) fromRaw(2, (o) => conv(dv.getUint16(o, true))); else fromList(t.int32Data, (v) => conv(Number(v)));
      break;
    }
    case DataType.INT64:
      if (useRaw) fromRaw(8, (o) => Number(dv.getBigInt64(o, true))); else fromList(t.int64Data);
      break;
    case DataType.INT32:
      if (useRaw) fromRaw(4, (o) => dv.getInt32(o, true)); else fromList(t.int32Data);
      break;
    case DataType.INT16:
      if (useRaw) fromRaw(2, (o) => dv.getInt16(o, true)); else fromList(t.int32Data);
      break;
    case DataType.INT8:
      if (useRaw) fromRaw(1, (o) => dv.getInt8(o)); else fromList(t.int32Data);
      break;
    case DataType.UINT8:
    case DataType.BOOL:
      if (useRaw) fromRaw(1, (o) => dv.getUint8(o)); else fromList(t.int32Data);
      break;
    case DataType.UINT16:
      if (useRaw) fromRaw(2, (o) => dv.getUint16(o, true)); else fromList(t.int32Data);
      break;
    case DataType.UINT32:
      if (useRaw) fromRaw(4, (o) => dv.getUint32(o, true)); else fromList(t.uint64Data);
      break;
    case DataType.UINT64:
      if (useRaw) fromRaw(8, (o) => Number(dv.getBigUint64(o, true))); else fromList(t.uint64Data);
      break;
    default:
      throw new UnsupportedError(`${what}: tensor '${t.name}' has ONNX data type ${t.dataType} ` +
        `(${DataType[t.dataType] ?? 'unknown'}); numeric tensors only`);
  }
  return { dims, data: out };
}

/** Whether a constant is all zeros (false when it cannot be decoded: it is then no initial state). */
function isZero(t: TensorProto): boolean {
  try {
    return decodeTensor(t, 'constant').data.every((v) => v === 0);
  } catch {
    return false;
  }
}

function attrOf(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attrOf(node, name);
  return a === undefined ? dflt : Number(a.i);
}

function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = attrOf(node, name);
  return a === undefined ? undefined : a.ints.map((v) => Number(v));
}

function attrString(node: NodeProto, name: string): string | undefined {
  const a = attrOf(node, name);
  return a === undefined ? undefined : utf8.decode(a.s);
}

function attrStrings(node: NodeProto, name: string): string[] | undefined {
  const a = attrOf(node, name);
  return a === undefined ? undefined : a.strings.map((s) => utf8.decode(s));
}

function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attrOf(node, name);
  return a === undefined ? dflt : a.f;
}

// ------------------------------------------------------------------------------------------------------------
// Import: symbolic reading of the graph
// ------------------------------------------------------------------------------------------------------------

/** What a value of the graph is to the model. */
type Sym =
  /** A constant (initializer or Constant node), decoded on demand. */
  | { k: 'const'; t: TensorProto }
  /** Shape arithmetic and other values that take no part in the model. */
  | { k: 'opaque' }
  /** An all-zero tensor whose shape depends on the input (a zero initial state). */
  | { k: 'zeros' }
  /** Features per time step: (T, B, F), or (B, T, F) when bf. Layer -1 is the graph's input sequence. */
  | { k: 'seq'; layer: number; bf: boolean; perm: boolean; input?: string }
  /** ONNX Y of a layer, (T, D, B, H), or (T, B, D, H) when tr. */
  | { k: 'Y'; layer: number; perm: boolean; tr: boolean }
  /** Rows [from, to) of stacked states (rows, B, H): of a graph input, or of the final states (input undefined). */
  | { k: 'state'; which: 'h' | 'c'; input?: string; from: number; to: number; perm: boolean }
  /** Final-state rows of the stacked states, each (B, H), concatenated along features: (B, rows·H). */
  | { k: 'feat'; which: 'h' | 'c'; rows: number[]; perm: boolean }
  /** Sequence lengths (B) from a graph input; perm when sorted in decreasing order (TopK values). */
  | { k: 'lens'; input?: string; perm: boolean }
  /** The batch permutation that sorts lengths in decreasing order (sort), or its inverse. */
  | { k: 'index'; sort: boolean }
  /** A linear map of seq or feat: y = x W^T (+ b). */
  | { k: 'linear'; x: Sym; w: Float32Array; out: number; inF: number; b?: Float32Array }
  /** A value the model cannot reproduce; why says which node made it. */
  | { k: 'bad'; why: string };

interface LayerRec {
  kind: Kind;
  node: string;
  D: number;
  H: number;
  I: number;
  act: 'tanh' | 'relu';
  /** GRU: linear_before_reset (1: PyTorch's form). */
  lbr: number;
  W: Dense;
  R: Dense;
  B?: Dense;
  X: Sym;
  lens?: Sym;
  h?: Sym;
  c?: Sym;
}

class LayoutRetry extends Error {}

function nodeLabel(node: NodeProto, index: number): string {
  return `node '${node.name || `#${index}`}' (${node.opType})`;
}

function symDesc(s: Sym | undefined): string {
  if (s === undefined) return 'nothing';
  switch (s.k) {
    case 'seq': return s.layer < 0 ? 'the input sequence' : `the output sequence of layer ${s.layer}`;
    case 'Y': return `the Y output of layer ${s.layer}`;
    case 'state':
      return s.input ? `rows ${s.from}..${s.to} of graph input '${s.input}'` : `final states rows ${s.from}..${s.to}`;
    case 'feat': return `final-state rows [${s.rows.join(', ')}]`;
    case 'lens': return 'the sequence lengths';
    case 'index': return 'the length-sorting permutation';
    case 'linear': return 'the head';
    case 'bad': return s.why;
    default: return s.k;
  }
}

const INERT = new Set(['const', 'opaque', 'zeros']);

/** The reading of a graph under one assumption about the input's layout. */
interface Reading {
  layers: LayerRec[];
  outputs: Array<{ name: string; sym: Sym | undefined }>;
}

function readGraph(model: ModelProto, assumeBatchFirst: boolean, opset: number): Reading {
  const g = model.graph!;
  const env = new Map<string, Sym>();
  for (const t of g.initializer) env.set(t.name, { k: 'const', t });
  // Roles of the other graph inputs: the first recurrent-node slot (or TopK) each one reaches.
  for (const vi of g.input) {
    if (env.has(vi.name)) continue;
    env.set(vi.name, roleSym(g.node, vi));
  }
  const layers: LayerRec[] = [];
  const get = (name: string | undefined): Sym | undefined => (name ? env.get(name) ?? { k: 'opaque' } : undefined);
  const constDense = (s: Sym | undefined, what: string): Dense | undefined =>
    s?.k === 'const' ? decodeTensor(s.t, what) : undefined;

  g.node.forEach((node, index) => {
    const label = nodeLabel(node, index);
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      const outs = node.output.map(() => ({ k: 'bad', why: `${label} is in domain '${node.domain}'` }) as Sym);
      node.output.forEach((o, i) => env.set(o, outs[i]!));
      return;
    }
    const ins = node.input.map((n) => get(n));
    const set = (...outs: Sym[]): void => {
      node.output.forEach((o, i) => {
        if (o) env.set(o, outs[i] ?? { k: 'opaque' });
      });
    };
    const tracked = ins.filter((s): s is Sym => s !== undefined && !INERT.has(s.k));
    const bad = tracked.find((s) => s.k === 'bad');
    if (bad && !RECURRENT.has(node.opType)) {
      set(...node.output.map(() => bad));
      return;
    }
    const unsupported = (): void => {
      const why = `${label} applied to ${tracked.map(symDesc).join(' and ')} is not supported`;
      set(...node.output.map(() => ({ k: 'bad', why }) as Sym));
    };
    const inert = (): void => set(...node.output.map(() => ({ k: 'opaque' }) as Sym));
    const x = ins[0];
    switch (node.opType) {
      case 'LSTM':
      case 'GRU':
      case 'RNN':
        set(...recurrentNode(node, label, ins, layers, constDense));
        return;
      case 'Identity':
      case 'Cast':
        set(x ?? { k: 'opaque' });
        return;
      case 'Dropout': // inference: identity; the mask takes no part
        set(x ?? { k: 'opaque' }, { k: 'opaque' });
        return;
      case 'Constant': {
        const c = constantNode(node, label);
        set(c);
        return;
      }
      case 'ConstantOfShape': {
        const a = attrOf(node, 'value');
        const zero = !a?.t || isZero(a.t);
        set(zero ? { k: 'zeros' } : { k: 'opaque' });
        return;
      }
      case 'Expand': {
        if (x?.k === 'zeros' || (x?.k === 'const' && isZero(x.t))) {
          set({ k: 'zeros' });
        } else if (tracked.length === 0) inert(); else unsupported();
        return;
      }
      case 'Shape':
      case 'Size':
        inert();
        return;
      case 'Transpose': {
        if (tracked.length === 0) {
          set(x?.k === 'zeros' ? x : { k: 'opaque' });
          return;
        }
        const perm = attrInts(node, 'perm');
        const is = (p: number[]): boolean => perm !== undefined && perm.length === p.length && p.every((v, i) => perm[i] === v);
        if (x?.k === 'seq' && is([1, 0, 2])) set({ ...x, bf: !x.bf });
        else if (x?.k === 'Y' && !x.tr && is([0, 2, 1, 3])) set({ ...x, tr: true });
        else unsupported();
        return;
      }
      case 'Reshape': {
        if (tracked.length === 0) {
          set(x?.k === 'zeros' ? x : { k: 'opaque' });
          return;
        }
        const shape = constDense(ins[1], label);
        if (x?.k === 'Y' && x.tr && shape && shape.data.length === 3) {
          // (T, B, D, H) -> (T, B, D*H): [0 | T | -1, 0 | B | -1, -1 | D*H] with at most one -1.
          const r = layers[x.layer]!;
          const [a, b, c] = [...shape.data] as [number, number, number];
          const okDim = (v: number): boolean => v === 0 || v === -1 || v > 0;
          if (okDim(a) && okDim(b) && (c === -1 || c === r.D * r.H) && [a, b, c].filter((v) => v === -1).length <= 1) {
            set({ k: 'seq', layer: x.layer, bf: false, perm: x.perm });
            return;
          }
        }
        unsupported();
        return;
      }
      case 'Squeeze': {
        if (tracked.length === 0) {
          set(x?.k === 'zeros' ? x : { k: 'opaque' });
          return;
        }
        const axes = opset >= 13 ? constDense(ins[1], label)?.data : attrInts(node, 'axes');
        const one = (v: number): boolean => axes !== undefined && axes.length === 1 && axes[0] === v;
        if (x?.k === 'Y' && !x.tr && layers[x.layer]!.D === 1 && (one(1) || one(-3))) {
          set({ k: 'seq', layer: x.layer, bf: false, perm: x.perm });
        } else if (x?.k === 'state' && x.input === undefined && x.to - x.from === 1 && (one(0) || one(-3))) {
          set({ k: 'feat', which: x.which, rows: [x.from], perm: x.perm });
        } else unsupported();
        return;
      }
      case 'Slice': {
        if (tracked.length === 0) {
          set(x?.k === 'zeros' ? x : { k: 'opaque' });
          return;
        }
        let starts: ArrayLike<number> | undefined;
        let ends: ArrayLike<number> | undefined;
        let axes: ArrayLike<number> | undefined;
        let steps: ArrayLike<number> | undefined;
        if (opset < 10) {
          starts = attrInts(node, 'starts');
          ends = attrInts(node, 'ends');
          axes = attrInts(node, 'axes');
        } else {
          starts = constDense(ins[1], label)?.data;
          ends = constDense(ins[2], label)?.data;
          axes = ins[3] ? constDense(ins[3], label)?.data : undefined;
          steps = ins[4] ? constDense(ins[4], label)?.data : undefined;
          if ((ins[3] && !axes) || (ins[4] && !steps)) starts = undefined;
        }
        const ok = x?.k === 'state' && starts && ends && starts.length === 1 && ends.length === 1 &&
          (axes === undefined || (axes.length === 1 && (axes[0] === 0 || axes[0] === -3))) &&
          (steps === undefined || (steps.length === 1 && steps[0] === 1));
        if (ok && x?.k === 'state') {
          const n = x.to - x.from;
          let s = starts![0]!;
          let e = ends![0]!;
          if ((s < 0 || e < 0) && !Number.isFinite(n)) {
            unsupported();
            return;
          }
          if (s < 0) s += n;
          if (e < 0) e += n;
          s = Math.max(0, Math.min(s, n));
          e = Math.max(s, Math.min(e, n));
          set({ ...x, from: x.from + s, to: x.from + e });
        } else unsupported();
        return;
      }
      case 'Gather': {
        if (tracked.length === 0) {
          set(x?.k === 'zeros' ? x : { k: 'opaque' });
          return;
        }
        const idx = ins[1];
        const axis = attrInt(node, 'axis', 0);
        if (idx?.k === 'index') {
          const toggle = (p: boolean): boolean | undefined => (idx.sort === !p ? !p : undefined);
          if (x?.k === 'seq') {
            const batchAxis = x.bf ? 0 : 1;
            const np = toggle(x.perm);
            if (axis !== batchAxis && axis !== batchAxis - 3) {
              if (x.layer < 0) throw new LayoutRetry();
              unsupported();
            } else if (np === undefined) unsupported(); else set({ ...x, perm: np });
            return;
          }
          if (x?.k === 'state' && (axis === 1 || axis === -2)) {
            const np = toggle(x.perm);
            if (np === undefined) unsupported(); else set({ ...x, perm: np });
            return;
          }
          unsupported();
          return;
        }
        const ic = constDense(idx, label);
        if (x?.k === 'state' && x.input === undefined && ic && (axis === 0 || axis === -3) && ic.data.length === 1) {
          const n = x.to - x.from;
          let i = ic.data[0]!;
          if (i < 0) i += n;
          if (i >= 0 && i < n) {
            const row = x.from + i;
            if (ic.dims.length === 0) set({ k: 'feat', which: x.which, rows: [row], perm: x.perm });
            else set({ ...x, from: row, to: row + 1 });
            return;
          }
        }
        unsupported();
        return;
      }
      case 'TopK': {
        if (x?.k === 'lens' && !x.perm && attrInt(node, 'largest', 1) === 1) {
          set({ ...x, perm: true }, { k: 'index', sort: true });
        } else if (tracked.length === 0) inert(); else unsupported();
        return;
      }
      case 'ScatterElements':
      case 'Scatter': {
        const i1 = ins[1];
        if (i1?.k === 'index' && i1.sort && tracked.length === 1) set({ k: 'index', sort: false });
        else if (tracked.length === 0) inert(); else unsupported();
        return;
      }
      case 'Concat': {
        if (tracked.length === 0) {
          inert();
          return;
        }
        const axis = attrInt(node, 'axis', 0);
        const parts = ins.filter((s): s is Sym => s !== undefined);
        if (parts.every((s) => s.k === 'state' && s.input === undefined) && (axis === 0 || axis === -3)) {
          const st = parts as Array<Extract<Sym, { k: 'state' }>>;
          const ok = st.every((s, i) => s.which === st[0]!.which && s.perm === st[0]!.perm &&
            (i === 0 || s.from === st[i - 1]!.to));
          if (ok) {
            set({ ...st[0]!, from: st[0]!.from, to: st[st.length - 1]!.to });
            return;
          }
        }
        if (parts.every((s) => s.k === 'feat') && (axis === 1 || axis === -1)) {
          const fs = parts as Array<Extract<Sym, { k: 'feat' }>>;
          if (fs.every((f) => f.which === fs[0]!.which && f.perm === fs[0]!.perm)) {
            set({ k: 'feat', which: fs[0]!.which, rows: fs.flatMap((f) => f.rows), perm: fs[0]!.perm });
            return;
          }
        }
        unsupported();
        return;
      }
      case 'MatMul': {
        const w = constDense(ins[1], label);
        if ((x?.k === 'seq' || x?.k === 'feat') && w && w.dims.length === 2 && tracked.length === 1) {
          const [F, O] = w.dims as [number, number];
          const wt = new Float32Array(O * F);
          for (let f = 0; f < F; f++) for (let o = 0; o < O; o++) wt[o * F + f] = w.data[f * O + o]!;
          set({ k: 'linear', x, w: wt, out: O, inF: F });
        } else if (tracked.length === 0) inert(); else unsupported();
        return;
      }
      case 'Add': {
        const [a, b] = ins;
        const lin = a?.k === 'linear' ? a : b?.k === 'linear' ? b : undefined;
        const other = lin === a ? b : a;
        const bias = constDense(other, label);
        if (lin && lin.k === 'linear' && !lin.b && bias && bias.data.length === lin.out &&
          bias.dims[bias.dims.length - 1] === lin.out) {
          set({ ...lin, b: Float32Array.from(bias.data) });
        } else if (tracked.length === 0) inert(); else unsupported();
        return;
      }
      case 'Gemm': {
        const B = constDense(ins[1], label);
        const C = ins[2] ? constDense(ins[2], label) : undefined;
        const alpha = attrFloat(node, 'alpha', 1);
        const beta = attrFloat(node, 'beta', 1);
        if (x?.k === 'feat' && attrInt(node, 'transA', 0) === 0 && B && B.dims.length === 2 && tracked.length === 1 &&
          (!ins[2] || C)) {
          const transB = attrInt(node, 'transB', 0) !== 0;
          const [O, F] = (transB ? B.dims : [B.dims[1]!, B.dims[0]!]) as [number, number];
          const wt = new Float32Array(O * F);
          for (let o = 0; o < O; o++) {
            for (let f = 0; f < F; f++) wt[o * F + f] = alpha * B.data[transB ? o * F + f : f * O + o]!;
          }
          let b: Float32Array | undefined;
          if (C) {
            if (C.data.length !== O) {
              unsupported();
              return;
            }
            b = Float32Array.from(C.data, (v) => beta * v);
          }
          set({ k: 'linear', x, w: wt, out: O, inF: F, b });
        } else if (tracked.length === 0) inert(); else unsupported();
        return;
      }
      default:
        if (tracked.length === 0) inert(); else unsupported();
    }
  });
  return { layers, outputs: g.output.map((o) => ({ name: o.name, sym: env.get(o.name) })) };

  function roleSym(nodes: NodeProto[], vi: ValueInfoProto): Sym {
    const reach = new Set([vi.name]);
    for (const node of nodes) {
      const j = node.input.findIndex((n) => reach.has(n));
      if (j < 0) continue;
      if (RECURRENT.has(node.opType)) {
        if (j === 0) return { k: 'seq', layer: -1, bf: assumeBatchFirst, perm: false, input: vi.name };
        if (j === 4) return { k: 'lens', input: vi.name, perm: false };
        if (j === 5 || j === 6) {
          const t = vi.type?.value.case === 'tensorType' ? vi.type.value.value : undefined;
          const d0 = t?.shape?.dim[0]?.value;
          const rows = d0?.case === 'dimValue' ? Number(d0.value) : Infinity;
          return { k: 'state', which: j === 5 ? 'h' : 'c', input: vi.name, from: 0, to: rows, perm: false };
        }
        return { k: 'bad', why: `graph input '${vi.name}' feeds input ${j} of ${node.opType} node '${node.name}'; ` +
          'weights must be initializers' };
      }
      if (node.opType === 'TopK') return { k: 'lens', input: vi.name, perm: false };
      if (node.opType === 'Shape' || node.opType === 'Size') continue;
      for (const o of node.output) if (o) reach.add(o);
    }
    return { k: 'opaque' };
  }
}

function constantNode(node: NodeProto, label: string): Sym {
  const a = node.attribute[0];
  if (!a) throw new OnnxError('Constant without a value', label);
  const mk = (dims: number[], data: number[], type: DataType): Sym => ({
    k: 'const',
    t: create(TensorProtoSchema, {
      dims: dims.map(BigInt),
      dataType: type,
      ...(type === DataType.FLOAT ? { floatData: data } : { int64Data: data.map((v) => BigInt(Math.trunc(v))) }),
    }),
  });
  switch (a.name) {
    case 'value': return a.t ? { k: 'const', t: a.t } : { k: 'opaque' };
    case 'value_float': return mk([], [a.f], DataType.FLOAT);
    case 'value_floats': return mk([a.floats.length], [...a.floats], DataType.FLOAT);
    case 'value_int': return mk([], [Number(a.i)], DataType.INT64);
    case 'value_ints': return mk([a.ints.length], a.ints.map(Number), DataType.INT64);
    default: return { k: 'opaque' };
  }
}

const DEFAULT_ACTS: Record<Kind, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

function recurrentNode(node: NodeProto, label: string, ins: Array<Sym | undefined>, layers: LayerRec[],
                       constDense: (s: Sym | undefined, what: string) => Dense | undefined): Sym[] {
  const kind = node.opType as Kind;
  const G = GATES[kind];
  const l = layers.length;
  const fail = (s: Sym | undefined, what: string): never => {
    if (s?.k === 'bad') throw new UnsupportedError(`${label}: ${what} comes from ${s.why}`);
    throw new UnsupportedError(`${label}: ${what} is ${symDesc(s)}, which rnn-wasm cannot map`);
  };
  const direction = attrString(node, 'direction') ?? 'forward';
  if (direction === 'reverse') {
    throw new UnsupportedError(`${label}: direction 'reverse' alone has no PyTorch equivalent (use 'forward' or ` +
      "'bidirectional')");
  }
  if (direction !== 'forward' && direction !== 'bidirectional') {
    throw new OnnxError(`unknown direction '${direction}'`, label);
  }
  const D = direction === 'bidirectional' ? 2 : 1;
  if (attrInt(node, 'layout', 0) !== 0) {
    throw new UnsupportedError(`${label}: layout=1 (batch-major X, Y, Y_h) is not supported; torch.onnx.export ` +
      'writes layout 0 with Transpose nodes');
  }
  if (attrOf(node, 'clip')) throw new UnsupportedError(`${label}: cell clipping ('clip') is not supported`);
  if (attrOf(node, 'activation_alpha') || attrOf(node, 'activation_beta')) {
    throw new UnsupportedError(`${label}: activation_alpha / activation_beta are not supported`);
  }
  let act: 'tanh' | 'relu' = 'tanh';
  const acts = attrStrings(node, 'activations');
  if (acts !== undefined) {
    const per = DEFAULT_ACTS[kind].length;
    if (kind === 'RNN') {
      const names = acts.map((s) => s.toLowerCase());
      if ((names.length !== 1 && names.length !== D) || names.some((s) => s !== names[0]) ||
        (names[0] !== 'tanh' && names[0] !== 'relu')) {
        throw new UnsupportedError(`${label}: activations [${acts.join(', ')}]; rnn-wasm's RNN supports Tanh or ` +
          'Relu, the same in both directions');
      }
      act = names[0] as 'tanh' | 'relu';
    } else {
      const want = DEFAULT_ACTS[kind];
      const okLen = acts.length === per * D || acts.length === per;
      if (!okLen || acts.some((s, i) => s.toLowerCase() !== want[i % per]!.toLowerCase())) {
        throw new UnsupportedError(`${label}: activations [${acts.join(', ')}]; only ${kind}'s standard ` +
          `[${want.join(', ')}] are supported`);
      }
    }
  }
  if (kind === 'LSTM' && attrInt(node, 'input_forget', 0) !== 0) {
    throw new UnsupportedError(`${label}: input_forget=1 (coupled input and forget gates) is not supported; ` +
      'PyTorch\'s LSTM has separate gates');
  }
  // GRU: linear_before_reset=1 is PyTorch's GRU; 0 (ONNX's default) is GRU({ resetAfter: false }).
  const lbr = kind === 'GRU' ? (attrInt(node, 'linear_before_reset', 0) !== 0 ? 1 : 0) : 1;
  const [X, Ws, Rs, Bs, seq, h, c, P] = ins;
  if (Ws?.k !== 'const') fail(Ws, 'W');
  if (Rs?.k !== 'const') fail(Rs, 'R');
  if (Bs !== undefined && Bs.k !== 'const') fail(Bs, 'B');
  if (P !== undefined && kind === 'LSTM') {
    const p = P.k === 'const' ? decodeTensor(P.t, label) : undefined;
    if (!p || p.data.some((v) => v !== 0)) {
      throw new UnsupportedError(`${label}: peephole connections (input P) are not supported; PyTorch's LSTM has ` +
        'none');
    }
  }
  const W = constDense(Ws, `${label} W`)!;
  const R = constDense(Rs, `${label} R`)!;
  const B = Bs ? constDense(Bs, `${label} B`)! : undefined;
  const Hattr = attrInt(node, 'hidden_size', -1);
  const H = Hattr > 0 ? Hattr : (R.dims[2] ?? -1);
  const I = W.dims[2] ?? -1;
  const same = (d: number[], want: number[]): boolean => d.length === want.length && d.every((v, i) => v === want[i]);
  if (!same(W.dims, [D, G * H, I]) || I <= 0 || H <= 0) {
    throw new OnnxError(`W has dims [${W.dims.join(', ')}], expected [${D}, ${G * H}, input_size]`, label);
  }
  if (!same(R.dims, [D, G * H, H])) {
    throw new OnnxError(`R has dims [${R.dims.join(', ')}], expected [${D}, ${G * H}, ${H}]`, label);
  }
  if (B && !same(B.dims, [D, 2 * G * H])) {
    throw new OnnxError(`B has dims [${B.dims.join(', ')}], expected [${D}, ${2 * G * H}]`, label);
  }
  // X: the previous layer's output sequence, time-major.
  if (X?.k !== 'seq') fail(X, 'X');
  const xs = X as Extract<Sym, { k: 'seq' }>;
  if (xs.bf) {
    if (xs.layer < 0) throw new LayoutRetry();
    throw new UnsupportedError(`${label}: X is batch-major`);
  }
  if (xs.layer !== l - 1) {
    throw new UnsupportedError(`${label}: X is ${symDesc(xs)}, but the recurrent nodes must form one chain ` +
      `(this node would be layer ${l})`);
  }
  if (l > 0) {
    const f = layers[0]!;
    if (f.kind !== kind || f.D !== D || f.H !== H || f.act !== act || f.lbr !== lbr) {
      const desc = (r: { kind: Kind; H: number; D: number; act: string; lbr: number }): string =>
        `${r.kind}(hidden ${r.H}, ${r.D} direction(s)${r.kind === 'RNN' ? `, ${r.act}` : ''}` +
        `${r.kind === 'GRU' ? `, linear_before_reset=${r.lbr}` : ''})`;
      throw new UnsupportedError(`${label}: layer ${l} is ${desc({ kind, H, D, act, lbr })} but layer 0 is ` +
        `${desc(f)}; a stack must repeat one cell`);
    }
  }
  const perm = xs.perm;
  const checkPerm = (s: Sym | undefined, what: string): void => {
    if (s && (s.k === 'state' || s.k === 'lens') && s.perm !== perm) {
      throw new UnsupportedError(`${label}: ${what} and X are in different batch orders`);
    }
  };
  if (seq !== undefined && seq.k !== 'lens' && seq.k !== 'const') fail(seq, 'sequence_lens');
  checkPerm(seq, 'sequence_lens');
  for (const [s, what] of [[h, 'initial_h'], [c, 'initial_c']] as const) {
    if (s === undefined || s.k === 'zeros' || s.k === 'const') continue;
    if (s.k !== 'state' || s.input === undefined) fail(s, what);
    checkPerm(s, what);
  }
  layers.push({ kind, node: label, D, H, I, act, lbr, W, R, B, X: xs, lens: seq, h, c });
  const outs: Sym[] = [
    { k: 'Y', layer: l, perm, tr: false },
    { k: 'state', which: 'h', from: l * D, to: (l + 1) * D, perm },
  ];
  if (kind === 'LSTM') outs.push({ k: 'state', which: 'c', from: l * D, to: (l + 1) * D, perm });
  return outs;
}

/**
 * Reads an ONNX model holding an LSTM, GRU or RNN stack (optionally with a linear head) into rnn-wasm layers.
 * Requires `await init()` first. The caller owns the returned model (`dispose()` it).
 *
 * @throws {OnnxError} when the bytes are not an ONNX model or its tensors are inconsistent.
 * @throws {UnsupportedError} when the graph holds something the model cannot reproduce (LSTM peepholes or
 *   `input_forget`, `clip`, other activations, `layout=1`, a `reverse`-only direction, an operator on the data
 *   path that is not part of the patterns above...), naming the node.
 */
export function importOnnx(bytes: Uint8Array | ArrayBuffer): OnnxImport {
  let buf: Uint8Array;
  if (bytes instanceof Uint8Array) buf = bytes;
  else if (bytes instanceof ArrayBuffer) buf = new Uint8Array(bytes);
  else throw new InvalidArgumentError('bytes', `expected a Uint8Array or ArrayBuffer, got ${describe(bytes)}`);
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, buf);
  } catch (e) {
    throw new OnnxError(`not an ONNX model (protobuf decoding failed: ${(e as Error).message})`);
  }
  if (!model.graph || model.graph.node.length === 0) throw new OnnxError('the file holds no graph (is it ONNX?)');
  const op = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = op ? Number(op.version) : 0;
  if (opset < 7) throw new UnsupportedError(`opset ${opset}: LSTM/GRU/RNN before opset 7 are not supported`);

  let reading: Reading | undefined;
  let batchFirst = false;
  for (const assume of [false, true]) {
    try {
      reading = readGraph(model, assume, opset);
      batchFirst = assume;
      break;
    } catch (e) {
      if (!(e instanceof LayoutRetry)) throw e;
    }
  }
  if (!reading) throw new UnsupportedError('the first recurrent node\'s X is not the input sequence in either layout');
  const { layers } = reading;
  if (layers.length === 0) throw new OnnxError('the graph holds no LSTM, GRU or RNN node');
  return build(model, opset, reading, batchFirst);
}

function build(model: ModelProto, opset: number, reading: Reading, batchFirst: boolean): OnnxImport {
  const { layers, outputs } = reading;
  const L = layers.length;
  const f = layers[0]!;
  const { kind, D, H } = f;
  const G = GATES[kind];
  const names: OnnxGraphNames = { input: (f.X as Extract<Sym, { k: 'seq' }>).input ?? '' };

  // Initial states and lengths: one source for the whole stack.
  const constState: Partial<Record<'h' | 'c', Tensor>> = {};
  for (const which of ['h', 'c'] as const) {
    const syms = layers.map((r) => (which === 'h' ? r.h : r.c));
    const live = syms.map((s) => (s?.k === 'const' && isZero(s.t) ? { k: 'zeros' } as Sym : s));
    if (live.every((s) => s === undefined || s.k === 'zeros')) continue;
    if (live.every((s) => s?.k === 'state')) {
      const st = live as Array<Extract<Sym, { k: 'state' }>>;
      const name = st[0]!.input!;
      const ok = st.every((s, l) => s.input === name && s.from === l * D &&
        (s.to === (l + 1) * D || (l === L - 1 && s.to === Infinity)));
      if (!ok) {
        throw new UnsupportedError(`initial_${which} of the ${L} layer(s) must be consecutive ${D}-row slices of one ` +
          `graph input (got ${st.map(symDesc).join('; ')})`);
      }
      names[which === 'h' ? 'h0' : 'c0'] = name;
      continue;
    }
    if (live.every((s) => s?.k === 'const')) {
      const ds = live.map((s) => decodeTensor((s as Extract<Sym, { k: 'const' }>).t, `initial_${which}`));
      const Bn = ds[0]!.dims[1]!;
      if (!ds.every((d) => d.dims.length === 3 && d.dims[0] === D && d.dims[1] === Bn && d.dims[2] === H)) {
        throw new OnnxError(`constant initial_${which} must be [${D}, batch, ${H}] in every layer`);
      }
      const data = new Float32Array(L * D * Bn * H);
      ds.forEach((d, l) => data.set(d.data, l * D * Bn * H));
      constState[which] = new Tensor(data, [L * D, Bn, H]);
      continue;
    }
    throw new UnsupportedError(`initial_${which} mixes sources across layers (${live.map(symDesc).join('; ')})`);
  }
  let lengths: Int32Array | undefined;
  {
    const ls = layers.map((r) => r.lens);
    if (ls.some((s) => s !== undefined)) {
      if (ls.every((s) => s?.k === 'lens' && s.input !== undefined && s.input === (ls[0] as { input?: string }).input)) {
        names.lengths = (ls[0] as { input: string }).input;
      } else if (ls.every((s) => s?.k === 'const')) {
        const vals = ls.map((s) => decodeTensor((s as Extract<Sym, { k: 'const' }>).t, 'sequence_lens').data);
        if (!vals.every((v) => v.length === vals[0]!.length && v.every((x, i) => x === vals[0]![i]))) {
          throw new UnsupportedError('the layers have different constant sequence_lens');
        }
        lengths = Int32Array.from(vals[0]!);
      } else {
        throw new UnsupportedError('sequence_lens must come from one graph input (or one constant) for every layer');
      }
    }
  }

  // Outputs.
  const ignoredOutputs: string[] = [];
  let headSym: Extract<Sym, { k: 'linear' }> | undefined;
  let headInput: HeadInput | undefined;
  let outName: string | undefined;
  const topRows = Array.from({ length: D }, (_, d) => (L - 1) * D + d);
  for (const { name, sym } of outputs) {
    if (sym === undefined || sym.k === 'opaque' || sym.k === 'const' || sym.k === 'zeros') {
      ignoredOutputs.push(name);
      continue;
    }
    if (sym.k === 'bad') throw new UnsupportedError(`graph output '${name}': ${sym.why}`);
    if ('perm' in sym && sym.perm) {
      throw new UnsupportedError(`graph output '${name}' is left in length-sorted batch order`);
    }
    if (sym.k === 'seq' && sym.layer === L - 1 && sym.bf === batchFirst && !headSym && outName === undefined) {
      outName = name;
    } else if (sym.k === 'state' && sym.input === undefined && sym.from === 0 && sym.to === L * D) {
      names[sym.which === 'h' ? 'hN' : 'cN'] = name;
    } else if (sym.k === 'linear' && outName === undefined) {
      const inp = sym.x;
      if (inp.k === 'seq' && inp.layer === L - 1 && !inp.perm && inp.bf === batchFirst) headInput = 'sequence';
      else if (inp.k === 'feat' && inp.which === 'h' && !inp.perm && inp.rows.length === D &&
        inp.rows.every((r, i) => r === topRows[i])) headInput = 'last';
      else throw new UnsupportedError(`graph output '${name}': the head reads ${symDesc(inp)}`);
      if (sym.inF !== D * H) {
        throw new OnnxError(`head weight has ${sym.inF} input features, expected ${D * H}`, `graph output '${name}'`);
      }
      headSym = sym;
      outName = name;
    } else {
      ignoredOutputs.push(name);
    }
  }
  if (outName === undefined && names.hN === undefined) {
    throw new UnsupportedError('no graph output is the recurrent stack\'s output, final states or head');
  }
  names.output = outName;

  // Weights in PyTorch's layout.
  const sd: Record<string, { shape: number[]; data: Float32Array }> = {};
  const bias = layers.some((r) => r.B !== undefined);
  layers.forEach((r, l) => {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const order = FROM_ONNX[kind];
      sd[`weight_ih${sfx}`] = { shape: [G * H, r.I], data: reorder(r.W.data, d * G * H * r.I, G, H, r.I, order) };
      sd[`weight_hh${sfx}`] = { shape: [G * H, H], data: reorder(r.R.data, d * G * H * H, G, H, H, order) };
      if (bias) {
        const b = r.B?.data ?? new Float64Array(D * 2 * G * H);
        sd[`bias_ih${sfx}`] = { shape: [G * H], data: reorder(b, d * 2 * G * H, G, H, 1, order) };
        sd[`bias_hh${sfx}`] = { shape: [G * H], data: reorder(b, d * 2 * G * H + G * H, G, H, 1, order) };
      }
    }
  });
  const opts = { inputSize: f.I, hiddenSize: H, numLayers: L, bidirectional: D === 2, batchFirst, bias, seed: 0 };
  const rnn: RecurrentLayer = kind === 'LSTM' ? new LSTM(opts)
    : kind === 'GRU' ? new GRU({ ...opts, resetAfter: f.lbr === 1 })
      : new RNN({ ...opts, nonlinearity: f.act });
  let head: Linear | undefined;
  try {
    rnn.loadStateDict(sd);
    if (headSym) {
      head = new Linear({ inFeatures: headSym.inF, outFeatures: headSym.out, bias: headSym.b !== undefined, seed: 0 });
      const hsd: Record<string, { shape: number[]; data: Float32Array }> = {
        weight: { shape: [headSym.out, headSym.inF], data: headSym.w },
      };
      if (headSym.b) hsd.bias = { shape: [headSym.out], data: headSym.b };
      head.loadStateDict(hsd);
    }
  } catch (e) {
    rnn.dispose();
    head?.dispose();
    throw e;
  }
  const producer = [model.producerName, model.producerVersion].filter((s) => s).join(' ');
  const result: OnnxImport = {
    model: head ? new SequenceModel({ rnn, head, headInput }) : rnn,
    rnn,
    names,
    ignoredOutputs,
    opsetVersion: opset,
    producer,
  };
  if (head) {
    result.head = head;
    result.headInput = headInput;
  }
  if (constState.h) result.h0 = constState.h;
  if (constState.c) result.c0 = constState.c;
  if (lengths) result.lengths = lengths;
  return result;
}

// ------------------------------------------------------------------------------------------------------------
// Export
// ------------------------------------------------------------------------------------------------------------

/** IR version of the first ONNX release that has each opset (onnx.helper.VERSION_TABLE). */
function irVersionFor(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

type Dim = number | string;

class GraphWriter {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private count = 0;
  constructor(readonly opset: number) {}

  floatInit(name: string, dims: number[], data: Float32Array): string {
    const raw = new Uint8Array(data.length * 4);
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
    this.inits.push(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: DataType.FLOAT, rawData: raw }));
    return name;
  }

  intInit(name: string, dims: number[], data: number[]): string {
    const raw = new Uint8Array(data.length * 8);
    const dv = new DataView(raw.buffer);
    data.forEach((v, i) => dv.setBigInt64(i * 8, BigInt(v), true));
    this.inits.push(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: DataType.INT64, rawData: raw }));
    return name;
  }

  node(op: string, inputs: string[], outputs: string[] | number, attrs: AttributeProto[] = [], name?: string): string[] {
    const id = name ?? `${op}_${this.count++}`;
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${id}_out${i}`) : outputs;
    this.nodes.push(create(NodeProtoSchema, { name: id, opType: op, input: inputs, output: outs, attribute: attrs }));
    return outs;
  }

  squeeze(x: string, axis: number): string {
    if (this.opset >= 13) return this.node('Squeeze', [x, this.intInit(`${x}_axes`, [1], [axis])], 1)[0]!;
    return this.node('Squeeze', [x], 1, [ints('axes', [axis])])[0]!;
  }

  sliceRows(x: string, from: number, to: number): string {
    if (this.opset >= 10) {
      const s = this.intInit(`${x}_rows${from}_start`, [1], [from]);
      const e = this.intInit(`${x}_rows${from}_end`, [1], [to]);
      const a = this.intInit(`${x}_rows${from}_axes`, [1], [0]);
      return this.node('Slice', [x, s, e, a], 1)[0]!;
    }
    return this.node('Slice', [x], 1, [ints('starts', [from]), ints('ends', [to]), ints('axes', [0])])[0]!;
  }
}

function intAttr(name: string, v: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(v) });
}
function ints(name: string, v: number[]): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: v.map(BigInt) });
}
function str(name: string, v: string): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: utf8enc.encode(v) });
}
function strs(name: string, v: string[]): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttrType.STRINGS, strings: v.map((s) => utf8enc.encode(s)) });
}

function valueInfo(name: string, elemType: DataType, dims: Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType,
          shape: {
            dim: dims.map((d) => ({ value: typeof d === 'number'
              ? { case: 'dimValue' as const, value: BigInt(d) }
              : { case: 'dimParam' as const, value: d } })),
          },
        },
      },
    },
  });
}

function checkBoolOpt(name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`options.${name}`, `expected a boolean, got ${describe(v)}`);
  return v;
}

/**
 * Writes a recurrent layer, or a {@link SequenceModel}, as an ONNX model (the bytes of a `.onnx` file).
 *
 * Graph inputs: `input` ((T, B, I), or (B, T, I) with batchFirst), and with the options `h0` / `c0`
 * ((D·numLayers, B, H)) and `sequence_lens` (int32, (B)). Graph outputs: `output` (what `forward` returns: the
 * layer's output sequence, or the head's result), `hN` and, for LSTM, `cN`. One LSTM/GRU/RNN node per layer
 * holds both directions; a GRU is written with `linear_before_reset=1` (PyTorch's GRU), or 0 when `resetAfter`
 * is false.
 *
 * @throws {UnsupportedError} for an LSTM with projSize (ONNX's LSTM has no projection).
 * @throws {InvalidArgumentError} for bad options.
 */
export function exportOnnx(model: RecurrentLayer | SequenceModel, options: OnnxExportOptions = {}): Uint8Array {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', `expected an object, got ${describe(options)}`);
  }
  const rnn = model instanceof SequenceModel ? model.rnn : model;
  if (!(rnn instanceof RecurrentLayer)) {
    throw new InvalidArgumentError('model', `expected an RNN, LSTM, GRU or SequenceModel, got ${describe(model)}`);
  }
  const head = model instanceof SequenceModel ? model.head : undefined;
  const headInput = model instanceof SequenceModel ? model.headInput : undefined;
  const opset = options.opsetVersion ?? 14;
  if (!Number.isInteger(opset) || opset < 9 || opset > 21) {
    throw new InvalidArgumentError('options.opsetVersion', `expected an integer from 9 to 21, got ${describe(opset)}`);
  }
  const dynamic = checkBoolOpt('dynamicAxes', options.dynamicAxes, true);
  const withStates = checkBoolOpt('initialStates', options.initialStates, false);
  const withLens = checkBoolOpt('sequenceLens', options.sequenceLens, false);
  let Bdim: Dim = 'batch';
  let Tdim: Dim = 'sequence';
  if (!dynamic) {
    for (const k of ['batchSize', 'seqLength'] as const) {
      const v = options[k];
      if (!Number.isSafeInteger(v) || (v as number) < 1) {
        throw new InvalidArgumentError(`options.${k}`,
          `a positive integer is required when dynamicAxes is false, got ${describe(v)}`);
      }
    }
    Bdim = options.batchSize!;
    Tdim = options.seqLength!;
  }
  if (rnn.projSize > 0) {
    throw new UnsupportedError(`${rnn.describeArch()}: ONNX's LSTM has no projection (proj_size), so it cannot be ` +
      'exported');
  }
  const kind: Kind = rnn.mode === 'LSTM' ? 'LSTM' : rnn.mode === 'GRU' ? 'GRU' : 'RNN';
  const G = GATES[kind];
  const { numLayers: L, numDirections: D, hiddenSize: H } = rnn;
  const sd = rnn.stateDict();
  const w = new GraphWriter(opset);
  const inputs: ValueInfoProto[] = [];
  const outputs: ValueInfoProto[] = [];
  const bf = rnn.batchFirst;
  inputs.push(valueInfo('input', DataType.FLOAT, bf ? [Bdim, Tdim, rnn.inputSize] : [Tdim, Bdim, rnn.inputSize]));
  if (withStates) {
    inputs.push(valueInfo('h0', DataType.FLOAT, [L * D, Bdim, H]));
    if (kind === 'LSTM') inputs.push(valueInfo('c0', DataType.FLOAT, [L * D, Bdim, H]));
  }
  if (withLens) inputs.push(valueInfo('sequence_lens', DataType.INT32, [Bdim]));

  let x = bf ? w.node('Transpose', ['input'], ['input_time_major'], [ints('perm', [1, 0, 2])])[0]! : 'input';
  const hOuts: string[] = [];
  const cOuts: string[] = [];
  const order = TO_ONNX[kind];
  for (let l = 0; l < L; l++) {
    const K = l === 0 ? rnn.inputSize : D * H;
    const Wd = new Float32Array(D * G * H * K);
    const Rd = new Float32Array(D * G * H * H);
    const Bd = new Float32Array(D * 2 * G * H);
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      Wd.set(reorder(sd[`weight_ih${sfx}`]!.data, 0, G, H, K, order), d * G * H * K);
      Rd.set(reorder(sd[`weight_hh${sfx}`]!.data, 0, G, H, H, order), d * G * H * H);
      if (rnn.bias) {
        Bd.set(reorder(sd[`bias_ih${sfx}`]!.data, 0, G, H, 1, order), d * 2 * G * H);
        Bd.set(reorder(sd[`bias_hh${sfx}`]!.data, 0, G, H, 1, order), d * 2 * G * H + G * H);
      }
    }
    const ins = [x, w.floatInit(`W_l${l}`, [D, G * H, K], Wd), w.floatInit(`R_l${l}`, [D, G * H, H], Rd),
      rnn.bias ? w.floatInit(`B_l${l}`, [D, 2 * G * H], Bd) : '', withLens ? 'sequence_lens' : ''];
    if (withStates) {
      ins.push(L === 1 ? 'h0' : w.sliceRows('h0', l * D, (l + 1) * D));
      if (kind === 'LSTM') ins.push(L === 1 ? 'c0' : w.sliceRows('c0', l * D, (l + 1) * D));
    }
    while (ins.length > 0 && ins[ins.length - 1] === '') ins.pop();
    const attrs = [intAttr('hidden_size', H)];
    if (D === 2) attrs.push(str('direction', 'bidirectional'));
    if (kind === 'GRU') attrs.push(intAttr('linear_before_reset', (rnn as GRU).resetAfter ? 1 : 0));
    if (kind === 'RNN') attrs.push(strs('activations', Array(D).fill(rnn.mode === 'RNN_RELU' ? 'Relu' : 'Tanh')));
    const outs = [`Y_l${l}`, L === 1 ? 'hN' : `Y_h_l${l}`];
    if (kind === 'LSTM') outs.push(L === 1 ? 'cN' : `Y_c_l${l}`);
    w.node(kind, ins, outs, attrs, `${kind}_l${l}`);
    hOuts.push(outs[1]!);
    if (kind === 'LSTM') cOuts.push(outs[2]!);
    // (T, D, B, H) -> (T, B, D*H)
    if (D === 1) {
      x = w.squeeze(outs[0]!, 1);
    } else {
      const t = w.node('Transpose', [outs[0]!], 1, [ints('perm', [0, 2, 1, 3])])[0]!;
      x = w.node('Reshape', [t, w.intInit(`Y_l${l}_shape`, [3], [0, 0, -1])], 1)[0]!;
    }
  }
  if (L > 1) {
    w.node('Concat', hOuts, ['hN'], [intAttr('axis', 0)]);
    if (kind === 'LSTM') w.node('Concat', cOuts, ['cN'], [intAttr('axis', 0)]);
  }
  const seqOut = bf ? w.node('Transpose', [x], 1, [ints('perm', [1, 0, 2])])[0]! : x;
  const seqDims: Dim[] = bf ? [Bdim, Tdim] : [Tdim, Bdim];
  if (!head) {
    renameOutput(w, seqOut, 'output');
    outputs.push(valueInfo('output', DataType.FLOAT, [...seqDims, D * H]));
  } else {
    const hsd = head.stateDict();
    const O = head.outFeatures;
    const F = head.inFeatures;
    const wt = new Float32Array(F * O);
    const hw = hsd.weight!.data;
    for (let o = 0; o < O; o++) for (let fi = 0; fi < F; fi++) wt[fi * O + o] = hw[o * F + fi]!;
    let feats: string;
    if (headInput === 'last') {
      const top = hOuts[L - 1]!;
      const rows = Array.from({ length: D }, (_, d) =>
        w.node('Gather', [top, w.intInit(`last_row${d}`, [], [d])], 1, [intAttr('axis', 0)])[0]!);
      feats = D === 1 ? rows[0]! : w.node('Concat', rows, 1, [intAttr('axis', 1)])[0]!;
    } else {
      feats = seqOut;
    }
    const mm = w.node('MatMul', [feats, w.floatInit('head_weight_t', [F, O], wt)], head.hasBias ? 1 : ['output'])[0]!;
    if (head.hasBias) w.node('Add', [mm, w.floatInit('head_bias', [O], hsd.bias!.data)], ['output']);
    outputs.push(valueInfo('output', DataType.FLOAT, headInput === 'last' ? [Bdim, O] : [...seqDims, O]));
  }
  outputs.push(valueInfo('hN', DataType.FLOAT, [L * D, Bdim, H]));
  if (kind === 'LSTM') outputs.push(valueInfo('cN', DataType.FLOAT, [L * D, Bdim, H]));

  const m = create(ModelProtoSchema, {
    irVersion: BigInt(irVersionFor(opset)),
    producerName: 'rnn-wasm',
    opsetImport: [{ domain: '', version: BigInt(opset) }],
    graph: {
      name: head ? `${rnn.describeArch()} + Linear(${head.inFeatures}, ${head.outFeatures}) on ${headInput}`
        : rnn.describeArch(),
      node: w.nodes,
      initializer: w.inits,
      input: inputs,
      output: outputs,
    },
  });
  return toBinary(ModelProtoSchema, m);
}

/** Renames the value `from` (a node output) to `to` everywhere. */
function renameOutput(w: GraphWriter, from: string, to: string): void {
  for (const n of w.nodes) {
    n.output = n.output.map((o) => (o === from ? to : o));
    n.input = n.input.map((i) => (i === from ? to : i));
  }
}
