/**
 * Reader and writer for the safetensors format
 * (https://github.com/huggingface/safetensors), in portable TypeScript.
 *
 * Layout of a file:
 *
 * 1. 8 bytes: little-endian u64 `N`, the header length in bytes;
 * 2. `N` bytes: a UTF-8 JSON object mapping each tensor name to
 *    `{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}`, plus an
 *    optional `"__metadata__"` object of string to string;
 * 3. the data section: the tensors' bytes, row-major and little-endian, at the
 *    given offsets (relative to the start of the data section).
 *
 * The module uses only `Uint8Array`, `DataView`, `TextEncoder` and `TextDecoder`,
 * so it runs unchanged in Node, browsers and edge runtimes.
 *
 * The reader is meant to face untrusted bytes: every malformed input fails with
 * a {@link SafetensorsError} (never another exception, a hang or an allocation
 * larger than the input warrants), and the whole header is validated before
 * any tensor storage is allocated.
 *
 * @module
 */
import { RnnWasmError } from '../errors.js';

/** Floating-point element types this module can read. */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16';

/**
 * One tensor as read from a safetensors file.
 *
 * Whatever the stored dtype, `data` holds Float32 values: F64 is rounded to
 * nearest (ties to even, as `Math.fround`), F16 and BF16 are widened exactly
 * (subnormals, infinities and NaN included). F32 data is copied bit-exactly.
 */
export interface SafetensorsTensor {
  /** Element type stored in the file (before conversion to Float32). */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** Row-major elements; `data.length` is the product of `shape`. */
  data: Float32Array;
}

/** The content of a safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in the order of their byte ranges in the file. */
  tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` string map (`{}` when the file has none). */
  metadata: Record<string, string>;
}

/** Options of {@link readSafetensors}. */
export interface ReadSafetensorsOptions {
  /**
   * Largest accepted JSON header, in bytes. Default 100 000 000 (100 MB), the
   * limit of the reference implementation.
   */
  maxHeaderBytes?: number;
  /**
   * Largest accepted total size, in bytes, of the decoded Float32 data (4 bytes
   * per element, summed over all tensors); checked before anything is allocated.
   * Default: no limit beyond the one the input implies (the decoded data is at
   * most twice the size of the input, for F16/BF16 files).
   */
  maxTotalBytes?: number;
}

/** A tensor given to {@link writeSafetensors}. */
export interface SafetensorsInputTensor {
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: readonly number[];
  /** Row-major elements; the length must be the product of `shape`. */
  data: Float32Array | Float64Array;
}

/** Options of {@link writeSafetensors}. */
export interface WriteSafetensorsOptions {
  /** String map stored as `__metadata__` (omitted when absent). */
  metadata?: Record<string, string>;
  /**
   * Element type of every tensor in the file. Default `'F32'`: Float32 data is
   * written bit-exactly, Float64 data rounded to nearest. With `'F64'`, Float32
   * data is widened exactly and Float64 data written bit-exactly.
   */
  dtype?: 'F32' | 'F64';
}

/**
 * Machine-readable reason of a {@link SafetensorsError}:
 *
 * - `SAFETENSORS_INPUT`: a bad argument (not a byte buffer, invalid options,
 *   writer input that is not a Float32Array/Float64Array, a reserved or
 *   ill-formed name, non-string metadata given to the writer);
 * - `SAFETENSORS_TRUNCATED`: the buffer ends before the 8-byte length prefix,
 *   the header, or a tensor's data;
 * - `SAFETENSORS_LIMIT`: the header exceeds `maxHeaderBytes` or the decoded data
 *   exceeds `maxTotalBytes`;
 * - `SAFETENSORS_HEADER`: the header is not UTF-8, not JSON, not an object, or an
 *   entry or `__metadata__` has the wrong structure or types;
 * - `SAFETENSORS_DTYPE`: an unknown or unsupported dtype;
 * - `SAFETENSORS_SHAPE`: a shape entry that is not a non-negative safe integer,
 *   an element count that overflows, or a byte range whose length does not
 *   match shape × dtype size (in the writer: data length ≠ product of shape);
 * - `SAFETENSORS_OFFSETS`: `data_offsets` that are not two integers with
 *   begin ≤ end, or byte ranges that overlap, leave a hole, or leave bytes
 *   after the last tensor;
 * - `SAFETENSORS_DUPLICATE`: a key that appears twice in the same JSON object
 *   (a tensor name, or a key inside an entry or `__metadata__`).
 */
export type SafetensorsErrorCode =
  | 'SAFETENSORS_INPUT'
  | 'SAFETENSORS_TRUNCATED'
  | 'SAFETENSORS_LIMIT'
  | 'SAFETENSORS_HEADER'
  | 'SAFETENSORS_DTYPE'
  | 'SAFETENSORS_SHAPE'
  | 'SAFETENSORS_OFFSETS'
  | 'SAFETENSORS_DUPLICATE';

/**
 * Error thrown by {@link readSafetensors} and {@link writeSafetensors}. The
 * message names the offending tensor (when there is one) and the expected and
 * actual values.
 */
export class SafetensorsError extends RnnWasmError {
  /** Machine-readable reason; see {@link SafetensorsErrorCode}. */
  declare readonly code: SafetensorsErrorCode;
  /** Name of the offending tensor, when the error concerns one. */
  readonly tensor: string | undefined;

  /**
   * @param code - machine-readable reason.
   * @param message - human-readable description.
   * @param tensor - name of the offending tensor, if any.
   */
  constructor(code: SafetensorsErrorCode, message: string, tensor?: string) {
    super(code, message);
    this.tensor = tensor;
  }
}

/** Header limit of the reference implementation. */
const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** Element sizes of the dtypes this module reads. */
const DTYPE_SIZES: Readonly<Record<SafetensorsDtype, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2 };

/** Dtypes of the reference implementation that this module cannot convert to Float32. */
const UNSUPPORTED_DTYPES: ReadonlySet<string> = new Set([
  'BOOL', 'U8', 'I8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64',
  'F8_E5M2', 'F8_E4M3', 'F8_E4M3FN', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4',
  'C64', 'C128',
]);

const LITTLE_ENDIAN_HOST: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Quotes a name for an error message (JSON escaping keeps control characters visible). */
function q(name: string): string {
  const s = JSON.stringify(name);
  return s.length > 200 ? `${s.slice(0, 197)}..."` : s;
}

