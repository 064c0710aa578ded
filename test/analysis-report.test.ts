// The analysis report (src/analysis/report.ts), its SVG plots, the `rnn-wasm analyze` command, and the Lyapunov
// certificate checked along trajectories of the nonlinear net (src/analysis/lyapunov-trajectories.ts).
//
// References: the SciPy fixed points of the 2-unit tanh net fp_2u (test/fixtures/gen_analysis_dynamics.py), the
// closed-form eigenvalues of its 2 x 2 recurrent matrix, and exact identities of the linear case.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ShapeError } from '../src/errors.js';
import { LSTM, Linear, RNN, SequenceModel, init, saveModel } from '../src/index.js';
import {
  analyzeModel, formatReport, linePlot, lyapunovAlongTrajectories, renderReportHtml, rnnCellMap, scatterPlot,
  solveDiscreteLyapunov,
} from '../src/analysis/index.js';
import { fixturesDir } from './helpers.js';

interface FpNet {
  name: string; weightHh: number[][]; weightIh: number[][]; biasIh: number[]; biasHh: number[]; input: number[];
  fixedPoints: { state: number[]; spectralRadius: number; stability: string }[];
}
const fp2 = (JSON.parse(readFileSync(`${fixturesDir}analysis/dynamics_fixed_points.json`, 'utf8')) as { nets: FpNet[] })
  .nets.find((n) => n.name === 'fp_2u')!;

beforeAll(async () => {
  await init();
});

function fp2Model(): RNN {
  const rnn = new RNN({ inputSize: 1, hiddenSize: 2 });
  rnn.loadStateDict({
    weight_ih_l0: { shape: [2, 1], data: fp2.weightIh.flat() },
    weight_hh_l0: { shape: [2, 2], data: fp2.weightHh.flat() },
    bias_ih_l0: { shape: [2], data: fp2.biasIh },
    bias_hh_l0: { shape: [2], data: fp2.biasHh },
  });
  return rnn;
}

const sortStates = (s: number[][]): number[][] => [...s].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);

