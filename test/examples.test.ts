// The runnable examples in examples/, run as a user would (they import ../dist/index.js: `npm test` builds first;
// run `npm run build` before running this file on its own).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = (script: string): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('examples', () => {
  it('varma-equivalence.mjs: ARMAX equals the state-space outputs; characteristic polynomial; ARX fit', () => {
    const r = run('examples/varma-equivalence.mjs');
    expect(r.status, r.stderr).toBe(0);
    const diff = Number(/max \|difference\| over t = 1\.\.12: (\S+)/.exec(r.stdout)?.[1]);
    expect(diff).toBeLessThan(1e-12);
    // det(zI - W_hh) = z^3 - 0.7 z^2 - 0.105 z + 0.1565
    expect(r.stdout).toContain('characteristic polynomial det(zI - A) = [1.00000, -0.700000, -0.105000, 0.156500]');
    expect(r.stdout).toContain('G_0 = [ 0.90000,  0.70000]');
    const tfErr = Number(/max \|H_fit - H_true\| \/ max \|H_true\| at these frequencies: (\S+)/.exec(r.stdout)?.[1]);
    expect(tfErr).toBeLessThan(0.1);
  });

  it('kalman-vs-birnn.mjs: smoother < filter, bidirectional < unidirectional GRU, EM log-likelihood non-decreasing', () => {
    const r = run('examples/kalman-vs-birnn.mjs');
    expect(r.status, r.stderr).toBe(0);
    const mse = (label: string): number => Number(new RegExp(`\\| ${label}\\s*\\| (\\S+) \\|`).exec(r.stdout)?.[1]);
    const filter = mse('Kalman filter \\(causal\\)'), smoother = mse('RTS smoother \\(non-causal\\)');
    const uni = mse('GRU, unidirectional'), bi = mse('GRU, bidirectional');
    for (const v of [filter, smoother, uni, bi]) expect(v).toBeGreaterThan(0);
    expect(smoother).toBeLessThan(filter);
    expect(bi).toBeLessThan(uni);
    expect(bi).toBeLessThan(filter);
    expect(uni).toBeLessThan(1.15 * filter);
    expect(r.stdout).toContain('order: smoother < filter: true; bidirectional < unidirectional: true');
    expect(r.stdout).toContain('non-decreasing true');
  });
});