/**
 * Short rendering of a value parsed from JSON, for an error message. Shallow on
 * purpose: arrays show at most a few primitive elements, nested containers only
 * their type, so a huge or deeply nested value costs nothing.
 */
function show(value: unknown): string {
  if (Array.isArray(value)) {
    const shown = value.slice(0, 8).map((v: unknown) => (typeof v === 'object' && v !== null ? typeOf(v) : show(v)));
    if (value.length > 8) shown.push(`... (${value.length} entries)`);
    return `[${shown.join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) return 'object';
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `s` contains no unpaired UTF-16 surrogate (it then encodes to UTF-8 losslessly). */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** Sets `record[key] = value` as an own data property, even for `"__proto__"`. */
function defineEntry(record: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function objectTag(value: unknown): string {
  return Object.prototype.toString.call(value);
}

/** Views the input as bytes without copying; accepts any ArrayBuffer view or (Shared)ArrayBuffer. */
function toBytes(input: unknown): Uint8Array {
  if (ArrayBuffer.isView(input)) {
    return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  }
  const tag = objectTag(input);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(input as ArrayBuffer);
  }
  throw new SafetensorsError(
    'SAFETENSORS_INPUT',
    `readSafetensors expects a Uint8Array or ArrayBuffer, got ${typeOf(input)}`,
  );
}

function limitOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new SafetensorsError(
      'SAFETENSORS_INPUT',
      `option ${name} must be a non-negative number, got ${show(value)}`,
    );
  }
  return value;
}

/** Where a duplicate key was found by {@link findDuplicateKey}. */
interface DuplicateKey {
  key: string;
  /** The top-level key enclosing the object holding the duplicate; undefined at top level. */
  entry: string | undefined;
}

/**
 * Finds the first key that occurs twice in one object of a JSON text (which
 * must already be known to be valid JSON). `JSON.parse` silently keeps the last
 * of duplicate keys, so this scan is what detects them. Iterative and linear in
 * the text length.
 */
function findDuplicateKey(text: string): DuplicateKey | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let topLevelKey: string | undefined;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x22) break;
        if (d === 0x5c /* \ */) {
          escaped = true;
          j += 2;
        } else {
          j++;
        }
      }
      const start = i;
      i = j + 1;
      const keys = stack.length > 0 ? stack[stack.length - 1] : null;
      if (keys === null || keys === undefined) continue;
      let k = i;
      while (k < n) {
        const w = text.charCodeAt(k);
        if (w !== 0x20 && w !== 0x09 && w !== 0x0a && w !== 0x0d) break;
        k++;
      }
      if (text.charCodeAt(k) !== 0x3a /* : */) continue; // a string value, not a key
      const key = escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
      if (keys.has(key)) {
        return { key, entry: stack.length === 1 ? undefined : topLevelKey };
      }
      keys.add(key);
      if (stack.length === 1) topLevelKey = key;
    } else {
      i++;
    }
  }
  return undefined;
}

/** A validated header entry. */
interface Entry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

function validateEntry(name: string, value: unknown, dataLength: number): Entry {
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      'SAFETENSORS_HEADER',
      `tensor ${q(name)}: expected an object with dtype, shape and data_offsets, got ${typeOf(value)}`,
      name,
    );
  }
  for (const field of ['dtype', 'shape', 'data_offsets'] as const) {
    if (!Object.prototype.hasOwnProperty.call(value, field)) {
      throw new SafetensorsError('SAFETENSORS_HEADER', `tensor ${q(name)}: missing field "${field}"`, name);
    }
  }

  const rawDtype = value['dtype'];
  if (typeof rawDtype !== 'string') {
    throw new SafetensorsError(
      'SAFETENSORS_HEADER',
      `tensor ${q(name)}: dtype must be a string, got ${typeOf(rawDtype)}`,
      name,
    );
  }
  if (!Object.prototype.hasOwnProperty.call(DTYPE_SIZES, rawDtype)) {
    const what = UNSUPPORTED_DTYPES.has(rawDtype) ? 'unsupported' : 'unknown';
    throw new SafetensorsError(
      'SAFETENSORS_DTYPE',
      `tensor ${q(name)}: ${what} dtype ${show(rawDtype)}; expected one of F64, F32, F16, BF16`,
      name,
    );
  }
  const dtype = rawDtype as SafetensorsDtype;
  const size = DTYPE_SIZES[dtype];

  const rawShape = value['shape'];
  if (!Array.isArray(rawShape)) {
    throw new SafetensorsError(
      'SAFETENSORS_HEADER',
      `tensor ${q(name)}: shape must be an array, got ${typeOf(rawShape)}`,
      name,
    );
  }
  const shape: number[] = new Array<number>(rawShape.length);
  // numel * size never exceeds MAX_SAFE_INTEGER: each factor is checked against
  // the bound before multiplying.
  let numel = 1;
  for (let d = 0; d < rawShape.length; d++) {
    const dim: unknown = rawShape[d];
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new SafetensorsError(
        'SAFETENSORS_SHAPE',
        `tensor ${q(name)}: shape[${d}] must be a non-negative safe integer, got ${show(dim)}`,
        name,
      );
    }
    if (dim !== 0 && numel > Math.floor(Number.MAX_SAFE_INTEGER / size / dim)) {
      throw new SafetensorsError(
        'SAFETENSORS_SHAPE',
        `tensor ${q(name)}: element count of shape ${show(rawShape)} overflows`,
        name,
      );
    }
    numel *= dim;
    shape[d] = dim === 0 ? 0 : dim; // normalises -0
  }

  const offsets = value['data_offsets'];
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    typeof offsets[0] !== 'number' ||
    typeof offsets[1] !== 'number' ||
    !Number.isSafeInteger(offsets[0]) ||
    !Number.isSafeInteger(offsets[1]) ||
    offsets[0] < 0
  ) {
    throw new SafetensorsError(
      'SAFETENSORS_OFFSETS',
      `tensor ${q(name)}: data_offsets must be [begin, end] with non-negative integers, got ${show(offsets)}`,
      name,
    );
  }
  const begin = offsets[0] === 0 ? 0 : (offsets[0] as number);
  const end = offsets[1] as number;
  if (end < begin) {
    throw new SafetensorsError(
      'SAFETENSORS_OFFSETS',
      `tensor ${q(name)}: data_offsets end ${end} is before begin ${begin}`,
      name,
    );
  }
  if (end > dataLength) {
    throw new SafetensorsError(
      'SAFETENSORS_TRUNCATED',
      `tensor ${q(name)}: data_offsets end ${end} is beyond the data section of ${dataLength} bytes`,
      name,
    );
  }
  const expected = numel * size;
  if (end - begin !== expected) {
    throw new SafetensorsError(
      'SAFETENSORS_SHAPE',
      `tensor ${q(name)}: shape ${show(shape)} with dtype ${dtype} needs ${expected} bytes, ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
      name,
    );
  }
  return { name, dtype, shape, numel, begin, end };
}

