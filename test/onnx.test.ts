// ONNX import and export.
//
// Import: test/fixtures/onnx/*.onnx are what torch.onnx.export (torch 1.13) writes for nn.LSTM / GRU / RNN stacks,
// with and without a Linear head, packed sequences and initial states (test/fixtures/gen_onnx.py); each must import
// to the architecture and weights PyTorch had, and our forward must give PyTorch's outputs (1e-5).
// Export: every architecture and opset round-trips exactly through importOnnx. With RNN_WASM_ONNX_EXPORT_DIR set, the
// exported files and our outputs are written there for the independent checks
// (`/usr/bin/python3 test/fixtures/gen_onnx.py --check-export DIR`, `node test/fixtures/onnx/ort_check.mjs DIR`).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GRU, InvalidArgumentError, LSTM, Linear, RNN, Random, RecurrentLayer, SequenceModel, UnsupportedError, init,
  type Tensor,
} from '../src/index.js';
import { exportOnnx, importOnnx, OnnxError, type OnnxImport } from '../src/io/onnx.js';
import {
  AttributeProto_AttributeType, AttributeProtoSchema, ModelProtoSchema, NodeProtoSchema, TensorProto_DataType,
  TensorProtoSchema, type ModelProto, type NodeProto, type TensorProto,
} from '../src/io/onnx_pb.js';
import { expectClose, fixturesDir, maxAbsDiff, type T } from './helpers.js';

interface OnnxFixture {
  name: string;
  opset: number;
  mode: 'LSTM' | 'GRU' | 'RNN_TANH' | 'RNN_RELU';
  options: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; batchFirst: boolean;
    bias: boolean; resetAfter?: boolean };
  head: null | { headInput: 'sequence' | 'last'; outFeatures: number };
  stateDict: Record<string, T>;
  inputs: Record<string, T>;
  outputs: Record<string, T>;
  roles: { input: string; lengths?: string; h0?: string; c0?: string; output?: string; head?: string; hN?: string;
    cN?: string };
}

const dir = `${fixturesDir}onnx/`;
const fixtures: Array<{ fx: OnnxFixture; bytes: Uint8Array }> = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({
    fx: JSON.parse(readFileSync(dir + f, 'utf8')) as OnnxFixture,
    bytes: new Uint8Array(readFileSync(dir + f.replace(/\.json$/, '.onnx'))),
  }));
const byName = (n: string): { fx: OnnxFixture; bytes: Uint8Array } => fixtures.find((f) => f.fx.name === n)!;

const exportDir = process.env.RNN_WASM_ONNX_EXPORT_DIR;

beforeAll(async () => {
  await init();
});

function dispose(r: OnnxImport): void {
  r.model.dispose();
}

/** Runs an import on the fixture's inputs: { output, hN, cN } by graph output name. */
function run(r: OnnxImport, inputs: Record<string, T>): Record<string, Tensor> {
  const n = r.names;
  const opts = {
    h0: n.h0 ? inputs[n.h0] : r.h0,
    c0: n.c0 ? inputs[n.c0] : r.c0,
    lengths: n.lengths ? inputs[n.lengths]!.data : r.lengths,
  };
  const x = inputs[n.input]!;
  const res = r.rnn.forward(x, opts);
  const out: Record<string, Tensor> = {};
  if (n.output) out[n.output] = r.model instanceof SequenceModel ? r.model.forward(x, opts) : res.output;
  if (n.hN) out[n.hN] = res.hN;
  if (n.cN && res.cN) out[n.cN] = res.cN;
  return out;
}

