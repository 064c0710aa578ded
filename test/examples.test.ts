// The runnable examples in examples/, run as a user would (they import ../dist/index.js: `npm test` builds first;
// run `npm run build` before running this file on its own).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

  it('hmm-emulation.mjs: exact filter/sampler emulation and the held-out HMM-vs-GRU table', () => {
    expect(existsSync(`${root}dist/index.js`), 'run `npm run build` first').toBe(true);
    const r = spawnSync(process.execPath, ['examples/hmm-emulation.mjs'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    const num = (re: RegExp): number => {
      const m = out.match(re);
      expect(m, `${re} in\n${out}`).not.toBeNull();
      return Number(m![1]);
    };
    expect(num(/max \|filtering RNN - forward algorithm\|\s+(\S+)/)).toBeLessThan(1e-12);
    expect(num(/max \|log-space filtering RNN - forward\|\s+(\S+)/)).toBeLessThan(1e-12);
    expect(num(/\|difference of the log-likelihoods\|\s+(\S+)/)).toBeLessThan(1e-9);
    expect(out).toMatch(/sampling agreement, states \(sampling RNN\)\s+10000\/10000/);
    expect(out).toMatch(/sampling agreement, symbols \(sampling RNN\)\s+10000\/10000/);
    const trueHmm = num(/true HMM\s+(-\d+\.\d+)/);
    const bw = num(/Baum-Welch HMM \(\d+ it\.\)\s+(-\d+\.\d+)/);
    const gru = num(/GRU 16 \+ Linear \(fit, 12 ep\.\)\s+(-\d+\.\d+)/);
    const uni = num(/unigram\s+(-\d+\.\d+)/);
    expect(trueHmm).toBeCloseTo(-1.1547, 3);
    expect(Math.abs(bw - trueHmm)).toBeLessThan(0.01);
    expect(trueHmm - gru).toBeLessThan(0.02);
    expect(bw - uni).toBeGreaterThan(0.15);
    expect(gru - uni).toBeGreaterThan(0.15);
    expect(num(/done in (\d+\.\d) s/)).toBeLessThan(30);
  });
});
