/** Helpers shared by the benchmarks: seeded random data, timing statistics, machine description, tables. */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { round } from './peak-lib.js';

/** The repository root (this file is bundled into bench/.build/, two levels below it). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS = path.join(ROOT, 'bench', 'results');

/** mulberry32: a small seeded generator, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n floats uniform in [-1, 1). */
export function randomData(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * r() - 1;
  return a;
}

export interface Stats {
  /** Median, ms. */
  median: number;
  min: number;
  max: number;
  /** Runs timed. */
  runs: number;
}

export function stats(times: number[]): Stats {
  const s = [...times].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 ? s[(n - 1) >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return { median, min: s[0]!, max: s[n - 1]!, runs: n };
}

/** Where and when the figures were taken. */
export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${process.platform}-${process.arch}`,
    // Other processes compete for the 2 cores of this kind of machine: keep the load in the record.
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** A plain-text table with right-aligned numeric columns. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, j) => Math.max(...cells.map((r) => r[j]!.length)));
  const line = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(w[j]!) : c.padStart(w[j]!))).join('  ');
  return [line(cells[0]!), w.map((n) => '-'.repeat(n)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function writeJson(name: string, value: unknown): string {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, name);
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 100) return x.toFixed(Math.max(0, digits - 2));
  if (Math.abs(x) >= 10) return x.toFixed(Math.max(0, digits - 1));
  return x.toFixed(digits);
}

/** Timing statistics with the GFLOP/s of the median. */
export interface Timing extends Stats {
  gflops: number;
}

/** Rounds the statistics of a timing and adds its GFLOP/s for `flops` floating-point operations. */
export function timing(s: Stats, flops: number): Timing {
  return {
    median: round(s.median, 4), min: round(s.min, 4), max: round(s.max, 4), runs: s.runs,
    gflops: round(flops / s.median / 1e6, 3),
  };
}

/** max |a - b| over two arrays of the same length (Infinity when the lengths differ, NaN on a NaN). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
  }
  return m;
}

/** max |a - b| / max |b| (b the baseline). */
export function relDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return NaN;
    if (d > m) m = d;
    s = Math.max(s, Math.abs(b[i]!));
  }
  return s > 0 ? m / s : m;
}

/**
 * The loss of both implementations (same code): L = mean((out - target)^2) over every output element; writes
 * dL/d(out) into grad and returns L.
 */
export function mseGrad(out: Float32Array, target: Float32Array, grad: Float32Array): number {
  const n = out.length;
  const s = 2 / n;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const d = out[i]! - target[i]!;
    loss += d * d;
    grad[i] = s * d;
  }
  return loss / n;
}