function validateMetadata(value: unknown): Record<string, string> {
  const metadata: Record<string, string> = {};
  if (value === null) return metadata; // the reference implementation reads null as "no metadata"
  if (!isPlainObject(value)) {
    throw new SafetensorsError(
      'SAFETENSORS_HEADER',
      `__metadata__ must be an object of strings, got ${typeOf(value)}`,
    );
  }
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (typeof v !== 'string') {
      throw new SafetensorsError(
        'SAFETENSORS_HEADER',
        `__metadata__ value of ${q(key)} must be a string, got ${typeOf(v)}`,
      );
    }
    if (!isWellFormed(key) || !isWellFormed(v)) {
      throw new SafetensorsError('SAFETENSORS_HEADER', `__metadata__ entry ${q(key)} contains an unpaired surrogate`);
    }
    defineEntry(metadata, key, v);
  }
  return metadata;
}

/**
 * Returns `byteLength` bytes at `bytes[start]` as an ArrayBuffer region whose
 * `elementSize`-byte words are in host order and aligned: a view of the input
 * when possible, otherwise a copy (byte-swapped on big-endian hosts).
 */
function hostWords(
  bytes: Uint8Array,
  start: number,
  byteLength: number,
  elementSize: number,
): { buffer: ArrayBufferLike; byteOffset: number } {
  const byteOffset = bytes.byteOffset + start;
  if (LITTLE_ENDIAN_HOST && byteOffset % elementSize === 0) {
    return { buffer: bytes.buffer, byteOffset };
  }
  const copy = bytes.slice(start, start + byteLength);
  if (!LITTLE_ENDIAN_HOST) swapWords(copy, elementSize);
  return { buffer: copy.buffer, byteOffset: 0 };
}

