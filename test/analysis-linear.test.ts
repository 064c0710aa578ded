// Linear analysis (spectra, Lyapunov, control, frequency response) against NumPy / SciPy references written by
// test/fixtures/gen_analysis_linear.py (float64 throughout; see test/fixtures/README.md).
//
// Tolerance: 1e-8 relative in the max norm (max |ours - ref| / max |ref| over a whole array) for everything
// computed in float64; the measured errors are printed at the end and are ~1e-13 or better. Looser, with reasons:
// eigenvalues of a defective matrix (Jordan block of size m) are only determined to about (eps ||A||)^(1/m), by
// LAPACK as by ml-matrix; Henrici's departure from normality is a square root of a cancelling difference
// (absolute error ~ sqrt(eps)).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  controllability, controllabilityGramian, controllabilityMatrix, frequencyResponse, lyapunovCertificate,
  lyapunovFunction, lyapunovValue, modalDecomposition, observability, observabilityGramian, observabilityMatrix,
  solveDiscreteLyapunov, spectrum, transientGrowth,
} from '../src/analysis/index.js';
import { Matrix, hessenberg, rank, singularValues, svd, toMatrix } from '../src/analysis/linalg.js';
import { controllableSubspace, observableSubspace, unobservableSubspace } from '../src/analysis/control.js';
import { InvalidArgumentError, ShapeError } from '../src/errors.js';
import { Random } from '../src/nn/random.js';
import { fixturesDir } from './helpers.js';

type Rows = number[][];
interface CJ { re: number[]; im: number[] }
/* eslint-disable @typescript-eslint/no-explicit-any */
const fx: any = JSON.parse(readFileSync(`${fixturesDir}analysis/linear.json`, 'utf8'),
  (_k, v) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v));

/** Table rows [case name, case] of a fixture section. */
const cases = (section: any[]): [string, any][] => section.map((c) => [c.name as string, c]);

const TOL = 1e-8;
const measured = new Map<string, number>();
function record(what: string, err: number): number {
  measured.set(what, Math.max(measured.get(what) ?? 0, err));
  return err;
}
afterAll(() => {
  const lines = [...measured].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `  ${k.padEnd(44)} ${v.toExponential(2)}`);
  console.log(`analysis-linear: max measured errors (relative in the max norm unless noted)\n${lines.join('\n')}`);
});

const flat = (x: unknown): number[] => (Array.isArray(x) || ArrayBuffer.isView(x)
  ? Array.from(x as ArrayLike<unknown>).flatMap(flat) : [x as number]);