describe('importOnnx: torch.onnx.export files', () => {
  it('has the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(9);
  });

  it.each(fixtures.map((f) => [f.fx.name, f] as const))('%s', (_name, { fx, bytes }) => {
    const r = importOnnx(bytes);
    try {
      const mode = r.rnn.mode;
      expect(mode).toBe(fx.mode);
      expect(r.rnn.inputSize).toBe(fx.options.inputSize);
      expect(r.rnn.hiddenSize).toBe(fx.options.hiddenSize);
      expect(r.rnn.numLayers).toBe(fx.options.numLayers);
      expect(r.rnn.bidirectional).toBe(fx.options.bidirectional);
      expect(r.rnn.batchFirst).toBe(fx.options.batchFirst);
      expect(r.rnn.bias).toBe(fx.options.bias);
      if (r.rnn instanceof GRU) expect(r.rnn.resetAfter).toBe(fx.options.resetAfter ?? true);
      expect(r.opsetVersion).toBe(fx.opset);
      expect(r.producer).toMatch(/^pytorch/);
      if (fx.head) {
        expect(r.model).toBeInstanceOf(SequenceModel);
        expect(r.headInput).toBe(fx.head.headInput);
        expect(r.head!.outFeatures).toBe(fx.head.outFeatures);
      } else {
        expect(r.model).toBeInstanceOf(RecurrentLayer);
        expect(r.head).toBeUndefined();
      }
      // Graph names by role.
      expect(r.names.input).toBe(fx.roles.input);
      expect(r.names.lengths).toBe(fx.roles.lengths);
      expect(r.names.h0).toBe(fx.roles.h0);
      expect(r.names.c0).toBe(fx.roles.c0);
      expect(r.names.hN).toBe(fx.roles.hN);
      expect(r.names.cN).toBe(fx.roles.cN);
      expect(r.names.output).toBe(fx.roles.head ?? fx.roles.output);
      expect(r.ignoredOutputs).toEqual([]);
      // Weights: exactly PyTorch's (the gate reordering is a permutation).
      const sd = r.model instanceof SequenceModel ? r.model.stateDict() : r.rnn.stateDict();
      expect(Object.keys(sd).sort()).toEqual(Object.keys(fx.stateDict).sort());
      for (const [k, t] of Object.entries(fx.stateDict)) {
        expect([...sd[k]!.shape], k).toEqual(t.shape);
        expect(maxAbsDiff(sd[k]!.data, Float32Array.from(t.data)), k).toBe(0);
      }
      // Forward equals PyTorch's.
      const got = run(r, fx.inputs);
      expect(Object.keys(got).sort()).toEqual(Object.keys(fx.outputs).sort());
      for (const [k, t] of Object.entries(fx.outputs)) expectClose(got[k]!, t, 1e-5, `${fx.name} ${k}`);
    } finally {
      dispose(r);
    }
  });

  it('accepts an ArrayBuffer', () => {
    const { bytes } = byName('lstm_1l');
    const r = importOnnx(bytes.slice().buffer);
    expect(r.rnn.mode).toBe('LSTM');
    dispose(r);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------------------------

function sameWeights(a: Record<string, Tensor>, b: Record<string, Tensor>): void {
  expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a)) {
    expect([...a[k]!.shape], k).toEqual([...b[k]!.shape]);
    expect(maxAbsDiff(a[k]!.data, b[k]!.data), k).toBe(0);
  }
}

function stateDictOf(m: RecurrentLayer | SequenceModel): Record<string, Tensor> {
  return m instanceof SequenceModel ? m.stateDict() : m.stateDict();
}

describe('exportOnnx → importOnnx round trip of the torch fixtures', () => {
  it.each(fixtures.map((f) => [f.fx.name, f] as const))('%s', (_name, { fx, bytes }) => {
    const a = importOnnx(bytes);
    const onnx = exportOnnx(a.model, { initialStates: !!a.names.h0, sequenceLens: !!a.names.lengths });
    const b = importOnnx(onnx);
    try {
      expect(b.producer).toBe('rnn-wasm');
      expect(b.opsetVersion).toBe(14);
      sameWeights(stateDictOf(a.model), stateDictOf(b.model));
      expect(b.rnn.describeArch()).toBe(a.rnn.describeArch());
      expect(b.headInput).toBe(a.headInput);
      expect(b.names).toEqual({
        input: 'input', output: 'output', hN: 'hN',
        ...(a.rnn.mode === 'LSTM' ? { cN: 'cN' } : {}),
        ...(a.names.h0 ? { h0: 'h0' } : {}),
        ...(a.names.c0 ? { c0: 'c0' } : {}),
        ...(a.names.lengths ? { lengths: 'sequence_lens' } : {}),
      });
      // Same forward (same weights, same engine: identical numbers) and still PyTorch's.
      const rename = (r: OnnxImport): Record<string, T> => {
        const m: Record<string, T> = {};
        for (const role of ['input', 'h0', 'c0', 'lengths'] as const) {
          const from = a.names[role];
          const to = r.names[role];
          if (from && to) m[to] = fx.inputs[from]!;
        }
        return m;
      };
      const ya = run(a, fx.inputs);
      const yb = run(b, rename(b));
      expect(maxAbsDiff(yb.output!.data, ya[a.names.output!]!.data)).toBe(0);
      expect(maxAbsDiff(yb.hN!.data, ya[a.names.hN!]!.data)).toBe(0);
    } finally {
      dispose(a);
      dispose(b);
    }
  });
});

interface Arch {
  name: string;
  make: () => RecurrentLayer | SequenceModel;
  opset: number;
  states: boolean;
  lens: boolean;
  dynamic?: boolean;
}

function rnnOf(kind: 'LSTM' | 'GRU' | 'GRU_RESET_BEFORE' | 'RNN_TANH' | 'RNN_RELU', o: { I: number; H: number; L: number; bi: boolean;
  bf: boolean; bias: boolean; seed: number }): RecurrentLayer {
  const opts = { inputSize: o.I, hiddenSize: o.H, numLayers: o.L, bidirectional: o.bi, batchFirst: o.bf, bias: o.bias,
    seed: o.seed };
  if (kind === 'LSTM') return new LSTM(opts);
  if (kind === 'GRU') return new GRU(opts);
  if (kind === 'GRU_RESET_BEFORE') return new GRU({ ...opts, resetAfter: false });
  return new RNN({ ...opts, nonlinearity: kind === 'RNN_RELU' ? 'relu' : 'tanh' });
}

const archs: Arch[] = [];
{
  const kinds = ['LSTM', 'GRU', 'GRU_RESET_BEFORE', 'RNN_TANH', 'RNN_RELU'] as const;
  const opsets = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  let i = 0;
  for (const kind of kinds) {
    for (const L of [1, 2]) {
      for (const bi of [false, true]) {
        for (const head of [undefined, 'sequence', 'last'] as const) {
          const bf = i % 2 === 1;
          const bias = i % 5 !== 3;
          const opset = opsets[i % opsets.length]!;
          const seed = 100 + i;
          const states = i % 3 !== 2;
          const lens = i % 4 !== 1;
          const dynamic = i % 7 !== 4;
          const H = 3 + (i % 4);
          const name = `${kind.toLowerCase()}_l${L}${bi ? '_bi' : ''}${head ? `_head_${head}` : ''}${bf ? '_bf' : ''}` +
            `${bias ? '' : '_nobias'}_o${opset}${states ? '_h0' : ''}${lens ? '_lens' : ''}${dynamic ? '' : '_static'}`;
          archs.push({
            name,
            opset,
            states,
            lens,
            dynamic,
            make: () => {
              const rnn = rnnOf(kind, { I: 3, H, L, bi, bf, bias, seed });
              if (!head) return rnn;
              const D = bi ? 2 : 1;
              return new SequenceModel({ rnn, head: new Linear({ inFeatures: D * H, outFeatures: 2, seed, bias: i % 6 !== 5 }),
                headInput: head });
            },
          });
          i++;
        }
      }
    }
  }
}

const T_ = 5;
const B_ = 3;

describe('exportOnnx → importOnnx: every architecture and opset', () => {
  if (exportDir) mkdirSync(exportDir, { recursive: true });
  it.each(archs.map((a) => [a.name, a] as const))('%s', (_name, arch) => {
    const m = arch.make();
    const rnn = m instanceof SequenceModel ? m.rnn : m;
    const bytes = exportOnnx(m, { opsetVersion: arch.opset, initialStates: arch.states, sequenceLens: arch.lens,
      dynamicAxes: arch.dynamic, batchSize: B_, seqLength: T_ });
    const r = importOnnx(bytes);
    try {
      expect(r.opsetVersion).toBe(arch.opset);
      expect(r.rnn.describeArch()).toBe(rnn.describeArch());
      if (rnn instanceof GRU) expect((r.rnn as GRU).resetAfter).toBe(rnn.resetAfter);
      sameWeights(stateDictOf(r.model), stateDictOf(m));
      if (m instanceof SequenceModel) expect(r.headInput).toBe(m.headInput);
      else expect(r.head).toBeUndefined();
      expect(r.names.h0).toBe(arch.states ? 'h0' : undefined);
      expect(r.names.c0).toBe(arch.states && rnn.mode === 'LSTM' ? 'c0' : undefined);
      expect(r.names.lengths).toBe(arch.lens ? 'sequence_lens' : undefined);

      const rng = new Random(7);
      const D = rnn.numDirections;
      const L = rnn.numLayers;
      const H = rnn.hiddenSize;
      const xs = rnn.batchFirst ? [B_, T_, 3] : [T_, B_, 3];
      const x = { data: Float32Array.from({ length: T_ * B_ * 3 }, () => rng.normal()), shape: xs };
      const h0 = { data: Float32Array.from({ length: L * D * B_ * H }, () => rng.normal()), shape: [L * D, B_, H] };
      const c0 = { data: Float32Array.from({ length: L * D * B_ * H }, () => rng.normal()), shape: [L * D, B_, H] };
      const lengths = [5, 2, 4];
      const opts = {
        ...(arch.states ? { h0 } : {}),
        ...(arch.states && rnn.mode === 'LSTM' ? { c0 } : {}),
        ...(arch.lens ? { lengths } : {}),
      };
      const want = m.forward(x, opts);
      const got = r.model.forward(x, opts);
      const wantT = 'output' in want ? want.output : want;
      const gotT = 'output' in got ? got.output : got;
      expect([...gotT.shape]).toEqual([...wantT.shape]);
      expect(maxAbsDiff(gotT.data, wantT.data)).toBe(0);
      if (exportDir) {
        const st = rnn.forward(x, opts);
        const tj = (t: { shape: readonly number[]; data: ArrayLike<number> }): T => ({ shape: [...t.shape], data: Array.from(t.data) });
        const inputs: Record<string, T> = { input: tj(x) };
        if (arch.states) inputs.h0 = tj(h0);
        if (arch.states && rnn.mode === 'LSTM') inputs.c0 = tj(c0);
        if (arch.lens) inputs.sequence_lens = { shape: [B_], data: lengths };
        const outputs: Record<string, T> = { output: tj(wantT), hN: tj(st.hN) };
        if (st.cN) outputs.cN = tj(st.cN);
        writeFileSync(`${exportDir}/${arch.name}.onnx`, bytes);
        writeFileSync(`${exportDir}/${arch.name}.json`, JSON.stringify({ inputs, outputs }));
      }
    } finally {
      m.dispose();
      dispose(r);
    }
  });

  it('writes fixed sizes when dynamicAxes is false', () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    const model = fromBinary(ModelProtoSchema, exportOnnx(m, { dynamicAxes: false, batchSize: 4, seqLength: 6 }));
    const inp = model.graph!.input[0]!;
    const shape = inp.type!.value.case === 'tensorType' ? inp.type!.value.value.shape!.dim.map((d) => d.value) : [];
    expect(shape).toEqual([{ case: 'dimValue', value: 6n }, { case: 'dimValue', value: 4n }, { case: 'dimValue', value: 2n }]);
    const dyn = fromBinary(ModelProtoSchema, exportOnnx(m));
    const dshape = dyn.graph!.input[0]!.type!.value.value!;
    expect('shape' in dshape && dshape.shape!.dim.map((d) => d.value.value)).toEqual(['sequence', 'batch', 2n]);
    expect(Number(dyn.irVersion)).toBe(7);
    m.dispose();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// What is not supported, and bad input
// ---------------------------------------------------------------------------------------------------------------

function mutate(name: string, f: (m: ModelProto) => void): Uint8Array {
  const m = fromBinary(ModelProtoSchema, byName(name).bytes);
  f(m);
  return toBinary(ModelProtoSchema, m);
}

function recurrentNodeOf(m: ModelProto, i = 0): NodeProto {
  return m.graph!.node.filter((n) => ['LSTM', 'GRU', 'RNN'].includes(n.opType))[i]!;
}

function setIntAttr(node: NodeProto, name: string, v: number): void {
  node.attribute = node.attribute.filter((a) => a.name !== name);
  node.attribute.push(create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(v) }));
}

function floatTensor(name: string, dims: number[], data: number[]): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, floatData: data });
}

