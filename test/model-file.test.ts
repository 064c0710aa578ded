// Whole-model files: bit-exact round trips of architecture and weights, and typed errors for files that are not.
import { beforeAll, expect, it } from 'vitest';
import {
  GRU, InvalidArgumentError, LSTM, Linear, RNN, SequenceModel, StateDictError, getEngine, init, loadModel,
  readSafetensors, saveModel, writeSafetensors,
  type RecurrentLayer,
} from '../src/index.js';
import { maxAbsDiff } from './helpers.js';

beforeAll(async () => {
  await init();
});

const x = { data: Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i)), shape: [5, 2, 3] };

it.each([
  ['LSTM with projection, 2 layers, bidirectional', () => new LSTM({ inputSize: 3, hiddenSize: 6, projSize: 2, numLayers: 2, bidirectional: true, seed: 1 })],
  ['GRU batch-first without bias', () => new GRU({ inputSize: 3, hiddenSize: 5, batchFirst: true, bias: false, seed: 2 })],
  ['RNN relu', () => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu', seed: 3 })],
  ['GRU with the reset gate before the product', () => new GRU({ inputSize: 3, hiddenSize: 5, resetAfter: false, seed: 4 })],
])('%s round-trips bit-exactly', (_n, make) => {
  const m = make() as RecurrentLayer;
  const bytes = saveModel(m, { note: 'test' });
  const back = loadModel(bytes) as RecurrentLayer;
  expect(back.describeArch()).toBe(m.describeArch());
  const a = m.stateDict();
  const b = back.stateDict();
  for (const k of Object.keys(a)) expect(maxAbsDiff(a[k]!.data, b[k]!.data)).toBe(0);
  expect(maxAbsDiff(back.forward(x).output.data, m.forward(x).output.data)).toBe(0);
  expect(readSafetensors(bytes).metadata.note).toBe('test');
  m.dispose();
  back.dispose();
});

it('a SequenceModel round-trips with its head', () => {
  const rnn = new GRU({ inputSize: 3, hiddenSize: 5, seed: 4 });
  const m = new SequenceModel({ rnn, head: new Linear({ inFeatures: 5, outFeatures: 2, seed: 5 }), headInput: 'last' });
  const back = loadModel(saveModel(m)) as SequenceModel;
  expect(back).toBeInstanceOf(SequenceModel);
  expect(back.headInput).toBe('last');
  expect(maxAbsDiff(back.forward(x).data, m.forward(x).data)).toBe(0);
  expect(Object.keys(back.stateDict())).toEqual(Object.keys(m.stateDict()));
  m.dispose();
  back.dispose();
});

it('rejects files that are not model files, or whose weights do not fit', () => {
  const plain = writeSafetensors({ 'rnn.weight_ih_l0': { shape: [4, 3], data: new Float32Array(12) } });
  expect(() => loadModel(plain)).toThrow(StateDictError);
  expect(() => loadModel(plain)).toThrow(/not an rnn-wasm model file/);
  const m = new RNN({ inputSize: 3, hiddenSize: 4, seed: 1 });
  const sd = m.stateDict({ prefix: 'rnn.' });
  const meta = readSafetensors(saveModel(m)).metadata;
  delete (sd as Record<string, unknown>)['rnn.bias_hh_l0'];
  expect(() => loadModel(writeSafetensors(sd, { metadata: meta }))).toThrow(/rnn.bias_hh_l0: missing tensor/);
  expect(() => loadModel(writeSafetensors({}, { metadata: { 'rnn-wasm.architecture': '{bad' } }))).toThrow(/not valid JSON/);
  m.dispose();
});

/** A saved model file whose architecture record is edited by `edit` (the tensors are kept). */
function withArchitecture(m: RecurrentLayer | SequenceModel, edit: (arch: Record<string, any>) => void): Uint8Array {
  const file = readSafetensors(saveModel(m));
  const arch = JSON.parse(file.metadata['rnn-wasm.architecture']!) as Record<string, any>;
  edit(arch);
  const tensors = Object.fromEntries([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  return writeSafetensors(tensors, { metadata: { ...file.metadata, 'rnn-wasm.architecture': JSON.stringify(arch) } });
}

it.each<[string, (a: Record<string, any>) => void, RegExp]>([
  ['a huge hiddenSize', (a) => { a.rnn.hiddenSize = 4096; }, /rnn.bias_hh_l0: expected shape \[12288\] .*got \[12\]/],
  ['an absurd hiddenSize', (a) => { a.rnn.hiddenSize = 2 ** 40; }, /rnn.hiddenSize: expected an integer in \[1, 65536\]/],
  ['a string numLayers', (a) => { a.rnn.numLayers = '2'; }, /rnn.numLayers: expected an integer/],
  ['more layers', (a) => { a.rnn.numLayers = 1000; }, /rnn.weight_ih_l1: missing tensor/],
  ['a huge head', (a) => { a.head.outFeatures = 1 << 24; }, /head.bias: expected shape \[16777216\]/],
  ['an unknown mode', (a) => { a.rnn.mode = 'XLSTM'; }, /unknown cell mode/],
  ['a head bias that is not a boolean', (a) => { a.head.bias = [[[[[['x']]]]]]; },
    /head.bias: expected a boolean, got \[\[\[\[\.\.\.\]\]\]\]/],
  ['a bidirectional flag that is not a boolean', (a) => { a.rnn.bidirectional = 'yes'; },
    /rnn.bidirectional: expected a boolean, got "yes"/],
  ['a head of the wrong input size', (a) => { a.head.inFeatures = 5; }, /head.weight: expected shape \[2, 5\]/],
])('an architecture record with %s is refused before any allocation', (_n, edit, message) => {
  const m = new SequenceModel({ rnn: new GRU({ inputSize: 3, hiddenSize: 4, seed: 1 }),
    head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 2 }), headInput: 'last' });
  const bytes = withArchitecture(m, edit);
  m.dispose();
  const engine = getEngine();
  const before = engine.stats();
  const t0 = performance.now();
  expect(() => loadModel(bytes)).toThrow(StateDictError);
  expect(() => loadModel(bytes)).toThrow(message);
  expect(performance.now() - t0).toBeLessThan(500);
  const after = engine.stats();
  expect(after.memoryBytes).toBe(before.memoryBytes);
  expect(after.usedBytes).toBe(before.usedBytes);
});

it('a head that does not fit the recurrent stack is refused without leaking the head', () => {
  const m = new SequenceModel({ rnn: new GRU({ inputSize: 3, hiddenSize: 4, seed: 1 }),
    head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 2 }), headInput: 'last' });
  // A head of 5 inputs with a weight of that shape: the tensors fit the record, SequenceModel's constructor
  // refuses the head after it is built.
  const file = readSafetensors(withArchitecture(m, (a) => { a.head.inFeatures = 5; }));
  m.dispose();
  const tensors = Object.fromEntries([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  tensors['head.weight'] = { shape: [2, 5], data: new Float32Array(10) };
  const bytes = writeSafetensors(tensors, { metadata: file.metadata });
  const before = getEngine().stats();
  expect(() => loadModel(bytes)).toThrow(InvalidArgumentError);
  expect(getEngine().stats().usedBytes).toBe(before.usedBytes);
  expect(getEngine().stats().blocks).toBe(before.blocks);
});

it('a headInput that is not a string is refused (an array nested 100,000 deep overflowed String())', () => {
  const m = new SequenceModel({ rnn: new GRU({ inputSize: 3, hiddenSize: 4, seed: 1 }),
    head: new Linear({ inFeatures: 4, outFeatures: 2, seed: 2 }), headInput: 'last' });
  const file = readSafetensors(saveModel(m));
  m.dispose();
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const arch = file.metadata['rnn-wasm.architecture']!.replace('"last"', deep);
  const tensors = Object.fromEntries([...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
  const bytes = writeSafetensors(tensors, { metadata: { ...file.metadata, 'rnn-wasm.architecture': arch } });
  expect(() => loadModel(bytes)).toThrow(/head.headInput: expected 'sequence' or 'last', got \[\[\[\[\.\.\.\]\]\]\]/);
});
