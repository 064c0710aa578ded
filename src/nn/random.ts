/**
 * Seeded pseudo-random numbers for weight initialisation and shuffling.
 *
 * xoshiro128** (Blackman and Vigna, 2018) seeded through splitmix32: fast, 128-bit state, good statistical
 * quality, and identical on every JavaScript engine because it uses only 32-bit integer arithmetic.
 * @module
 */
import type { Engine } from '../runtime/engine.js';
import { InvalidArgumentError } from '../errors.js';

/** A seeded generator of uniform numbers. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any integer; the same seed gives the same sequence everywhere. */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed)) {
      throw new InvalidArgumentError('seed', `expected a finite number, got ${String(seed)}`);
    }
    let x = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    return result;
  }

  /** The 128-bit state as four uint32 (s0..s3), e.g. to continue this stream in the module's uniform_fill. */
  getState(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Replaces the state (four uint32, as {@link getState} returns; not all zero). */
  setState(s: readonly [number, number, number, number]): void {
    this.s0 = s[0] >>> 0;
    this.s1 = s[1] >>> 0;
    this.s2 = s[2] >>> 0;
    this.s3 = s[3] >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Draws n values uniform in [lo, hi) into WebAssembly memory at byte offset `ptr` with the module's
 * `uniform_fill`, continuing `rng`'s stream: bit-identical to n calls of `rng.uniform(lo, hi)` stored in a
 * Float32Array, but run by compiled code (a model's default initialisation on a cold start).
 */
export function fillUniform(engine: Engine, rng: Random, ptr: number, n: number, lo: number, hi: number): void {
  const st = engine.alloc(16);
  try {
    engine.i32().set(rng.getState(), st / 4); // uint32 bits through an Int32Array view (setState takes >>> 0)
    engine.k.uniform_fill(ptr, n, lo, hi, st);
    const v = engine.i32();
    rng.setState([v[st / 4]!, v[st / 4 + 1]!, v[st / 4 + 2]!, v[st / 4 + 3]!]);
  } finally {
    engine.release(st);
  }
}