/** Reverses the byte order of each `elementSize`-byte word of `bytes`, in place. */
function swapWords(bytes: Uint8Array, elementSize: number): void {
  for (let i = 0; i + elementSize <= bytes.length; i += elementSize) {
    for (let a = i, b = i + elementSize - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/** Widens IEEE 754 binary16 bits to binary32 bits, exactly (NaN payloads kept). */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / nan
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // normal: exp - 15 + 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal half: mant * 2^-24; normalise (always normal in binary32).
  let e = 113; // exponent field of 2^-14 in binary32
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

function decode(bytes: Uint8Array, dataStart: number, entry: Entry, share: boolean): Float32Array {
  const start = dataStart + entry.begin;
  // A view instead of a copy (readSafetensorsShared): F32 already in the host's order and 4-byte aligned.
  if (share && entry.dtype === 'F32' && LITTLE_ENDIAN_HOST && (bytes.byteOffset + start) % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset + start, entry.numel);
  }
  const out = new Float32Array(entry.numel);
  if (entry.numel === 0) return out;
  const byteLength = entry.end - entry.begin;
  switch (entry.dtype) {
    case 'F32': {
      // Byte copy: bit-exact, NaN payloads included.
      const raw = new Uint8Array(out.buffer);
      raw.set(bytes.subarray(start, start + byteLength));
      if (!LITTLE_ENDIAN_HOST) swapWords(raw, 4);
      break;
    }
    case 'F64': {
      const { buffer, byteOffset } = hostWords(bytes, start, byteLength, 8);
      out.set(new Float64Array(buffer, byteOffset, entry.numel)); // rounds to nearest, ties to even
      break;
    }
    case 'F16': {
      const { buffer, byteOffset } = hostWords(bytes, start, byteLength, 2);
      const src = new Uint16Array(buffer, byteOffset, entry.numel);
      const dst = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) dst[i] = halfToFloatBits(src[i] as number);
      break;
    }
    case 'BF16': {
      const { buffer, byteOffset } = hostWords(bytes, start, byteLength, 2);
      const src = new Uint16Array(buffer, byteOffset, entry.numel);
      const dst = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) dst[i] = (src[i] as number) << 16;
      break;
    }
  }
  return out;
}