describe('analyzeModel', () => {
  it('finds the SciPy fixed points of fp_2u with their stability, and the closed-form spectrum of W_hh', () => {
    const rnn = fp2Model();
    const r = analyzeModel(rnn, { fixedPointStarts: 64, steps: 40 });
    const got = sortStates(r.fixedPoints.map((f) => Array.from(f.state)));
    const want = sortStates(fp2.fixedPoints.map((f) => f.state));
    expect(got.length).toBe(want.length);
    for (let i = 0; i < want.length; i++) {
      for (let j = 0; j < 2; j++) expect(Math.abs(got[i]![j]! - want[i]![j]!)).toBeLessThan(1e-9);
    }
    const stab = (s: number[]): string => fp2.fixedPoints.find((f) => Math.hypot(f.state[0]! - s[0]!, f.state[1]! - s[1]!) < 1e-9)!.stability;
    for (const f of r.fixedPoints) expect(f.stability).toBe(stab(Array.from(f.state)));
    // Eigenvalues of [[a, b], [c, d]]: tr/2 +- sqrt(tr^2/4 - det).
    const [[a, b], [c, d]] = fp2.weightHh as [[number, number], [number, number]];
    const tr = a + d, det = a * d - b * c, disc = (tr * tr) / 4 - det;
    const rho = disc >= 0 ? Math.max(Math.abs(tr / 2 + Math.sqrt(disc)), Math.abs(tr / 2 - Math.sqrt(disc))) : Math.sqrt(det);
    expect(r.weights).toHaveLength(1);
    expect(r.weights[0]!.name).toBe('W_hh');
    expect(Math.abs(r.weights[0]!.spectrum.spectralRadius - rho) / rho).toBeLessThan(1e-12);
    // The linearization is taken at the first stable point; its Jacobian radius is the fixture's.
    expect(r.linearization.at).toMatch(/^fixed point \d+$/);
    const lin = Array.from(r.linearization.state);
    const ref = fp2.fixedPoints.find((f) => Math.hypot(f.state[0]! - lin[0]!, f.state[1]! - lin[1]!) < 1e-9)!;
    expect(ref.stability).toBe('stable');
    expect(Math.abs(r.linearization.spectrum.spectralRadius - ref.spectralRadius)).toBeLessThan(1e-9);
    expect(r.linearization.lyapunov.certified).toBe(true);
    expect(r.linearization.controllability).toEqual({ rank: 2, n: 2, tolerance: expect.any(Number), method: 'staircase' });
    expect(r.linearization.observability).toEqual({ rank: 2, n: 2, tolerance: expect.any(Number), method: 'staircase' });
    expect(r.gradientFlow.norms).toHaveLength(40);
    expect(r.timeConstants).toBeNull();
    rnn.dispose();
  });

  it('reads the head as the readout of a sequence model', () => {
    const rnn = fp2Model();
    const head = new Linear({ inFeatures: 2, outFeatures: 1, seed: 3 });
    head.loadStateDict({ weight: { shape: [1, 2], data: [1, 0] }, bias: { shape: [1], data: [0] } });
    const m = new SequenceModel({ rnn, head });
    const r = analyzeModel(m, { steps: 20 });
    expect(r.model.readout).toBe('head');
    // C = [1, 0] with A the Jacobian at the fixed point: the observability rank is that of [C; CA].
    expect(r.linearization.observability.rank).toBe(2);
    expect(r.linearization.frequency.outputs).toBe(1);
    m.dispose();
  });

  it('reports an LSTM with its four gate blocks, state (h, c) and forget-gate time constants', () => {
    const lstm = new LSTM({ inputSize: 2, hiddenSize: 3, seed: 11 });
    const r = analyzeModel(lstm, { steps: 30, fixedPointStarts: 16 });
    expect(r.weights.map((w) => w.name)).toEqual(['W_hi', 'W_hf', 'W_hg', 'W_ho']);
    expect(r.model.stateSize).toBe(6);
    expect(r.linearization.state).toHaveLength(6);
    expect(r.timeConstants).toHaveLength(3);
    for (const t of r.timeConstants!) {
      expect(t.meanForget).toBeGreaterThan(0);
      expect(t.meanForget).toBeLessThan(1);
      expect(Math.abs(t.tau - -1 / Math.log(t.meanForget)) / t.tau).toBeLessThan(1e-12);
    }
    expect(formatReport(r)).toContain('Forget-gate time constants');
    lstm.dispose();
  });

  it('rejects an input of the wrong width, naming the option', () => {
    const rnn = fp2Model();
    expect(() => analyzeModel(rnn, { input: [[1, 2]] })).toThrow(/options\.input/);
    rnn.dispose();
  });
});

describe('report output', () => {
  it('formats text and a self-contained HTML page with one SVG per plot', () => {
    const rnn = fp2Model();
    const r = analyzeModel(rnn, { steps: 30 });
    const text = formatReport(r);
    expect(text).toContain(`Fixed points (zero input): ${fp2.fixedPoints.length}`);
    expect(text).toMatch(/Gradient flow over 30 steps: (vanishing|exploding|stable)/);
    const html = renderReportHtml(r);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(5);
    expect(html.match(/<\/svg>/g)).toHaveLength(5);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // The eigenvalue plot has one marker per eigenvalue of W_hh (2), the fixed-point plot one per point.
    const svgs = html.split('<svg ').slice(1);
    expect(svgs[0]!.match(/class="pt"/g)).toHaveLength(2);
    expect(svgs[4]!.match(/class="pt"/g)).toHaveLength(fp2.fixedPoints.length);
    rnn.dispose();
  });

  it('plots skip non-finite and non-positive (log axis) values and escape text', () => {
    const svg = linePlot([{ name: 'a<b', x: [0, 1, 2, 3], y: [1, NaN, 0, 10] }], { title: 'T & U', logY: true });
    const d = /<path d="([^"]+)"/.exec(svg)![1]!;
    expect(d.match(/M/g)).toHaveLength(2); // the line restarts after the NaN and the zero
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('T &amp; U');
    const sc = scatterPlot([{ x: 0.5, y: -0.5 }], { title: 'e', unitCircle: true });
    expect(sc.match(/<circle /g)).toHaveLength(2); // unit circle + the point
  });
});