describe('importOnnx: unsupported graphs and bad input', () => {
  it('GRU: an absent linear_before_reset is ONNX\'s default 0; a stack mixing both forms is an UnsupportedError', () => {
    const absent = mutate('gru_1l_bi_dyn', (m) => {
      const n = recurrentNodeOf(m);
      n.attribute = n.attribute.filter((a) => a.name !== 'linear_before_reset');
    });
    const r = importOnnx(absent);
    expect((r.rnn as GRU).resetAfter).toBe(false);
    dispose(r);
    const mixed = mutate('gru_2l_head_o11', (m) => setIntAttr(recurrentNodeOf(m, 1), 'linear_before_reset', 0));
    expect(() => importOnnx(mixed)).toThrow(UnsupportedError);
    expect(() => importOnnx(mixed)).toThrow(/linear_before_reset=0\) but layer 0 is .*linear_before_reset=1/);
  });

  it('LSTM peepholes (P) and input_forget are UnsupportedErrors; an all-zero P is accepted', () => {
    const withP = (v: number): Uint8Array => mutate('lstm_1l', (m) => {
      const n = recurrentNodeOf(m);
      m.graph!.initializer.push(floatTensor('P', [1, 15], Array(15).fill(v)));
      while (n.input.length < 7) n.input.push('');
      n.input[7] = 'P';
    });
    expect(() => importOnnx(withP(0.5))).toThrow(UnsupportedError);
    expect(() => importOnnx(withP(0.5))).toThrow(/peephole/);
    const ok = importOnnx(withP(0));
    const fx = byName('lstm_1l').fx;
    const got = run(ok, fx.inputs);
    expectClose(got.output!, fx.outputs.output!, 1e-5, 'zero P');
    dispose(ok);
    const fi = mutate('lstm_1l', (m) => setIntAttr(recurrentNodeOf(m), 'input_forget', 1));
    expect(() => importOnnx(fi)).toThrow(/input_forget=1/);
  });

  it('clip, layout=1, reverse-only direction and other activations are UnsupportedErrors', () => {
    const clip = mutate('lstm_1l', (m) => {
      recurrentNodeOf(m).attribute.push(create(AttributeProtoSchema, { name: 'clip', type: AttributeProto_AttributeType.FLOAT, f: 3 }));
    });
    expect(() => importOnnx(clip)).toThrow(/clip/);
    const layout = mutate('lstm_1l', (m) => setIntAttr(recurrentNodeOf(m), 'layout', 1));
    expect(() => importOnnx(layout)).toThrow(/layout=1/);
    const rev = mutate('lstm_1l', (m) => {
      recurrentNodeOf(m).attribute.push(create(AttributeProtoSchema, { name: 'direction', type: AttributeProto_AttributeType.STRING,
        s: new TextEncoder().encode('reverse') }));
    });
    expect(() => importOnnx(rev)).toThrow(UnsupportedError);
    const sig = mutate('rnn_tanh_2l_bi_o17', (m) => {
      for (const n of m.graph!.node.filter((x) => x.opType === 'RNN')) {
        n.attribute = n.attribute.filter((a) => a.name !== 'activations');
        n.attribute.push(create(AttributeProtoSchema, { name: 'activations', type: AttributeProto_AttributeType.STRINGS,
          strings: [new TextEncoder().encode('Sigmoid'), new TextEncoder().encode('Sigmoid')] }));
      }
    });
    expect(() => importOnnx(sig)).toThrow(/Sigmoid/);
  });

  it('an operator on the data path that the model cannot reproduce is an UnsupportedError naming the node', () => {
    const bytes = mutate('gru_2l_head_o11', (m) => {
      const rnn0 = recurrentNodeOf(m);
      const neg = create(NodeProtoSchema, { name: 'my_neg', opType: 'Neg', input: [rnn0.input[0]!], output: ['x_neg'] });
      rnn0.input[0] = 'x_neg';
      m.graph!.node.splice(m.graph!.node.indexOf(rnn0), 0, neg);
    });
    expect(() => importOnnx(bytes)).toThrow(UnsupportedError);
    expect(() => importOnnx(bytes)).toThrow(/my_neg.*Neg/);
    const head = mutate('gru_2l_head_o11', (m) => {
      const add = m.graph!.node.find((n) => n.opType === 'Add')!;
      add.opType = 'Sub';
    });
    expect(() => importOnnx(head)).toThrow(/Sub/);
  });

  it('an initial state stored as a constant is returned for the caller to pass', () => {
    const { fx } = byName('lstm_1l');
    const bytes = mutate('lstm_1l', (m) => {
      m.graph!.input = m.graph!.input.filter((i) => i.name !== 'h0');
      m.graph!.initializer.push(floatTensor('h0', fx.inputs.h0!.shape, fx.inputs.h0!.data));
    });
    const r = importOnnx(bytes);
    expect(r.names.h0).toBeUndefined();
    expect(r.names.c0).toBe('c0');
    expect([...r.h0!.shape]).toEqual(fx.inputs.h0!.shape);
    const got = run(r, fx.inputs);
    expectClose(got.output!, fx.outputs.output!, 1e-5, 'constant h0');
    dispose(r);
  });

  it('rejects what is not an ONNX model', () => {
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(OnnxError);
    expect(() => importOnnx(new Uint8Array(0))).toThrow(OnnxError);
    expect(() => importOnnx(readFileSync(`${dir}lstm_1l.json`))).toThrow(OnnxError);
    expect(() => importOnnx('model.onnx' as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    const noRnn = mutate('lstm_1l', (m) => {
      m.graph!.node = m.graph!.node.filter((n) => n.opType !== 'LSTM');
    });
    expect(() => importOnnx(noRnn)).toThrow(/no LSTM, GRU or RNN node/);
    const badDims = mutate('lstm_1l', (m) => {
      const w = m.graph!.initializer.find((t) => t.name === recurrentNodeOf(m).input[2])!;
      w.dims = [1n, 20n, 4n];
      w.rawData = w.rawData.subarray(0, 320);
    });
    expect(() => importOnnx(badDims)).toThrow(OnnxError);
  });

  it.each([
    ['2^31 x 2^31', [1n, 2n ** 31n, 2n ** 31n]],
    ['2^32 x 2^32', [2n ** 32n, 2n ** 32n]],
    ['10^8', [100_000_000n]],
  ])('a weight whose dims claim %s values is refused before anything that size is allocated', (_n, dims) => {
    for (const raw of [true, false]) {
      const bytes = mutate('lstm_1l', (m) => {
        const w = m.graph!.initializer.find((t) => t.name === recurrentNodeOf(m).input[1])!;
        w.dims = dims;
        if (!raw) {
          w.floatData = [1, 2, 3];
          w.rawData = new Uint8Array(0);
        }
      });
      const t0 = performance.now();
      expect(() => importOnnx(bytes)).toThrow(OnnxError);
      expect(() => importOnnx(bytes)).toThrow(/expected \d/);
      expect(performance.now() - t0).toBeLessThan(200); // a 10^8-element Float64Array (800 MB) was allocated first
    }
  });
});

describe('exportOnnx: bad arguments', () => {
  it('rejects projSize, bad options and non-models', () => {
    const p = new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 2, seed: 1 });
    expect(() => exportOnnx(p)).toThrow(UnsupportedError);
    expect(() => exportOnnx(p)).toThrow(/proj/);
    p.dispose();
    const m = new GRU({ inputSize: 2, hiddenSize: 3, seed: 1 });
    expect(() => exportOnnx(m, { opsetVersion: 8 })).toThrow(InvalidArgumentError);
    expect(() => exportOnnx(m, { opsetVersion: 14.5 })).toThrow(InvalidArgumentError);
    expect(() => exportOnnx(m, { dynamicAxes: false })).toThrow(/batchSize/);
    expect(() => exportOnnx(m, { initialStates: 1 as unknown as boolean })).toThrow(InvalidArgumentError);
    expect(() => exportOnnx({} as unknown as GRU)).toThrow(InvalidArgumentError);
    m.dispose();
  });
});
