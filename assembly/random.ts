// Seeded uniform draws for weight initialisation, in the module so that a new model's weights are drawn by
// compiled code: the same loop in JavaScript runs in the interpreter on a cold start (34-43 ms of the first
// LSTM hidden-256 result, measured by bench/cold-start).
//
// The generator is xoshiro128** (Blackman and Vigna, 2018), the one src/nn/random.ts implements, on the same
// 128-bit state, and each value is lo + (hi - lo) * (u / 2^32) in f64 rounded once to f32, exactly as
// Random.uniform followed by a Float32Array store: draws here are bit-identical to that class's.

/**
 * dst[i] = f32(lo + (hi - lo) * (u_i / 2^32)) for i < n, u_i the next outputs of the xoshiro128** state at
 * `state` (four u32: s0, s1, s2, s3), which is advanced in place.
 */
export function uniform_fill(dst: usize, n: i32, lo: f64, hi: f64, state: usize): void {
  let s0 = load<u32>(state), s1 = load<u32>(state, 4), s2 = load<u32>(state, 8), s3 = load<u32>(state, 12);
  const w = hi - lo;
  for (let i = 0; i < n; i++) {
    const u = rotl<u32>(s1 * 5, 7) * 9;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl<u32>(s3, 11);
    store<f32>(dst + (<usize>i << 2), <f32>(lo + w * (<f64>u / 4294967296.0)));
  }
  store<u32>(state, s0); store<u32>(state, s1, 4); store<u32>(state, s2, 8); store<u32>(state, s3, 12);
}