describe('lyapunovAlongTrajectories', () => {
  it('linear map: V(s_t) - V(s_{t+1}) = |s_t|_Q^2 exactly along every trajectory', () => {
    const A = [[0.5, 0.4], [-0.3, 0.6]];
    const cell = rnnCellMap({ weightHh: A, weightIh: [[0], [0]], nonlinearity: 'identity' });
    const Q = [[2, 0.5], [0.5, 1]];
    const r = lyapunovAlongTrajectories(cell, { center: [0, 0], Q, radius: 1, steps: 12, trajectories: 5, seed: 7 });
    expect(r.certified).toBe(true);
    expect(r.allDecreasing).toBe(true);
    expect(r.P).toEqual(solveDiscreteLyapunov(A, Q));
    // The identity itself, through the cell map, from one start:
    let s = [0.3, -0.8];
    const P = r.P;
    const V = (v: number[]): number => v[0]! * (P[0]![0]! * v[0]! + P[0]![1]! * v[1]!) + v[1]! * (P[1]![0]! * v[0]! + P[1]![1]! * v[1]!);
    for (let t = 0; t < 10; t++) {
      const next = Array.from(cell.step(Float64Array.from(s), new Float64Array(1)));
      const q = s[0]! * (Q[0]![0]! * s[0]! + Q[0]![1]! * s[1]!) + s[1]! * (Q[1]![0]! * s[0]! + Q[1]![1]! * s[1]!);
      expect(Math.abs(V(s) - V(next) - q)).toBeLessThan(1e-12 * Math.max(1, V(s)));
      s = next;
    }
  });

  it('tanh net with two stable points: V decreases near h*, not from starts in the other basin', () => {
    // h = tanh(2 h): stable points at +-0.9575, unstable origin.
    const cell = rnnCellMap({ weightHh: [[2]], weightIh: [[0]], nonlinearity: 'tanh' });
    let hStar = 1;
    for (let i = 0; i < 200; i++) hStar = Math.tanh(2 * hStar); // contraction factor 0.17 near the root
    expect(Math.abs(Math.tanh(2 * hStar) - hStar)).toBeLessThan(1e-15);
    const near = lyapunovAlongTrajectories(cell, { center: [hStar], radius: 0.05, trajectories: 8 });
    expect(near.certified).toBe(true);
    expect(near.allDecreasing).toBe(true);
    expect(near.finalRatio).toBeLessThan(1e-6);
    // Radius 1.5: the starts below 0 go to -h*, where V = P (h + h*)^2... grows.
    const far = lyapunovAlongTrajectories(cell, { center: [hStar], radius: 1.5, trajectories: 8 });
    expect(far.allDecreasing).toBe(false);
    expect(far.maxRatio).toBeGreaterThan(1);
    // Scalar P = 1 / (1 - a^2) with a = 2 (1 - h*^2).
    const a = 2 * (1 - hStar * hStar);
    expect(Math.abs(near.P[0]![0]! - 1 / (1 - a * a))).toBeLessThan(1e-12);
  });

  it('rejects a center of the wrong length', () => {
    const cell = rnnCellMap({ weightHh: [[0.5, 0], [0, 0.5]], weightIh: [[0], [0]], nonlinearity: 'tanh' });
    expect(() => lyapunovAlongTrajectories(cell, { center: [0] })).toThrow(ShapeError);
    expect(() => lyapunovAlongTrajectories(cell, { center: [0] })).toThrow(/options\.center/);
  });
});

describe('rnn-wasm analyze', () => {
  const cli = join(__dirname, '..', 'dist', 'cli', 'main.js');

  it('prints the report and writes HTML and JSON for a saved model file', () => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first (npm test does)`);
    const dir = mkdtempSync(join(tmpdir(), 'rnn-analyze-'));
    const rnn = fp2Model();
    writeFileSync(join(dir, 'm.safetensors'), saveModel(rnn));
    rnn.dispose();
    const out = execFileSync(process.execPath, [cli, 'analyze', join(dir, 'm.safetensors'), '--html', join(dir, 'r.html'),
      '--json', join(dir, 'r.json'), '--steps', '25'], { encoding: 'utf8' });
    expect(out).toContain(`Fixed points (zero input): ${fp2.fixedPoints.length}`);
    expect(out).toContain('Gradient flow over 25 steps');
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(5);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { fixedPoints: unknown[] };
    expect(json.fixedPoints).toHaveLength(fp2.fixedPoints.length);
  });

  it('fails clearly on bad arguments', () => {
    const bad = spawnSync(process.execPath, [cli, 'analyze', '--layer', 'x'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--layer');
    const missing = spawnSync(process.execPath, [cli, 'analyze', '/nonexistent/model.safetensors'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT|no such file/);
  });
});
