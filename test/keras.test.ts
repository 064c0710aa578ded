// Keras / TensorFlow.js layers import (src/io/keras.ts) against the fixtures of test/fixtures/gen_keras.py: for
// each model.json + weight shards, the mapped PyTorch weights (exact), the recurrent outputs and Keras' predict
// output (1e-5, the engine is float32), and the typed errors of malformed or unsupported models, which must be
// thrown before any WebAssembly memory is allocated.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GRU, InvalidArgumentError, RnnWasmError, StateDictError, UnsupportedError, getEngine, init, type Engine,
} from '../src/index.js';
import { convertKeras, importKeras, type KerasWeightsInput } from '../src/io/keras.js';
import { expectClose, fixturesDir, maxAbsDiff, type T } from './helpers.js';

const TOL = 1e-5;
const dir = `${fixturesDir}keras/`;

interface Expected {
  name: string;
  flavour: string;
  shards: string[];
  input: T;
  output: T;
  mode: string;
  options: Record<string, unknown>;
  stateDict: Record<string, T>;
  head: { input: 'sequence' | 'last'; activation: string; stateDict: Record<string, T> } | null;
  rnnOutput: T;
  hN: T;
  cN?: T;
  preActivation?: T;
}

interface Case {
  exp: Expected;
  text: string;
  json: Record<string, any>;
  shards: Uint8Array[];
}

