// The runnable examples in examples/: each is spawned with node on the built package (dist/), must exit 0 and
// print the numbers it claims.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('examples', () => {
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