/**
 * Parses a safetensors file.
 *
 * Validation follows the reference implementation: the header must start with
 * `{`, tensors' byte ranges must tile the data section exactly (no overlap, no
 * hole, no trailing byte), and each range must be exactly shape × dtype size
 * bytes long. Additionally, duplicate keys in any JSON object of the header are
 * rejected (`JSON.parse` alone would silently keep the last one), and so are
 * names with unpaired UTF-16 surrogates. Unknown fields inside an entry are
 * ignored, as in the reference implementation. Everything is validated before
 * any tensor storage is allocated.
 *
 * @param bytes - the whole file. Not modified and not retained: the returned
 *   tensors own their data.
 * @param options - size limits; see {@link ReadSafetensorsOptions}.
 * @returns the tensors (converted to Float32, in file order) and the metadata.
 * @throws {@link SafetensorsError} on any malformed input or exceeded limit.
 */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer, options?: ReadSafetensorsOptions): SafetensorsFile {
  return parse(bytes, options, false);
}

/**
 * @internal {@link readSafetensors}, except that F32 tensors whose data is 4-byte aligned in `bytes` (the
 * reference writer pads the header to 8 bytes) are views into `bytes`, not copies: for callers that copy them
 * at once (loadStateDict copies them into the WebAssembly memory), which saves a copy of the whole file.
 */
export function readSafetensorsShared(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  return parse(bytes, undefined, true);
}

function parse(bytes: Uint8Array | ArrayBuffer, options: ReadSafetensorsOptions | undefined,
  share: boolean): SafetensorsFile {
  const input = toBytes(bytes);
  const opts: unknown = options ?? {};
  if (!isPlainObject(opts)) {
    throw new SafetensorsError('SAFETENSORS_INPUT', `options must be an object, got ${typeOf(opts)}`);
  }
  const maxHeaderBytes = limitOption(opts['maxHeaderBytes'], 'maxHeaderBytes', DEFAULT_MAX_HEADER_BYTES);
  const maxTotalBytes = limitOption(opts['maxTotalBytes'], 'maxTotalBytes', Number.POSITIVE_INFINITY);

  if (input.length < 8) {
    throw new SafetensorsError(
      'SAFETENSORS_TRUNCATED',
      `file is ${input.length} bytes long, shorter than the 8-byte header length prefix`,
    );
  }
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  // u64 as a double: exact below 2^53, and any larger value fails the checks below anyway.
  const headerLength = view.getUint32(4, true) * 0x1_0000_0000 + view.getUint32(0, true);
  if (headerLength > maxHeaderBytes) {
    throw new SafetensorsError(
      'SAFETENSORS_LIMIT',
      `header length ${headerLength} exceeds maxHeaderBytes ${maxHeaderBytes}`,
    );
  }
  if (headerLength > input.length - 8) {
    throw new SafetensorsError(
      'SAFETENSORS_TRUNCATED',
      `header length ${headerLength} exceeds the ${input.length - 8} bytes after the length prefix`,
    );
  }
  const dataStart = 8 + headerLength;
  const dataLength = input.length - dataStart;

  if (headerLength === 0 || input[8] !== 0x7b /* { */) {
    throw new SafetensorsError('SAFETENSORS_HEADER', 'header must be a JSON object starting with "{"');
  }
  let headerBytes = input.subarray(8, dataStart);
  if (objectTag(headerBytes.buffer) !== '[object ArrayBuffer]') headerBytes = headerBytes.slice(); // TextDecoder rejects shared memory
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('SAFETENSORS_HEADER', 'header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? `: ${e.message}` : '';
    throw new SafetensorsError('SAFETENSORS_HEADER', `header is not valid JSON${detail}`);
  }
  if (!isPlainObject(header)) {
    throw new SafetensorsError('SAFETENSORS_HEADER', `header must be a JSON object, got ${typeOf(header)}`);
  }
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined) {
    if (duplicate.entry === undefined) {
      throw new SafetensorsError(
        'SAFETENSORS_DUPLICATE',
        duplicate.key === METADATA_KEY
          ? 'header has two __metadata__ entries'
          : `tensor ${q(duplicate.key)} appears more than once in the header`,
        duplicate.key === METADATA_KEY ? undefined : duplicate.key,
      );
    }
    const inMetadata = duplicate.entry === METADATA_KEY;
    throw new SafetensorsError(
      'SAFETENSORS_DUPLICATE',
      inMetadata
        ? `__metadata__ has key ${q(duplicate.key)} more than once`
        : `tensor ${q(duplicate.entry)}: key ${q(duplicate.key)} appears more than once`,
      inMetadata ? undefined : duplicate.entry,
    );
  }

  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  let totalOutputBytes = 0;
  for (const name of Object.keys(header)) {
    if (name === METADATA_KEY) {
      metadata = validateMetadata(header[name]);
      continue;
    }
    if (!isWellFormed(name)) {
      throw new SafetensorsError('SAFETENSORS_HEADER', `tensor name ${q(name)} contains an unpaired surrogate`, name);
    }
    const entry = validateEntry(name, header[name], dataLength);
    entries.push(entry);
    totalOutputBytes += entry.numel * 4; // each numel <= dataLength, so the sum stays exact
  }

  // The ranges, sorted, must tile [0, dataLength) exactly.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  let previous: Entry | undefined;
  for (const entry of entries) {
    if (entry.begin < position) {
      throw new SafetensorsError(
        'SAFETENSORS_OFFSETS',
        `tensor ${q(entry.name)}: data_offsets [${entry.begin}, ${entry.end}] overlap tensor ` +
          `${q(previous?.name ?? '')} which ends at ${position}`,
        entry.name,
      );
    }
    if (entry.begin > position) {
      throw new SafetensorsError(
        'SAFETENSORS_OFFSETS',
        `tensor ${q(entry.name)}: data_offsets begin ${entry.begin}, expected ${position} ` +
          `(a hole of ${entry.begin - position} bytes${previous ? ` after tensor ${q(previous.name)}` : ''})`,
        entry.name,
      );
    }
    position = entry.end;
    previous = entry;
  }
  if (position !== dataLength) {
    throw new SafetensorsError(
      'SAFETENSORS_OFFSETS',
      previous
        ? `data section is ${dataLength} bytes but the last tensor ${q(previous.name)} ends at ${position}`
        : `data section is ${dataLength} bytes but the header lists no tensor`,
      previous?.name,
    );
  }
  if (totalOutputBytes > maxTotalBytes) {
    throw new SafetensorsError(
      'SAFETENSORS_LIMIT',
      `decoded tensors need ${totalOutputBytes} bytes, more than maxTotalBytes ${maxTotalBytes}`,
    );
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries) {
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data: decode(input, dataStart, entry, share) });
  }
  return { tensors, metadata };
}

