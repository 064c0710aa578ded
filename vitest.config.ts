import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // --expose-gc: the finalizer test forces collection. The relaxed-SIMD flag lets the suite run both builds
    // on node 20 (newer runtimes have relaxed SIMD on by default).
    execArgv: ['--expose-gc', '--experimental-wasm-relaxed-simd'],
  },
});