/** max |a - b| / max |b| over the flattened arrays; infinities must match exactly; fails on length mismatch/NaN. */
function relErr(a: unknown, b: unknown): number {
  const x = flat(a), y = flat(b);
  expect(x.length).toBe(y.length);
  let d = 0, m = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(y[i]!)) { expect(x[i]).toBe(y[i]); continue; }
    const e = Math.abs(x[i]! - y[i]!);
    d = Number.isNaN(e) ? Infinity : Math.max(d, e);
    m = Math.max(m, Math.abs(y[i]!));
  }
  return m > 0 ? d / m : d;
}
function expectRel(what: string, a: unknown, b: unknown, tol = TOL): void {
  const e = record(what, relErr(a, b));
  expect(e, `${what}: relative error ${e}`).toBeLessThanOrEqual(tol);
}
/** Scalar relative error (|a - b| / |b|, or equality for infinities). */
function expectScalar(what: string, a: number, b: number, tol = TOL): void {
  if (!Number.isFinite(b)) { expect(a, what).toBe(b); return; }
  const e = record(what, Math.abs(a - b) / Math.max(Math.abs(b), 1e-300));
  expect(e, `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(tol);
}

const maxAbs = (x: unknown): number => flat(x).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** max |a - b| over the flattened arrays. */
const absErr = (a: unknown, b: unknown): number => relErr(a, b) * (maxAbs(b) || 1);

const cx = (z: CJ): { re: number; im: number }[] => z.re.map((re, i) => ({ re, im: z.im[i]! }));

/** |lambda| non-increasing (ties within 1e-12 relative), then re, then im decreasing: linalg.eigenvalues' order. */
function expectSorted(z: { re: ArrayLike<number>; im: ArrayLike<number> }): void {
  for (let i = 1; i < z.re.length; i++) {
    const ma = Math.hypot(z.re[i - 1]!, z.im[i - 1]!), mb = Math.hypot(z.re[i]!, z.im[i]!);
    if (Math.abs(ma - mb) > 1e-12 * Math.max(ma, mb)) expect(ma).toBeGreaterThan(mb);
    else expect(z.re[i - 1]! > z.re[i]! || (z.re[i - 1] === z.re[i] && z.im[i - 1]! >= z.im[i]!)).toBe(true);
  }
}

// ---------------------------------------------------------------------------------------------------------------
describe('spectrum (vs numpy.linalg.eigvals / svd)', () => {
  it.each(cases(fx.spectra))('%s', (_n, c: any) => {
    const r = spectrum(c.A as Rows);
    expectSorted(r.eigenvalues);
    if (c.jordanSize !== undefined) {
      // Defective: each computed eigenvalue within 10 (eps ||A||_2)^(1/m) of an exact one (and so is NumPy's,
      // checked by the generator); a split Jordan pair may come out as a complex pair or as two reals, so match
      // by nearest exact value rather than by position.
      const tol = 10 * (Number.EPSILON * r.spectralNorm) ** (1 / c.jordanSize);
      const exact = cx(c.exactEigenvalues);
      let worst = 0;
      for (let i = 0; i < r.eigenvalues.re.length; i++) {
        const d = Math.min(...exact.map((e) => Math.hypot(r.eigenvalues.re[i]! - e.re, r.eigenvalues.im[i]! - e.im)));
        worst = Math.max(worst, d);
      }
      record(`defective eigenvalues / (10 (eps||A||)^(1/m))`, worst / tol);
      expect(worst).toBeLessThanOrEqual(tol);
      // every exact eigenvalue is hit with its multiplicity
      for (const e of exact) {
        const close = Array.from(r.eigenvalues.re, (re, i) => Math.hypot(re - e.re, r.eigenvalues.im[i]! - e.im) <= tol).filter(Boolean).length;
        expect(close).toBe(exact.filter((f) => Math.hypot(f.re - e.re, f.im - e.im) <= tol).length);
      }
    } else {
      expectRel('eigenvalues', [r.eigenvalues.re, r.eigenvalues.im], [c.eigenvalues.re, c.eigenvalues.im]);
    }
    // defective: rho is only determined to ~10 (eps ||A||)^(1/m) (about 7e-7 absolute for jordan2_similar)
    expectScalar('spectralRadius', r.spectralRadius, c.spectralRadius, c.jordanSize ? 1e-6 : TOL);
    expectRel('singularValues', r.singularValues, c.singularValues);
    expectScalar('spectralNorm', r.spectralNorm, c.spectralNorm);
    expectScalar('conditionNumber', r.conditionNumber, c.conditionNumber);
  });

  it.each(cases(fx.singularValues))('rectangular %s: singular values, rank, svd()', (_n, c: any) => {
    const A = toMatrix('A', c.A as Rows);
    expectRel('singularValues (rectangular)', singularValues(A), c.singularValues);
    expect(rank(A)).toBe(c.rank);
    const d = svd(A);
    expectRel('singularValues (rectangular)', d.s, c.singularValues);
    const k = Math.min(A.rows, A.columns);
    expect([d.U.rows, d.U.columns, d.V.rows, d.V.columns]).toEqual([A.rows, k, A.columns, k]);
    expectRel('svd U S V^T = A', d.U.mmul(Matrix.diag(Array.from(d.s))).mmul(d.V.transpose()).to2DArray(), c.A, 1e-12);
    expectRel('svd U^T U = I', d.U.transpose().mmul(d.U).to2DArray(), Matrix.eye(k, k).to2DArray(), 1e-12);
    expectRel('svd V^T V = I', d.V.transpose().mmul(d.V).to2DArray(), Matrix.eye(k, k).to2DArray(), 1e-12);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('transientGrowth (vs numpy.linalg.norm(A^k, 2))', () => {
  it.each(cases(fx.transientGrowth))('%s', (_n, c: any) => {
    const r = transientGrowth(c.A as Rows, { maxSteps: c.maxSteps });
    expect(r.norms.length).toBe(c.maxSteps + 1);
    expectRel('transient norms ||A^k||_2', r.norms, c.norms);
    expectScalar('transient maxNorm', r.maxNorm, c.maxNorm);
    expect(r.argmaxStep).toBe(c.argmaxStep);
    expectScalar('transient spectralRadius', r.spectralRadius, c.spectralRadius);
    if (c.nonNormality === 0) expect(r.nonNormality).toBe(0);
    else expectScalar('transient nonNormality', r.nonNormality, c.nonNormality);
    const e = record('henrici (absolute)', Math.abs(r.henrici - c.henrici));
    expect(e).toBeLessThanOrEqual(1e-6);
  });

  it('nonnormal20 is stable with a hump: rho < 1, max_k ||A^k|| > 5 at k >= 3', () => {
    const c = fx.transientGrowth.find((x: any) => x.name === 'nonnormal20');
    const r = transientGrowth(c.A as Rows);
    expect(r.spectralRadius).toBeLessThan(1);
    expect(r.maxNorm).toBeGreaterThan(5);
    expect(r.argmaxStep).toBeGreaterThanOrEqual(3);
    expect(r.norms.length).toBe(101);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('modalDecomposition (vs numpy.linalg.eig, same sort and phase convention)', () => {
  it.each(cases(fx.modal))('%s', (_n, c: any) => {
    const r = modalDecomposition(c.A as Rows, c.states as Rows | undefined);
    expect(r.modes.length).toBe(c.modes.length);
    expect(r.defective).toBe(false);
    expect(r.warning).toBeUndefined();
    r.modes.forEach((m, k) => {
      const e = c.modes[k];
      expectRel('mode eigenvalue', [m.eigenvalue.re, m.eigenvalue.im], [e.eigenvalue.re, e.eigenvalue.im]);
      for (const f of ['modulus', 'growthRate', 'timeConstant', 'halfLife', 'frequency', 'period'] as const) {
        expectScalar(`mode ${f}`, m[f], e[f]);
      }
      expectRel('mode vector', [m.vector.re, m.vector.im], [e.vector.re, e.vector.im]);
    });
    expectScalar('eigenvectorCondition', r.eigenvectorCondition, c.eigenvectorCondition);
    if (c.states) {
      expectRel('modal coefficients V^-1 h_t', [r.coefficients!.re, r.coefficients!.im], [c.coefficients.re, c.coefficients.im]);
      expect(record('modal reconstructionError (absolute)', r.reconstructionError!)).toBeLessThan(1e-12);
    } else {
      expect(r.coefficients).toBeUndefined();
    }
  });

  it('rotation: on the unit circle, time constant and half life are Infinity, period 2 pi / atan2(0.8, 0.6)', () => {
    const r = modalDecomposition([[0.6, -0.8], [0.8, 0.6]]);
    for (const m of r.modes) {
      expect([m.growthRate, m.timeConstant, m.halfLife]).toEqual([0, Infinity, Infinity]);
      expect(Math.abs(m.period - (2 * Math.PI) / Math.atan2(0.8, 0.6))).toBeLessThan(1e-12);
    }
  });

  it.each([
    ['jordan3_triangular', false],
    ['jordan2_similar', true],
  ])('defective %s: flagged, with a warning', (name, similar) => {
    const A = fx.spectra.find((x: any) => x.name === name).A as Rows;
    const r = modalDecomposition(A);
    expect(r.defective).toBe(true);
    expect(r.eigenvectorCondition).toBeGreaterThan(1e8);
    expect(r.warning).toMatch(/defective/);
    if (!similar) {
      // exactly parallel eigenvectors: no modal coordinates at all
      const err = catchError(() => modalDecomposition(A, [[1, 2, 3, 4]]));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).argument).toBe('A');
      expect(err.message).toMatch(/^A: is defective/);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
const eye = (n: number): Rows => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));

describe('solveDiscreteLyapunov (A^T P A - P = -Q; vs scipy.linalg.solve_discrete_lyapunov(A.T, Q))', () => {
  // Every case with its fixture method, plus the other method where it applies (direct: n <= 20 here; doubling:
  // rho(A) < 1).
  const rows: [string, string, any][] = [];
  for (const c of fx.lyapunov) {
    rows.push([c.name, c.method, c]);
    const n = c.A.length;
    const rho = spectrum(c.A as Rows).spectralRadius;
    if (c.method !== 'direct' && n <= 20) rows.push([c.name, 'direct', c]);
    if (c.method !== 'doubling' && rho < 1 && n <= 40) rows.push([c.name, 'doubling', c]);
  }
  it.each(rows)('%s, method %s', (_n, method, c: any) => {
    const Q = c.Q ?? eye(c.A.length);
    const P = solveDiscreteLyapunov(c.A as Rows, Q as Rows, { method: method as 'auto' | 'direct' | 'doubling' });
    expectRel(`lyapunov P (${method})`, P, c.P);
    const A = new Matrix(c.A as Rows), Pm = new Matrix(P);
    expectRel('lyapunov residual A^T P A - P + Q', A.transpose().mmul(Pm).mmul(A).sub(Pm).to2DArray(),
      new Matrix(Q as Rows).mul(-1).to2DArray(), 1e-10);
  });

  it('n = 50 takes the doubling path and matches SciPy (Bartels-Stewart)', () => {
    const c = fx.lyapunov.find((x: any) => x.name === 'stable50_doubling');
    expect(c.A.length).toBe(50);
    const t0 = performance.now();
    const P = solveDiscreteLyapunov(c.A as Rows, eye(50));
    expect(performance.now() - t0).toBeLessThan(2000); // the direct path would need a 1275-unknown LU
    expectRel('lyapunov P (n = 50, auto)', P, c.P);
  });
});

describe('lyapunovCertificate (vs eigvalsh(P), eigh(A^T P A, P))', () => {
  it.each(cases(fx.certificates))('%s', (_n, c: any) => {
    const r = lyapunovCertificate(c.A as Rows, c.Q ? { Q: c.Q as Rows } : {});
    expectScalar('certificate minEigenvalue', r.minEigenvalue, c.minEigenvalue);
    expectScalar('certificate maxEigenvalue', r.maxEigenvalue, c.maxEigenvalue);
    expectScalar('certificate qMinEigenvalue', r.qMinEigenvalue, c.qMinEigenvalue);
    expectScalar('certificate spectralRadius', r.spectralRadius, c.spectralRadius);
    expect(r.positiveDefinite).toBe(c.positiveDefinite);
    expect(r.certified).toBe(c.certified);
    if (c.decreaseFactor === null) {
      expect(r.decreaseFactor).toBeNaN();
    } else {
      expectScalar('certificate decreaseFactor', r.decreaseFactor, c.decreaseFactor);
      expect(r.decreaseFactor).toBeLessThan(1);
      expectScalar('certificate contractionFactor', r.contractionFactor ** 2, c.decreaseFactor);
    }
    // V(h) - V(A h) = h^T Q h for any h, and V(A h) <= decreaseFactor V(h).
    const A = new Matrix(c.A as Rows), n = A.rows;
    const Q = new Matrix((c.Q ?? eye(n)) as Rows);
    const V = lyapunovFunction(r.P);
    for (let s = 1; s <= 3; s++) {
      const h = Array.from({ length: n }, (_, i) => Math.sin(7 * s + 3 * i));
      const Ah = A.mmul(Matrix.columnVector(h)).to1DArray();
      const hQh = Matrix.rowVector(h).mmul(Q).mmul(Matrix.columnVector(h)).get(0, 0);
      const d = V(h) - V(Ah);
      expect(record('V(h) - V(Ah) - h^T Q h (relative)', Math.abs(d - hQh) / (Math.abs(V(h)) + Math.abs(V(Ah))))).toBeLessThan(1e-12);
      if (r.positiveDefinite) expect(V(Ah)).toBeLessThanOrEqual(r.decreaseFactor * V(h) * (1 + 1e-12));
    }
  });

  it('lyapunovValue: (h - c)^T P (h - c)', () => {
    const P = [[2, 1], [1, 3]];
    expect(lyapunovValue(P, [1, 2])).toBe(2 + 2 * 2 + 3 * 4);
    expect(lyapunovValue(P, [1, 2], [1, 1])).toBe(3);
    expect(lyapunovValue(P, [0.5, -1], [0.5, -1])).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
describe('controllability / observability (vs numpy matrix_rank, svd; Octave ranks and Gramians agree)', () => {
  it.each(cases(fx.control))('%s', (_n, c: any) => {
    const n = c.A.length;
    expectRel('controllability matrix', controllabilityMatrix(c.A, c.B), c.ctrbMatrix);
    expectRel('observability matrix', observabilityMatrix(c.A, c.C), c.obsvMatrix);
    const rc = controllability(c.A, c.B), ro = observability(c.A, c.C);
    expectRel('ctrb singular values', rc.singularValues, c.ctrbSingularValues);
    expectRel('obsv singular values', ro.singularValues, c.obsvSingularValues);
    expectScalar('rank tolerance', rc.tolerance, c.ctrbTolerance);
    expectScalar('rank tolerance', ro.tolerance, c.obsvTolerance);
    expect([rc.rank, rc.dimension, rc.full]).toEqual([c.ctrbRank, c.ctrbRank, c.ctrbRank === n]);
    expect([ro.rank, ro.dimension, ro.full]).toEqual([c.obsvRank, c.obsvRank, c.obsvRank === n]);
    if (c.expectedCtrbRank !== undefined) expect([rc.rank, ro.rank]).toEqual([c.expectedCtrbRank, c.expectedObsvRank]);
    // Bases compared through their orthogonal projectors (basis-independent).
    const proj = (Bs: Rows, k: number): Rows => {
      if (k === 0) return new Matrix(n, n).to2DArray();
      const M = new Matrix(Bs);
      return M.mmul(M.transpose()).to2DArray();
    };
    expect(rc.basis.length).toBe(n);
    expect(rc.basis[0]!.length).toBe(rc.rank);
    expect(ro.basis[0]!.length).toBe(n - ro.rank);
    expect(record('controllable-subspace projector (abs)', absErr(proj(rc.basis, rc.rank), c.ctrbProjector)))
      .toBeLessThanOrEqual(TOL);
    expect(record('unobservable-subspace projector (abs)', absErr(proj(ro.basis, n - ro.rank), c.unobservableProjector)))
      .toBeLessThanOrEqual(TOL);
    if (c.ctrbGramian) {
      expectRel('controllability Gramian (infinite)', controllabilityGramian(c.A, c.B), c.ctrbGramian);
      expectRel('observability Gramian (infinite)', observabilityGramian(c.A, c.C), c.obsvGramian);
    } else {
      expectThrows(() => controllabilityGramian(c.A, c.B), InvalidArgumentError, 'A', /rho\(A\) < 1/);
      expectThrows(() => observabilityGramian(c.A, c.C), InvalidArgumentError, 'A', /rho\(A\) < 1/);
    }
    expectRel('controllability Gramian (finite)', controllabilityGramian(c.A, c.B, { steps: c.steps }), c.ctrbGramianFinite);
    expectRel('observability Gramian (finite)', observabilityGramian(c.A, c.C, { steps: c.steps }), c.obsvGramianFinite);
  });

  it('a user tolerance changes the rank', () => {
    const c = fx.control.find((x: any) => x.name === 'siso4');
    const s = c.ctrbSingularValues as number[];
    expect(controllability(c.A, c.B, { tol: (s[2]! + s[3]!) / 2 }).rank).toBe(3);
    expect(controllability(c.A, c.B, { tol: 0 }).rank).toBe(4);
  });
});


// ---------------------------------------------------------------------------------------------------------------
describe('frequencyResponse (vs numpy direct solve; ss2tf + freqz and dlti.freqresp agree)', () => {
  it.each(cases(fx.frequency))('%s', (_n, c: any) => {
    const r = frequencyResponse({ A: c.A, B: c.B, C: c.C, D: c.D }, c.omega ? { omega: c.omega } : { points: c.points });
    expect([r.outputs, r.inputs]).toEqual([c.C.length, c.B[0].length]);
    expect(record('omega grid (abs)', relErr(r.omega, c.omega) * Math.PI)).toBeLessThanOrEqual(1e-15);
    // re/im relative to max |H| over the whole response
    const scale = maxAbs(c.magnitude);
    expect(record('H re, im (rel. to max |H|)', Math.max(absErr(r.re, c.re), absErr(r.im, c.im)) / scale)).toBeLessThanOrEqual(TOL);
    expectRel('|H|', r.magnitude, c.magnitude);
    expect(record('|H| dB (abs, dB)', absErr(r.magnitudeDb, c.magnitudeDb))).toBeLessThanOrEqual(TOL);
    expect(record('unwrapped phase (abs, rad)', absErr(r.phase, c.phase))).toBeLessThanOrEqual(TOL);
  });

  it('mimo2_resonance has a lightly damped peak (|H| > 50 near omega = 0.7)', () => {
    const c = fx.frequency.find((x: any) => x.name === 'mimo2_resonance');
    const r = frequencyResponse(c, { omega: c.omega });
    const k = Array.from(r.magnitude[0]![1]!).reduce((b, v, i, a) => (v > a[b]! ? i : b), 0);
    expect(r.magnitude[0]![1]![k]).toBeGreaterThan(50);
    expect(Math.abs(r.omega[k]! - 0.7)).toBeLessThan(0.03);
  });

  it('default grid: 256 points evenly spaced on [0, pi], ends included', () => {
    const r = frequencyResponse({ A: [[0.5]], B: [[1]], C: [[1]] });
    expect(r.omega.length).toBe(256);
    expect([r.omega[0], r.omega[255]]).toEqual([0, Math.PI]);
    for (let i = 1; i < 256; i++) expect(Math.abs(r.omega[i]! - r.omega[i - 1]! - Math.PI / 255)).toBeLessThan(1e-15);
    // H = 1 / (e^{jw} - 0.5): at w = 0, 2; at w = pi, -1/1.5.
    expect(Math.abs(r.re[0]![0]![0]! - 2)).toBeLessThan(1e-15);
    expect(Math.abs(r.re[0]![0]![255]! + 1 / 1.5)).toBeLessThan(1e-15);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Orthogonal staircase (controllableSubspace & co.) against the Kalman ranks; Hessenberg reduction; Laub's
// frequency response against the direct solve.

/** The library's seeded generator, uniform in [-1, 1). */
function uniform(seed: number): () => number {
  const rng = new Random(seed);
  return () => rng.uniform(-1, 1);
}
const randMatrix = (r: number, c: number, rnd: () => number, scale = 1): Matrix =>
  new Matrix(Array.from({ length: r }, () => Array.from({ length: c }, () => scale * rnd())));
/** A random n x n orthogonal matrix (Q of the QR of a random matrix, through an SVD: U V^T). */
function randOrthogonal(n: number, rnd: () => number): Matrix {
  const d = svd(randMatrix(n, n, rnd));
  return d.U.mmul(d.V.transpose());
}
const fro = (M: Matrix): number => M.norm('frobenius');
const mat = (x: Rows | Matrix): Matrix => (Matrix.isMatrix(x) ? (x as Matrix) : new Matrix(x as Rows));

/**
 * Checks an orthonormal basis Q (rows form, n x k): Q^T Q = I to 1e-12, and when `invariant` that range(Q) is
 * A-invariant, ||(I - Q Q^T) A Q||_F <= 1e-10 ||A||_F, and contains X's columns, ||(I - Q Q^T) X||_F <= 1e-10 ||X||_F.
 */
function checkBasis(what: string, basis: Rows, k: number, A: Matrix, X?: Matrix): void {
  const n = A.rows;
  expect(basis.length).toBe(n);
  for (const row of basis) expect(row.length).toBe(k);
  if (k === 0) return;
  const Q = new Matrix(basis);
  expect(record(`${what}: ||Q^T Q - I|| (abs)`, fro(Q.transpose().mmul(Q).sub(Matrix.eye(k, k))))).toBeLessThanOrEqual(1e-12);
  const P = Matrix.eye(n, n).sub(Q.mmul(Q.transpose()));
  expect(record(`${what}: A-invariance (rel)`, fro(P.mmul(A).mmul(Q)) / Math.max(fro(A), 1e-300))).toBeLessThanOrEqual(1e-10);
  if (X) expect(record(`${what}: contains B (rel)`, fro(P.mmul(X)) / Math.max(fro(X), 1e-300))).toBeLessThanOrEqual(1e-10);
}

/** A system with known ranks in a random orthogonal basis (a Kalman decomposition; see the test below). */
function kalmanDecomposed(seed: number) {
  const rnd = uniform(seed);
  const r1 = 12, r2 = 10, r3 = 14, r4 = 24, n = r1 + r2 + r3 + r4; // co, c-not-o, o-not-c, neither
  const o1 = 0, o2 = r1, o3 = r1 + r2, o4 = r1 + r2 + r3;
  const At = new Matrix(n, n);
  // Controllable part x1 (+) x2: a weighted shift chain e_1 -> e_2 -> ... -> e_22 driven by b = e_1.
  for (let i = 0; i < r1 + r2 - 1; i++) At.set(i + 1, i, 1 + 0.25 * rnd());
  const block = (ro: number, rr: number, co: number, cc: number, scale: number): void => {
    for (let i = 0; i < rr; i++) for (let j = 0; j < cc; j++) At.set(ro + i, co + j, scale * rnd());
  };
  block(o3, r3, o3, r3, 0.25); // A33
  block(o4, r4, o4, r4, 0.2); // A44
  block(o4, r4, o3, r3, 0.3); // A43
  block(o1, r1, o3, r3, 0.3); // A13
  block(o2, r2, o3, r3, 0.3); // A23
  block(o2, r2, o4, r4, 0.3); // A24
  const Bt = new Matrix(n, 1);
  Bt.set(0, 0, 1);
  const Ct = new Matrix(30, n);
  for (let i = 0; i < 30; i++) {
    for (let j = 0; j < r1; j++) Ct.set(i, o1 + j, rnd());
    for (let j = 0; j < r3; j++) Ct.set(i, o3 + j, rnd());
  }
  const T = randOrthogonal(n, rnd);
  return {
    n, ctrbRank: r1 + r2, obsvRank: r1 + r3,
    A: T.mmul(At).mmul(T.transpose()), B: T.mmul(Bt), C: Ct.mmul(T.transpose()),
  };
}

describe('orthogonal staircase (controllableSubspace, observableSubspace, unobservableSubspace)', () => {
  it.each(cases(fx.control))('%s: ranks equal the Kalman (matrix_rank) ranks; orthonormal, invariant bases', (_n, c: any) => {
    const A = mat(c.A), B = mat(c.B), C = mat(c.C), n = A.rows;
    const cs = controllableSubspace(c.A, c.B);
    const os = observableSubspace(c.A, c.C), us = unobservableSubspace(c.A, c.C);
    expect([cs.rank, cs.dimension]).toEqual([c.ctrbRank, c.ctrbRank]);
    expect([os.rank, os.dimension, us.rank, us.dimension]).toEqual([c.obsvRank, c.obsvRank, c.obsvRank, n - c.obsvRank]);
    expect(cs.blockSizes.reduce((a: number, b: number) => a + b, 0)).toBe(cs.rank);
    for (let i = 1; i < cs.blockSizes.length; i++) expect(cs.blockSizes[i]).toBeLessThanOrEqual(cs.blockSizes[i - 1]!);
    expect(cs.tolerance).toBeCloseTo(n * Math.max(...A.transpose().to2DArray().map((r) => r.reduce((s, v) => s + Math.abs(v), 0))) * Number.EPSILON, 25);
    checkBasis('staircase controllable', cs.basis, cs.rank, A, B);
    checkBasis('staircase observable (A^T, C^T)', os.basis, os.rank, A.transpose(), C.transpose());
    checkBasis('staircase unobservable', us.basis, n - us.rank, A);
    if (n - us.rank > 0) {
      expect(record('staircase unobservable: ||C N|| (rel)', fro(C.mmul(new Matrix(us.basis))) / fro(C))).toBeLessThanOrEqual(1e-10);
    }
    // Same subspaces as the SVD of the Kalman matrices (fixture projectors).
    const proj = (Bs: Rows, k: number): Rows => (k === 0 ? new Matrix(n, n).to2DArray()
      : new Matrix(Bs).mmul(new Matrix(Bs).transpose()).to2DArray());
    expect(record('staircase controllable projector (abs)', absErr(proj(cs.basis, cs.rank), c.ctrbProjector))).toBeLessThanOrEqual(TOL);
    expect(record('staircase unobservable projector (abs)', absErr(proj(us.basis, n - us.rank), c.unobservableProjector)))
      .toBeLessThanOrEqual(TOL);
    // Through controllability / observability with method 'staircase'.
    const rc = controllability(c.A, c.B, { method: 'staircase' }), ro = observability(c.A, c.C, { method: 'staircase' });
    expect([rc.method, rc.rank, rc.dimension, rc.full]).toEqual(['staircase', c.ctrbRank, c.ctrbRank, c.ctrbRank === n]);
    expect([ro.method, ro.rank, ro.dimension, ro.full]).toEqual(['staircase', c.obsvRank, c.obsvRank, c.obsvRank === n]);
    expect(rc.basis).toEqual(cs.basis);
    expect(ro.basis).toEqual(us.basis);
    expect(controllability(c.A, c.B).method).toBe('kalman');
  });

  it('n = 60 Kalman decomposition in a random orthogonal basis (B 60 x 1, C 30 x 60): staircase = Kalman ranks', () => {
    for (const seed of [1, 2, 3]) {
      const s = kalmanDecomposed(seed);
      const A = s.A.to2DArray(), B = s.B.to2DArray(), C = s.C.to2DArray();
      const kc = controllability(A, B), ko = observability(A, C);
      const cs = controllableSubspace(A, B), os = observableSubspace(A, C), us = unobservableSubspace(A, C);
      expect([kc.rank, cs.rank]).toEqual([s.ctrbRank, s.ctrbRank]);
      expect([ko.rank, os.rank, us.rank]).toEqual([s.obsvRank, s.obsvRank, s.obsvRank]);
      expect(cs.blockSizes).toEqual(Array(s.ctrbRank).fill(1)); // m = 1: one direction per step
      checkBasis('staircase controllable (n = 60)', cs.basis, cs.rank, s.A, s.B);
      checkBasis('staircase observable (n = 60)', os.basis, os.rank, s.A.transpose(), s.C.transpose());
      checkBasis('staircase unobservable (n = 60)', us.basis, s.n - us.rank, s.A);
      // The Kalman subspaces and the staircase ones coincide.
      const P = (Bs: Rows): Matrix => new Matrix(Bs).mmul(new Matrix(Bs).transpose());
      expect(record('staircase vs Kalman controllable projector, n = 60 (abs)', fro(P(cs.basis).sub(P(kc.basis)))))
        .toBeLessThanOrEqual(1e-8);
      expect(record('staircase vs Kalman unobservable projector, n = 60 (abs)', fro(P(us.basis).sub(P(ko.basis)))))
        .toBeLessThanOrEqual(1e-8);
    }
  });

  it('edge cases: B = 0, n = 1, a user tolerance, m > n', () => {
    const A = [[0.5, 1], [0, 0.25]];
    const z = controllableSubspace(A, [[0], [0]]);
    expect([z.rank, z.blockSizes, z.basis]).toEqual([0, [], [[], []]]);
    expect(unobservableSubspace(A, [[0, 0]]).dimension).toBe(2);
    expect(controllableSubspace([[2]], [[3]]).rank).toBe(1);
    expect(controllableSubspace(A, [[0], [1]]).blockSizes).toEqual([1, 1]);
    expect(controllableSubspace(A, [[1], [0]]).rank).toBe(1); // e_1 is an eigenvector
    expect(controllableSubspace(A, [[1], [1e-9]]).rank).toBe(2);
    expect(controllableSubspace(A, [[1], [1e-9]], { tol: 1e-8 }).rank).toBe(1);
    const w = controllableSubspace(A, [[1, 2, 3], [1, 2, 3]]); // rank-1 B with m = 3 > n
    expect(w.blockSizes).toEqual([1, 1]);
  });
});

describe('hessenberg (Householder, H = Q^T A Q)', () => {
  const inputs: [string, Matrix][] = [
    ...fx.control.map((c: any): [string, Matrix] => [c.name, mat(c.A)]),
    ...fx.frequency.map((c: any): [string, Matrix] => [c.name, mat(c.A)]),
    ['random n = 40', randMatrix(40, 40, uniform(7))],
    ['random n = 97, scale 1e6', randMatrix(97, 97, uniform(8), 1e6)],
    ['1 x 1', new Matrix([[3]])],
    ['2 x 2', new Matrix([[1, 2], [3, 4]])],
    ['zero column', new Matrix([[1, 2, 3], [0, 0, 4], [0, 0, 5]])],
  ];
  it.each(inputs)('%s', (_n, A) => {
    const n = A.rows;
    const { H, Q } = hessenberg(A);
    expect([H.rows, H.columns, Q.rows, Q.columns]).toEqual([n, n, n, n]);
    expect(record('hessenberg ||Q^T Q - I|| (abs)', fro(Q.transpose().mmul(Q).sub(Matrix.eye(n, n))))).toBeLessThanOrEqual(1e-13);
    for (let i = 0; i < n; i++) for (let j = 0; j < i - 1; j++) expect(H.get(i, j)).toBe(0);
    expect(record('hessenberg ||Q H Q^T - A|| / ||A||', fro(Q.mmul(H).mmul(Q.transpose()).sub(A)) / fro(A))).toBeLessThanOrEqual(1e-13);
  });
});

describe("frequencyResponse: Laub's Hessenberg method (default) = the direct dense solve", () => {
  const rnd = uniform(11);
  const A40 = randMatrix(40, 40, rnd, 0.9 / Math.sqrt(40 / 3)); // spectral radius ~0.9
  const random40 = { A: A40.to2DArray(), B: randMatrix(40, 3, rnd).to2DArray(), C: randMatrix(5, 40, rnd).to2DArray(),
    D: randMatrix(5, 3, rnd).to2DArray() };
  const systems: [string, any, any][] = [
    ...fx.frequency.map((c: any): [string, any, any] => [c.name, c, c.omega ? { omega: c.omega } : { points: c.points }]),
    ['random n = 40 (m = 3, p = 5)', random40, { points: 200 }],
  ];
  it.each(systems)('%s', (_n, sys, opts) => {
    const h = frequencyResponse(sys, { ...opts, method: 'hessenberg' });
    const d = frequencyResponse(sys, { ...opts, method: 'direct' });
    expect(frequencyResponse(sys, opts).re).toEqual(h.re);
    const scale = maxAbs(d.magnitude);
    expect(record('hessenberg vs direct H re, im (rel. to max |H|)', Math.max(absErr(h.re, d.re), absErr(h.im, d.im)) / scale))
      .toBeLessThanOrEqual(1e-10);
    expectRel('hessenberg vs direct |H|', h.magnitude, d.magnitude, 1e-10);
    expect(record('hessenberg vs direct phase (abs, rad)', absErr(h.phase, d.phase))).toBeLessThanOrEqual(1e-10);
  });
});

// ---------------------------------------------------------------------------------------------------------------
function catchError(f: () => unknown): Error {
  try { f(); } catch (e) { return e as Error; }
  throw new Error('expected an error, none was thrown');
}
function expectThrows(f: () => unknown, cls: typeof ShapeError | typeof InvalidArgumentError, argument: string, msg?: RegExp): void {
  const e = catchError(f);
  expect(e).toBeInstanceOf(cls);
  expect((e as ShapeError | InvalidArgumentError).argument).toBe(argument);
  expect(e.message.startsWith(`${argument}: `), e.message).toBe(true);
  if (msg) expect(e.message).toMatch(msg);
}

describe('errors: class, argument and message', () => {
  const rot = [[0.6, -0.8], [0.8, 0.6]];
  const unstable50 = eye(50).map((r, i) => r.map((v, j) => 1.01 * v + (j === i + 1 ? 0.3 : 0)));
  // 2 and 0.5 in a dense similarity transform: lambda_1 lambda_2 = 1
  const T = [[1, 1], [0, 1]], Ti = [[1, -1], [0, 1]];
  const prod = (X: Rows, Y: Rows): Rows => new Matrix(X).mmul(new Matrix(Y)).to2DArray();
  const dense2half = prod(prod(T, [[2, 0], [0, 0.5]]), Ti);
  const sys = { A: [[0.5, 0.1], [0, 0.3]], B: [[1], [0]], C: [[1, 1]] };
  const table: [string, () => unknown, typeof ShapeError | typeof InvalidArgumentError, string, RegExp?][] = [
    ['spectrum: non-square', () => spectrum([[1, 2, 3], [4, 5, 6]]), ShapeError, 'W', /square/],
    ['spectrum: NaN entry', () => spectrum([[1, NaN], [0, 1]]), InvalidArgumentError, 'W', /finite/],
    ['spectrum: ragged rows', () => spectrum([[1, 2], [3]]), ShapeError, 'W'],
    ['transientGrowth: Infinity entry', () => transientGrowth([[Infinity]]), InvalidArgumentError, 'A', /finite/],
    ['transientGrowth: maxSteps 1.5', () => transientGrowth([[0.5]], { maxSteps: 1.5 }), InvalidArgumentError, 'options.maxSteps'],
    ['modalDecomposition: states with 3 columns for n = 2', () => modalDecomposition(rot, [[1, 2, 3]]), ShapeError, 'states', /\[1, 2\]/],
    ['solveDiscreteLyapunov: non-square A', () => solveDiscreteLyapunov([[1, 2]], [[1]]), ShapeError, 'A', /square/],
    ['solveDiscreteLyapunov: Q 3x3 for n = 2', () => solveDiscreteLyapunov(rot, eye(3)), ShapeError, 'Q', /\[2, 2\]/],
    ['solveDiscreteLyapunov: NaN in Q', () => solveDiscreteLyapunov(rot, [[1, NaN], [0, 1]]), InvalidArgumentError, 'Q', /finite/],
    ['solveDiscreteLyapunov: diag(2, 0.5)', () => solveDiscreteLyapunov([[2, 0], [0, 0.5]], eye(2)), InvalidArgumentError, 'A', /lambda_i lambda_j = 1/],
    ['solveDiscreteLyapunov: dense, eigenvalues 2, 0.5', () => solveDiscreteLyapunov(dense2half, eye(2)), InvalidArgumentError, 'A', /lambda_i lambda_j = 1/],
    ['solveDiscreteLyapunov: rotation (lambda conj(lambda) = 1)', () => solveDiscreteLyapunov(rot, eye(2)), InvalidArgumentError, 'A', /lambda_i lambda_j = 1/],
    ['solveDiscreteLyapunov: rotation, non-symmetric Q', () => solveDiscreteLyapunov(rot, [[1, 2], [0, 1]]), InvalidArgumentError, 'A', /lambda_i lambda_j = 1/],
    ['solveDiscreteLyapunov: unstable n = 50 (doubling)', () => solveDiscreteLyapunov(unstable50, eye(50)), InvalidArgumentError, 'A', /rho\(A\) < 1/],
    ['solveDiscreteLyapunov: doubling, unstable but solvable', () => solveDiscreteLyapunov(fx.lyapunov.find((x: any) => x.name === 'unstable_solvable4').A, eye(4), { method: 'doubling' }), InvalidArgumentError, 'A', /needs a stable A \(rho\(A\) < 1\), got rho\(A\) = (1\.99|2)/],
    ['solveDiscreteLyapunov: unknown method', () => solveDiscreteLyapunov(rot, eye(2), { method: 'schur' as 'auto' }), InvalidArgumentError, 'options.method'],
    ['lyapunovCertificate: non-symmetric Q', () => lyapunovCertificate(sys.A, { Q: [[1, 2], [0, 1]] }), InvalidArgumentError, 'options.Q', /symmetric/],
    ['lyapunovValue: h of length 3 for n = 2', () => lyapunovValue(eye(2), [1, 2, 3]), ShapeError, 'h', /length 2/],
    ['lyapunovValue: center of length 1', () => lyapunovValue(eye(2), [1, 2], [1]), ShapeError, 'center'],
    ['lyapunovValue: NaN in h', () => lyapunovValue(eye(2), [1, NaN]), InvalidArgumentError, 'h', /finite/],
    ['controllabilityMatrix: non-square A', () => controllabilityMatrix([[1, 2]], [[1]]), ShapeError, 'A'],
    ['controllability: B with 3 rows for n = 2', () => controllability(sys.A, [[1], [0], [0]]), ShapeError, 'B', /\[2, 1\]/],
    ['observability: C with 3 columns for n = 2', () => observability(sys.A, [[1, 0, 0]]), ShapeError, 'C', /\[1, 2\]/],
    ['observabilityMatrix: NaN in C', () => observabilityMatrix(sys.A, [[1, NaN]]), InvalidArgumentError, 'C', /finite/],
    ['controllability: negative tol', () => controllability(sys.A, sys.B, { tol: -1 }), InvalidArgumentError, 'options.tol'],
    ['controllabilityGramian: unstable A', () => controllabilityGramian([[1.5, 0], [0, 0.2]], sys.B), InvalidArgumentError, 'A', /rho\(A\) = 1.5/],
    ['observabilityGramian: rotation (rho = 1)', () => observabilityGramian(rot, sys.C), InvalidArgumentError, 'A', /rho\(A\) < 1/],
    ['controllabilityGramian: steps 0', () => controllabilityGramian(sys.A, sys.B, { steps: 0 }), InvalidArgumentError, 'options.steps'],
    ['frequencyResponse: D 2x1 for p = 1, m = 1', () => frequencyResponse({ ...sys, D: [[0], [0]] }), ShapeError, 'system.D', /\[1, 1\]/],
    ['frequencyResponse: B with 3 rows', () => frequencyResponse({ ...sys, B: [[1], [0], [0]] }), ShapeError, 'system.B'],
    ['frequencyResponse: C with 1 column', () => frequencyResponse({ ...sys, C: [[1]] }), ShapeError, 'system.C'],
    ['frequencyResponse: non-square A', () => frequencyResponse({ ...sys, A: [[0.5, 0.1]] }), ShapeError, 'system.A'],
    ['frequencyResponse: Infinity in A', () => frequencyResponse({ ...sys, A: [[0.5, Infinity], [0, 0.3]] }), InvalidArgumentError, 'system.A', /finite/],
    ['frequencyResponse: pole on the unit circle', () => frequencyResponse({ A: rot, B: [[1], [0]], C: [[1, 0]] }, { omega: [0, Math.atan2(0.8, 0.6)] }), InvalidArgumentError, 'system.A', /unit circle/],
    ['frequencyResponse: pole at z = 1, omega = 0', () => frequencyResponse({ A: [[1]], B: [[1]], C: [[1]] }), InvalidArgumentError, 'system.A', /unit circle/],
    ['frequencyResponse: NaN in omega', () => frequencyResponse(sys, { omega: [0, NaN] }), InvalidArgumentError, 'options.omega'],
    ['frequencyResponse: points 0', () => frequencyResponse(sys, { points: 0 }), InvalidArgumentError, 'options.points'],
    ['frequencyResponse (direct): pole on the unit circle', () => frequencyResponse({ A: rot, B: [[1], [0]], C: [[1, 0]] }, { omega: [0, Math.atan2(0.8, 0.6)], method: 'direct' }), InvalidArgumentError, 'system.A', /unit circle/],
    ['frequencyResponse (hessenberg): pole at z = -1, n = 30', () => frequencyResponse({ A: eye(30).map((r, i) => r.map((v, j) => (i === j ? (i === 7 ? -1 : 0.5) : j === i + 1 ? 0.2 : 0))), B: eye(30).map((r) => [r[0]!]), C: [eye(30)[29]!] }, { points: 5 }), InvalidArgumentError, 'system.A', /eigenvalue -1\+0j on the unit circle at omega = 3.14/],
    ['frequencyResponse: unknown method', () => frequencyResponse(sys, { method: 'schur' as 'direct' }), InvalidArgumentError, 'options.method'],
    ['controllability: unknown method', () => controllability(sys.A, sys.B, { method: 'ctrbf' as 'kalman' }), InvalidArgumentError, 'options.method'],
    ['controllableSubspace: B with 3 rows', () => controllableSubspace(sys.A, [[1], [0], [0]]), ShapeError, 'B'],
    ['unobservableSubspace: NaN tol', () => unobservableSubspace(sys.A, sys.C, { tol: NaN }), InvalidArgumentError, 'options.tol'],
  ];
  it.each(table)('%s', (_what, f, cls, argument, msg) => expectThrows(f, cls, argument, msg));
});