/** Orders strings by Unicode code points, i.e. by their UTF-8 bytes (as the reference writer). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (D800-DFFF) encode code points above every BMP unit.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * Serialises tensors to the safetensors format, byte-for-byte as the reference
 * writer lays out a single-dtype file: tensors sorted by name and packed
 * contiguously, `__metadata__` first in the compact JSON header, and the header
 * padded with spaces so that the data section starts 8-byte aligned (so every
 * tensor is aligned to its element size).
 *
 * @param tensors - tensors by name, as a record or a map.
 * @param options - metadata and stored dtype; see {@link WriteSafetensorsOptions}.
 * @returns the file bytes.
 * @throws {@link SafetensorsError} when a shape is invalid or does not match
 *   the data length (`SAFETENSORS_SHAPE`), the dtype is not F32/F64
 *   (`SAFETENSORS_DTYPE`), or a name, data or metadata value is not acceptable
 *   (`SAFETENSORS_INPUT`).
 */
export function writeSafetensors(
  tensors: Record<string, SafetensorsInputTensor> | Map<string, SafetensorsInputTensor>,
  options?: WriteSafetensorsOptions,
): Uint8Array {
  const dtype: unknown = options?.dtype ?? 'F32';
  if (dtype !== 'F32' && dtype !== 'F64') {
    throw new SafetensorsError('SAFETENSORS_DTYPE', `dtype must be "F32" or "F64", got ${show(dtype)}`);
  }
  const size = dtype === 'F64' ? 8 : 4;

  if (typeof tensors !== 'object' || tensors === null) {
    throw new SafetensorsError('SAFETENSORS_INPUT', `tensors must be a record or a Map, got ${typeOf(tensors)}`);
  }
  const list: [string, SafetensorsInputTensor][] =
    tensors instanceof Map ? [...tensors.entries()] : Object.keys(tensors).map((k) => [k, tensors[k]!]);
  for (const [name] of list) {
    if (typeof name !== 'string') {
      throw new SafetensorsError('SAFETENSORS_INPUT', `tensor names must be strings, got ${typeOf(name)}`);
    }
  }
  list.sort((a, b) => compareCodePoints(a[0], b[0]));

  const parts: string[] = [];
  const metadata = options?.metadata;
  if (metadata !== undefined) {
    if (!isPlainObject(metadata)) {
      throw new SafetensorsError('SAFETENSORS_INPUT', `metadata must be an object of strings, got ${typeOf(metadata)}`);
    }
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const fields: string[] = [];
    for (const key of keys) {
      const value: unknown = metadata[key];
      if (typeof value !== 'string') {
        throw new SafetensorsError(
          'SAFETENSORS_INPUT',
          `metadata value of ${q(key)} must be a string, got ${typeOf(value)}`,
        );
      }
      if (!isWellFormed(key) || !isWellFormed(value)) {
        throw new SafetensorsError('SAFETENSORS_INPUT', `metadata entry ${q(key)} contains an unpaired surrogate`);
      }
      fields.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`"${METADATA_KEY}":{${fields.join(',')}}`);
  }

  const arrays: (Float32Array | Float64Array)[] = [];
  let offset = 0;
  for (const [name, tensor] of list) {
    if (name === METADATA_KEY) {
      throw new SafetensorsError('SAFETENSORS_INPUT', `tensor name "${METADATA_KEY}" is reserved`, name);
    }
    if (!isWellFormed(name)) {
      throw new SafetensorsError('SAFETENSORS_INPUT', `tensor name ${q(name)} contains an unpaired surrogate`, name);
    }
    const data: unknown = isPlainObject(tensor) ? tensor['data'] : undefined;
    const tag = objectTag(data);
    if (tag !== '[object Float32Array]' && tag !== '[object Float64Array]') {
      throw new SafetensorsError(
        'SAFETENSORS_INPUT',
        `tensor ${q(name)}: data must be a Float32Array or Float64Array, got ${tag.slice(8, -1)}`,
        name,
      );
    }
    const shape: unknown = isPlainObject(tensor) ? tensor['shape'] : undefined;
    if (!Array.isArray(shape)) {
      throw new SafetensorsError('SAFETENSORS_SHAPE', `tensor ${q(name)}: shape must be an array, got ${typeOf(shape)}`, name);
    }
    let numel = 1;
    for (let d = 0; d < shape.length; d++) {
      const dim: unknown = shape[d];
      if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
        throw new SafetensorsError(
          'SAFETENSORS_SHAPE',
          `tensor ${q(name)}: shape[${d}] must be a non-negative safe integer, got ${show(dim)}`,
          name,
        );
      }
      numel = dim === 0 || numel === 0 ? 0 : numel * dim; // products beyond 2^53 never equal a length
    }
    const array = data as Float32Array | Float64Array;
    const length = array.length;
    if (numel !== length) {
      throw new SafetensorsError(
        'SAFETENSORS_SHAPE',
        `tensor ${q(name)}: shape ${show(shape)} has ${numel} elements but data has ${length}`,
        name,
      );
    }
    const dims = (shape as number[]).map((dim) => (dim === 0 ? 0 : dim)).join(',');
    const end = offset + numel * size;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${dtype}","shape":[${dims}],"data_offsets":[${offset},${end}]}`);
    arrays.push(array);
    offset = end;
  }

  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8);
  const dataStart = 8 + headerLength;
  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 0x1_0000_0000, true);
  view.setUint32(4, Math.floor(headerLength / 0x1_0000_0000), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, dataStart);

  // dataStart is a multiple of 8 and every tensor spans a multiple of `size` bytes,
  // so each tensor is aligned for a typed-array view of `out`.
  let position = dataStart;
  for (const data of arrays) {
    const byteLength = data.length * size;
    if (data.BYTES_PER_ELEMENT === size) {
      // Same element type: a byte copy keeps every bit, NaN payloads included.
      out.set(new Uint8Array(data.buffer, data.byteOffset, byteLength), position);
    } else if (size === 4) {
      new Float32Array(out.buffer, position, data.length).set(data); // rounds to nearest, ties to even
    } else {
      new Float64Array(out.buffer, position, data.length).set(data); // exact widening
    }
    if (!LITTLE_ENDIAN_HOST) swapWords(out.subarray(position, position + byteLength), size);
    position += byteLength;
  }
  return out;
}
