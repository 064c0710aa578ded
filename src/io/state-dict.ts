/**
 * The forms in which a PyTorch `state_dict` reaches the library, normalised to name -> { shape?, data }.
 * @module
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../tensor.js';
import { readSafetensors, readSafetensorsShared } from './safetensors.js';

/** One tensor of a state dict: `{ shape, data }`, or a bare numeric array (its shape is then not checked). */
export type StateDictValue = { shape: readonly number[]; data: ArrayLike<number> } | ArrayLike<number>;

/**
 * A state dict: a plain object or `Map` of PyTorch names to tensors, or the bytes of a `.safetensors` file
 * (what `safetensors.torch.save_file(model.state_dict(), path)` writes).
 */
export type StateDictInput =
  | Record<string, StateDictValue>
  | Map<string, StateDictValue>
  | Uint8Array
  | ArrayBuffer;

/** A normalised entry. */
export interface StateDictEntry {
  shape?: readonly number[];
  data: ArrayLike<number>;
}

/**
 * Normalises any accepted form into a list of entries; throws on values that are not tensors.
 * @param input - the state dict
 * @param options - `shareBytes` (internal: loadStateDict): a `.safetensors` file's aligned F32 tensors may be
 *   views into `input` rather than copies, for a caller that copies them before anything can change `input`.
 */
export function normalizeStateDict(input: StateDictInput,
  options: { shareBytes?: boolean } = {}): Array<[string, StateDictEntry]> {
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) {
    const file = options.shareBytes ? readSafetensorsShared(input) : readSafetensors(input);
    return [...file.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }]);
  }
  let pairs: Array<[string, unknown]>;
  if (input instanceof Map) pairs = [...input.entries()];
  else if (input !== null && typeof input === 'object') pairs = Object.entries(input);
  else throw new InvalidArgumentError('stateDict', `expected an object, a Map or .safetensors bytes, got ${describe(input)}`);
  return pairs.map(([name, v]) => {
    if (typeof name !== 'string') {
      throw new InvalidArgumentError('stateDict', `tensor names must be strings, got ${describe(name)}`);
    }
    if (v !== null && typeof v === 'object' && 'data' in v && 'shape' in v) {
      const t = v as { shape: unknown; data: unknown };
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw new InvalidArgumentError(`stateDict['${name}'].shape`, `expected non-negative integers, got ${describe(t.shape)}`);
      }
      if (!isNumeric(t.data)) {
        throw new InvalidArgumentError(`stateDict['${name}'].data`, `expected a numeric array, got ${describe(t.data)}`);
      }
      return [name, { shape: t.shape as number[], data: t.data }];
    }
    if (isNumeric(v)) return [name, { data: v }];
    throw new InvalidArgumentError(`stateDict['${name}']`, `expected { shape, data } or a numeric array, got ${describe(v)}`);
  });
}

function isNumeric(v: unknown): v is ArrayLike<number> {
  if (ArrayBuffer.isView(v)) return !(v instanceof DataView);
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}
