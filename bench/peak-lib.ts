/** Measures the WebAssembly SIMD multiply-add peak with the kernels of assembly/peak.ts. */
import fs from 'node:fs';

export type Flavour = 'simd' | 'relaxed';

export interface PeakVariant {
  name: string;
  description: string;
  /** A diagnostic, not a candidate for the peak. */
  probe: boolean;
  /** One of the kernels' register tiles alone (the tile ceiling), not a candidate for the peak. */
  tile: boolean;
  /** Multiply-adds (f32x4) per loop iteration. */
  maddsPerIter: number;
  iterations: number;
  runs: number;
  msMedian: number;
  msMin: number;
  /** From the fastest run: a peak is a ceiling, and other load on the machine only ever slows a run down. */
  gflops: number;
  /** From the median run. */
  gflopsMedian: number;
}

export interface PeakResult {
  flavour: Flavour;
  /** The best variant's GFLOP/s (fastest of its runs): the figure kernels are compared against. */
  gflops: number;
  best: string;
  /**
   * The tile ceiling: the fastest run of the kernels' register-tile loops alone over an L1-resident panel
   * (assembly/peak.ts' peak_tile*), what V8's code for their inner loop reaches here, and the variant.
   */
  tile: { gflops: number; best: string; fractionOfPeak: number };
  variants: PeakVariant[];
}

const VARIANTS: { name: string; fn: string; madds: number; description: string; probe?: boolean; tile?: boolean;
  only?: Flavour }[] = [
  { name: 'chain12', fn: 'peak_chain', madds: 12,
    description: '12 independent accumulators in registers, acc = acc * m + c (no memory access)' },
  { name: 'load8', fn: 'peak_load8', madds: 8,
    description: '8 accumulators, acc += load(L1) * s: the shape of a GEMM inner loop, 128 bytes re-read' },
  { name: 'chain6', fn: 'peak_chain6', madds: 6, probe: true,
    description: 'latency probe: as chain12 with 6 accumulators (chain12 well under 2x this = throughput-bound)' },
  { name: 'tile2x16', fn: 'peak_tile2x16', madds: 8, tile: true,
    description: "panel16's 2 x 16 register tile alone (K = 256, panel in L1): 8 accumulators, 6 loads per k" },
  { name: 'tile3x12', fn: 'peak_tile3x12', madds: 9, tile: true, only: 'relaxed',
    description: "panel12's relaxed 3 x 12 register tile alone (K = 256, panel in L1): 9 accumulators, 6 loads per k" },
];

/** The tile kernels run whole K = 256 passes: iteration counts are rounded up to a multiple of this. */
const TILE_K = 256;

type PeakFn = (n: number, seed: number, p: number) => number;

/** Runs every variant: warm-up with short calls (V8 tiers up on a later call), then the median of `runs`. */
export async function measurePeak(wasmFile: string, flavour: Flavour, runs = 21, targetMs = 10):
    Promise<PeakResult> {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile));
  const ex = instance.exports as Record<string, unknown>;
  const variants: PeakVariant[] = [];
  let sink = 0;
  for (const v of VARIANTS) {
    if (v.only && v.only !== flavour) continue;
    const f = ex[v.fn] as PeakFn;
    for (let i = 0; i < 10; i++) sink += f(20_000, 1 + i * 1e-3, 1024);
    // Calibrate the iteration count to about targetMs per call.
    let n = 100_000;
    for (;;) {
      const t0 = performance.now();
      sink += f(n, 1.5, 1024);
      const ms = performance.now() - t0;
      if (ms >= targetMs / 4 || n > 1e9) {
        n = Math.max(1000, Math.round((n * targetMs) / Math.max(ms, 1e-3)));
        break;
      }
      n *= 4;
    }
    if (v.tile) n = Math.ceil(n / TILE_K) * TILE_K;
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      sink += f(n, 1.5 + r * 1e-3, 1024);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[times.length >> 1]!;
    const best = times[0]!;
    variants.push({
      name: v.name, description: v.description, probe: !!v.probe, tile: !!v.tile, maddsPerIter: v.madds,
      iterations: n, runs,
      msMedian: round(ms, 3), msMin: round(best, 3), gflops: round((n * v.madds * 8) / best / 1e6, 2),
      gflopsMedian: round((n * v.madds * 8) / ms / 1e6, 2),
    });
  }
  if (!Number.isFinite(sink)) throw new Error('peak kernels returned a non-finite sum');
  const best = variants.filter((v) => !v.probe && !v.tile).reduce((a, b) => (b.gflops > a.gflops ? b : a));
  const tile = variants.filter((v) => v.tile).reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return { flavour, gflops: best.gflops, best: best.name,
    tile: { gflops: tile.gflops, best: tile.name, fractionOfPeak: round(tile.gflops / best.gflops, 4) }, variants };
}

export function round(x: number, d: number): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

/** Does this runtime validate relaxed SIMD (the probe of wasm-feature-detect)? */
export function hasRelaxedSimd(): boolean {
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1, 253, 15, 65, 2, 253,
    15, 253, 128, 2, 11,
  ]);
  try {
    return WebAssembly.validate(probe);
  } catch {
    return false;
  }
}

/**
 * A short peak probe (chain12, about `ms` per call) to run between timed calls of a workload: the neighbours on
 * a shared machine slow SIMD code down by as much as 2x at times, so a fraction of a peak measured in the same
 * interval is steadier than one against a peak measured minutes earlier. Returns a function giving GFLOP/s.
 */
export async function makeProbe(wasmFile: string, ms = 1): Promise<() => number> {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmFile));
  const f = (instance.exports as Record<string, unknown>).peak_chain as PeakFn;
  let sink = 0;
  for (let i = 0; i < 10; i++) sink += f(20_000, 1, 1024);
  let n = 20_000;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    sink += f(n, 1, 1024);
    const dt = performance.now() - t0;
    n = Math.max(1000, Math.round((n * ms) / Math.max(dt, 1e-3)));
  }
  if (!Number.isFinite(sink)) throw new Error('probe returned a non-finite sum');
  return () => {
    const t0 = performance.now();
    const r = f(n, 1, 1024);
    const dt = performance.now() - t0;
    if (!Number.isFinite(r)) throw new Error('probe returned a non-finite sum');
    return (n * 12 * 8) / dt / 1e6;
  };
}