function load(name: string): Case {
  const exp = JSON.parse(readFileSync(`${dir}${name}/expected.json`, 'utf8')) as Expected;
  const text = readFileSync(`${dir}${name}/model.json`, 'utf8');
  return {
    exp, text, json: JSON.parse(text),
    shards: exp.shards.map((f) => new Uint8Array(readFileSync(`${dir}${name}/${f}`))),
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const names = readdirSync(dir).filter((n) => statSync(dir + n).isDirectory()).sort();
const cases = names.map(load);
let engine: Engine;

beforeAll(async () => {
  await init();
  engine = getEngine();
});

type ErrorClass = new (...a: any[]) => RnnWasmError;

/** Runs `f`, expects it to throw `cls`, and checks that no WebAssembly memory was allocated meanwhile. */
function expectThrowNoAlloc(f: () => unknown, cls: ErrorClass, ...contains: string[]): RnnWasmError {
  const before = engine.stats();
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a throw').toBeInstanceOf(cls);
  const msg = (err as Error).message;
  for (const c of contains) expect(msg).toContain(c);
  const after = engine.stats();
  expect(after.blocks).toBe(before.blocks);
  expect(after.usedBytes).toBe(before.usedBytes);
  return err as RnnWasmError;
}

it('has every fixture the issue asks for', () => {
  expect(names).toEqual(expect.arrayContaining(['simple_rnn_tanh', 'simple_rnn_relu_nobias', 'lstm_seq_dense',
    'gru_reset_after', 'gru_reset_before', 'bigru_reset_before_stack2', 'lstm_stack2', 'bilstm_stack2_td',
    'bigru_sigmoid', 'bisimple_rnn', 'lstm_quantized']));
});

const FIXTURE_SUITE = 'import and forward equal the Keras and torch references';
for (const simd of ['simd', 'relaxed'] as const) describe(`fixtures (${simd} build): ${FIXTURE_SUITE}`, () => {
  it('initialises', async () => {
    engine = await init({ simd, force: true });
    expect(engine.flavour).toBe(simd);
  });
  for (const c of cases) {
    it(`${c.exp.name} (${c.exp.flavour})`, () => {
      const { exp } = c;
      const before = engine.stats();
      const k = importKeras(c.text, c.shards);
      expect(k.rnn.mode).toBe(exp.mode);
      const o = exp.options as Record<string, number | boolean>;
      expect(k.rnn.inputSize).toBe(o.inputSize);
      expect(k.rnn.hiddenSize).toBe(o.hiddenSize);
      expect(k.rnn.numLayers).toBe(o.numLayers);
      expect(k.rnn.bidirectional).toBe(o.bidirectional);
      expect(k.rnn.bias).toBe(o.bias);
      expect(k.rnn.batchFirst).toBe(true);
      if (exp.mode === 'GRU') expect((k.rnn as GRU).resetAfter).toBe(o.resetAfter);
      // The mapped weights are exactly the float32 values of the file, transposed and reordered.
      const sd = k.rnn.stateDict();
      expect(Object.keys(sd).sort()).toEqual(Object.keys(exp.stateDict).sort());
      for (const [n, t] of Object.entries(exp.stateDict)) {
        expect([...sd[n]!.shape], n).toEqual(t.shape);
        expect(maxAbsDiff(sd[n]!.data, t.data), n).toBe(0);
      }
      if (exp.head) {
        expect(k.head).toBeDefined();
        expect(k.headInput).toBe(exp.head.input);
        expect(k.headActivation).toBe(exp.head.activation);
        expect(k.model?.headInput).toBe(exp.head.input);
        const hsd = k.head!.stateDict();
        expect(Object.keys(hsd).sort()).toEqual(Object.keys(exp.head.stateDict).sort());
        for (const [n, t] of Object.entries(exp.head.stateDict)) expect(maxAbsDiff(hsd[n]!.data, t.data), n).toBe(0);
      } else {
        expect(k.head).toBeUndefined();
        expect(k.model).toBeUndefined();
      }
      const r = k.rnn.forward(exp.input);
      expectClose(r.output, exp.rnnOutput, TOL, 'rnn output');
      expectClose(r.hN, exp.hN, TOL, 'hN');
      if (exp.cN) expectClose(r.cN!, exp.cN, TOL, 'cN');
      if (exp.preActivation) expectClose(k.model!.forward(exp.input), exp.preActivation, TOL, 'head (pre-activation)');
      expectClose(k.predict(exp.input), exp.output, TOL, 'predict');
      k.dispose();
      expect(k.rnn.isDisposed).toBe(true);
      if (k.head) expect(k.head.isDisposed).toBe(true);
      expect(engine.stats().usedBytes).toBe(before.usedBytes);
    });
  }
});

describe('weight buffers', () => {
  it('accepts every shard concatenated into one buffer, as ArrayBuffer or Uint8Array (shards and groups)', () => {
    for (const name of ['lstm_seq_dense', 'lstm_quantized']) {
      const c = load(name);
      expect(c.shards.length).toBe(2);
      const all = concat(c.shards);
      for (const w of [all, all.buffer as ArrayBuffer, [all]] as KerasWeightsInput[]) {
        const conv = convertKeras(c.json, w);
        for (const [n, t] of Object.entries(c.exp.stateDict)) {
          expect(maxAbsDiff(conv.stateDict[n]!.data, t.data)).toBe(0);
        }
      }
    }
  });

  it('reads a buffer that is a view at an unaligned offset', () => {
    const c = load('simple_rnn_tanh');
    const big = new Uint8Array(c.shards[0]!.length + 3);
    big.set(c.shards[0]!, 3);
    const conv = convertKeras(c.text, big.subarray(3));
    expect(maxAbsDiff(conv.stateDict.weight_hh_l0!.data, c.exp.stateDict.weight_hh_l0!.data)).toBe(0);
  });

  it('converts without allocating and describes the mapping', () => {
    const c = load('bilstm_stack2_td');
    const before = engine.stats();
    const conv = convertKeras(c.json, c.shards);
    expect(engine.stats().blocks).toBe(before.blocks);
    expect(conv.mode).toBe('LSTM');
    expect(conv.options).toEqual({
      inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true, bias: true,
    });
    expect(conv.recurrentLayers).toEqual(['bidirectional', 'bidirectional_1']);
    expect(conv.headLayer).toBe('time_distributed');
    expect(conv.head?.input).toBe('sequence');
    expect(conv.returnSequences).toBe(true);
  });

  it('rejects a byte count that disagrees with the manifest, naming both sizes', () => {
    const c = load('lstm_seq_dense');
    const all = concat(c.shards);
    expectThrowNoAlloc(() => importKeras(c.json, all.subarray(0, all.length - 1)), InvalidArgumentError,
      `describes ${all.length} bytes`, `got ${all.length - 1}`);
    expectThrowNoAlloc(() => importKeras(c.json, [c.shards[0]!, c.shards[1]!.subarray(4)]), InvalidArgumentError,
      'group 0', `${all.length} bytes`);
    expectThrowNoAlloc(() => importKeras(c.json, [...c.shards, c.shards[1]!]), InvalidArgumentError,
      'expected 2 buffers');
    expectThrowNoAlloc(() => importKeras(c.json, 'weights' as unknown as Uint8Array), InvalidArgumentError, 'weights');
  });
});

/** A deep copy of a case's model.json, edited by `edit`. */
type Edit = (j: Record<string, any>) => void;

function edited(name: string, edit: Edit): { json: Record<string, any>; shards: Uint8Array[] } {
  const c = load(name);
  const json = structuredClone(c.json);
  edit(json);
  return { json, shards: c.shards };
}

/** The layer configs of a Sequential / Functional model.json (either wrapping). */
function layers(j: Record<string, any>): any[] {
  const top = j.modelTopology.model_config ?? j.modelTopology;
  return top.config.layers;
}

describe('weights: typed errors naming the weight and the expected shape', () => {
  it('GRU without reset_after in its config: the bias shape decides', () => {
    const a = edited('gru_reset_after', (j) => { delete layers(j)[1].config.reset_after; });
    const ca = convertKeras(a.json, a.shards);
    expect(ca.options.resetAfter).toBe(true);
    expect(ca.stateDict.bias_hh_l0!.data.some((v) => v !== 0)).toBe(true);
    const b = edited('gru_reset_before', (j) => { delete layers(j)[1].config.reset_after; });
    const cb = convertKeras(b.json, b.shards);
    expect(cb.options.resetAfter).toBe(false);
    expect(cb.stateDict.bias_hh_l0!.data.every((v) => v === 0)).toBe(true);
  });

  it('GRU layers with different reset_after cannot be stacked', () => {
    const { json, shards } = edited('bigru_reset_before_stack2', (j) => {
      layers(j)[1].config.layer.config.reset_after = true;
    });
    expectThrowNoAlloc(() => importKeras(json, shards), UnsupportedError, "'bidirectional_Bidirectional2'",
      'reset_after=true cannot be stacked');
  });

  it('a transposed kernel (same byte count) is a StateDictError with the expected shape', () => {
    const { json, shards } = edited('lstm_seq_dense', (j) => {
      const w = j.weightsManifest[0].weights.find((x: any) => x.name === 'lstm/lstm_cell/kernel');
      w.shape = [24, 4];
    });
    const e = expectThrowNoAlloc(() => importKeras(json, shards), StateDictError, 'lstm/lstm_cell/kernel',
      'expected shape [4, 24]', 'got [24, 4]') as StateDictError;
    expect(e.tensor).toBe('lstm/lstm_cell/kernel');
    expect(e.code).toBe('STATE_DICT');
  });

  it('a GRU bias of the wrong variant shape names the weight', () => {
    const { json, shards } = edited('gru_reset_after', (j) => {
      j.weightsManifest[0].weights.find((x: any) => x.name.endsWith('gru_cell/bias')).shape = [30];
    });
    expectThrowNoAlloc(() => importKeras(json, shards), StateDictError, 'functional/gru/gru_cell/bias',
      'expected shape [2, 15]', 'reset_after=true');
  });

  it('a missing weight names what is missing and its shape', () => {
    // Drop the recurrent kernel's entry and bytes (6 x 24 floats after the Dense weights and the kernel).
    const c = load('lstm_seq_dense');
    const json = structuredClone(c.json);
    const ws = json.weightsManifest[0].weights as Array<{ name: string; shape: number[] }>;
    let off = 0;
    let at = -1;
    for (const w of ws) {
      if (w.name.endsWith('recurrent_kernel')) at = off;
      off += w.shape.reduce((a, b) => a * b, 1) * 4;
    }
    json.weightsManifest[0].weights = ws.filter((w) => !w.name.endsWith('recurrent_kernel'));
    const all = concat(c.shards);
    const cut = concat([all.subarray(0, at), all.subarray(at + 6 * 24 * 4)]);
    expectThrowNoAlloc(() => importKeras(json, cut), StateDictError, 'lstm/recurrent_kernel', 'missing', '[6, 24]');
  });

  it('a weight no layer uses is an error', () => {
    const c = load('simple_rnn_tanh');
    const json = structuredClone(c.json);
    json.weightsManifest[0].weights.push({ name: 'extra/kernel', shape: [2], dtype: 'float32' });
    expectThrowNoAlloc(() => importKeras(json, concat([c.shards[0]!, new Uint8Array(8)])), StateDictError,
      'extra/kernel', 'unexpected');
  });

  it('a non-finite weight names the weight and element', () => {
    const c = load('simple_rnn_tanh');
    const bytes = c.shards[0]!.slice();
    new DataView(bytes.buffer).setFloat32(8, NaN, true);
    expectThrowNoAlloc(() => importKeras(c.json, bytes), StateDictError, 'simple_rnn_SimpleRNN1/kernel', 'element 2');
  });

  it('non-float32 dtypes and unknown quantizations are rejected', () => {
    const a = edited('simple_rnn_tanh', (j) => { j.weightsManifest[0].weights[0].dtype = 'int32'; });
    expectThrowNoAlloc(() => importKeras(a.json, a.shards), StateDictError, 'int32');
    const b = edited('lstm_quantized', (j) => { j.weightsManifest[0].weights[0].quantization.dtype = 'int4'; });
    expectThrowNoAlloc(() => importKeras(b.json, b.shards), UnsupportedError, 'int4');
  });
});

describe('topology: unsupported layers, activations and options', () => {
  const cases: Array<[string, string, Edit, ErrorClass, string[]]> = [
    ['hard_sigmoid (tfjs / Keras 2.2 default)', 'lstm_stack2',
      (j) => { layers(j)[0].config.recurrent_activation = 'hard_sigmoid'; }, UnsupportedError,
      ["'lstm_LSTM1'", "recurrent_activation 'hard_sigmoid'"]],
    ['hardSigmoid spelled as tfjs does', 'lstm_stack2',
      (j) => { layers(j)[0].config.recurrent_activation = 'hardSigmoid'; }, UnsupportedError, ['hard_sigmoid']],
    ['GRU activation relu', 'gru_reset_after',
      (j) => { layers(j)[1].config.activation = 'relu'; }, UnsupportedError, ["'gru'", "activation 'relu'"]],
    ['SimpleRNN activation sigmoid', 'simple_rnn_tanh',
      (j) => { layers(j)[0].config.activation = 'sigmoid'; }, UnsupportedError,
      ["activation 'sigmoid'", "'tanh' or 'relu'"]],
    ['missing recurrent_activation', 'lstm_seq_dense',
      (j) => { delete layers(j)[1].config.recurrent_activation; }, InvalidArgumentError,
      ['recurrent_activation', 'missing']],
    ['stack of different sizes', 'lstm_stack2',
      (j) => { layers(j)[2].config.units = 6; }, UnsupportedError,
      ["'lstm_LSTM2'", 'cannot be stacked', "'lstm_LSTM1'"]],
    ['stack of different cells', 'lstm_stack2',
      (j) => { layers(j)[2].class_name = 'GRU'; layers(j)[2].config.reset_after = true; }, UnsupportedError,
      ['GRU(units=5)', 'cannot be stacked']],
    ['a recurrent layer after return_sequences=False', 'lstm_stack2',
      (j) => { layers(j)[0].config.return_sequences = false; }, UnsupportedError, ['return_sequences=False']],
    ['Bidirectional merge_mode sum', 'bigru_sigmoid',
      (j) => { layers(j)[1].config.merge_mode = 'sum'; }, UnsupportedError, ["'bidirectional'", 'merge_mode "sum"']],
    ['Bidirectional backward layer of another size', 'bigru_sigmoid',
      (j) => { layers(j)[1].config.backward_layer.config.units = 3; }, UnsupportedError, ['backward layer']],
    ['go_backwards on a unidirectional layer', 'simple_rnn_relu_nobias',
      (j) => { layers(j)[1].config.go_backwards = true; }, UnsupportedError, ['go_backwards']],
    ['return_state', 'simple_rnn_relu_nobias',
      (j) => { layers(j)[1].config.return_state = true; }, UnsupportedError, ['return_state']],
    ['an Embedding layer', 'lstm_seq_dense',
      (j) => {
        const embedding = { class_name: 'Embedding', config: { name: 'embedding', input_dim: 10, output_dim: 4 } };
        layers(j).splice(1, 0, embedding);
      },
      UnsupportedError, ["'embedding' (Embedding)"]],
    ['two Dense layers', 'lstm_seq_dense',
      (j) => { layers(j).push({ class_name: 'Dense', config: { name: 'dense_1', units: 2, activation: 'linear' } }); },
      UnsupportedError, ["'dense_1'", 'only one Dense']],
    ['a head activation without an equivalent', 'simple_rnn_relu_nobias',
      (j) => { layers(j)[2].config.activation = 'softplus'; }, UnsupportedError, ["'dense'", "'softplus'"]],
    ['TimeDistributed of something else', 'bilstm_stack2_td',
      (j) => { layers(j)[3].config.layer.class_name = 'Conv1D'; }, UnsupportedError, ['TimeDistributed(Conv1D)']],
    ['a graph model', 'simple_rnn_tanh', (j) => { j.format = 'graph-model'; }, UnsupportedError, ['graph-model']],
    ['a model class that is not Sequential or Functional', 'simple_rnn_tanh',
      (j) => { j.modelTopology.class_name = 'MyModel'; }, UnsupportedError, ['MyModel']],
    ['no modelTopology', 'simple_rnn_tanh',
      (j) => { delete j.modelTopology; }, InvalidArgumentError, ['modelTopology']],
    ['Functional with a branch', 'bilstm_stack2_td',
      (j) => { layers(j)[3].inbound_nodes = [[['bidirectional_1', 0, 0, {}], ['bidirectional', 0, 0, {}]]]; },
      UnsupportedError, ["'time_distributed' takes 2 inputs"]],
    ['Functional with an initial_state tensor (Keras 3)', 'gru_reset_after',
      (j) => {
        const n = layers(j)[1].inbound_nodes[0];
        n.kwargs.initial_state = structuredClone(n.args[0]);
      }, UnsupportedError, ['tensor keyword arguments']],
    ['Functional with a dead branch', 'gru_reset_after',
      (j) => {
        const extra = structuredClone(layers(j)[2]);
        extra.name = 'dense_x';
        extra.config.name = 'dense_x';
        layers(j).push(extra);
      }, UnsupportedError, ["'dense_x' is not on the chain"]],
  ];
  for (const [what, name, edit, cls, contains] of cases) {
    it(what, () => {
      const { json, shards } = edited(name, edit);
      expectThrowNoAlloc(() => importKeras(json, shards), cls, ...contains);
    });
  }

  it('invalid JSON text', () => {
    expectThrowNoAlloc(() => importKeras('{"modelTopology": ', new Uint8Array(0)), InvalidArgumentError,
      'not valid JSON');
  });

  it('accepts Keras 3 activation objects, an Activation layer after Dense, and Dropout anywhere', () => {
    const c = load('gru_reset_after');
    const { json } = edited('gru_reset_after', (j) => {
      const ls = layers(j);
      ls[1].config.recurrent_activation = { module: 'keras.activations', class_name: 'function', config: 'sigmoid',
        registered_name: 'function' };
      ls[2].config.activation = 'linear';
      const input = { class_name: '__keras_tensor__', config: { keras_history: ['dense', 0, 0] } };
      const act = { module: 'keras.layers', class_name: 'Activation', name: 'activation',
        config: { name: 'activation', activation: 'softmax' }, inbound_nodes: [{ args: [input], kwargs: {} }] };
      ls.push(act);
      j.modelTopology.model_config.config.output_layers = [['activation', 0, 0]];
    });
    const k = importKeras(json, c.shards);
    expect(k.headActivation).toBe('softmax');
    expectClose(k.predict(c.exp.input), c.exp.output, TOL, 'predict');
    k.dispose();
  });

  it('predict wants (batch, steps, features)', () => {
    const c = load('simple_rnn_tanh');
    const k = importKeras(c.json, c.shards);
    expect(() => k.predict({ data: new Float32Array(18), shape: [6, 3] })).toThrow(InvalidArgumentError);
    k.dispose();
  });
});
