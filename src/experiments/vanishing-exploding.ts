/**
 * Experiment 6, vanishing and exploding gradients: the scalar model, transient growth of a non-normal matrix, and
 * the gradient against lag in a trained tanh RNN.
 * @module
 */
import { gradientFlow, scalarGradient } from '../analysis/gradient-flow.js';
import { transientGrowth } from '../analysis/spectra.js';
import { Linear } from '../nn/linear.js';
import { Random } from '../nn/random.js';
import { RNN } from '../nn/recurrent.js';
import { SequenceModel } from '../nn/sequence-model.js';
import { Adam } from '../train/optimizers.js';
import { evaluate, fit, type Dataset } from '../train/fit.js';
import { check, defineExperiment, fmt, range, toArray, type PlotSeries } from './types.js';

/** Data of {@link vanishingExploding}. */
export interface VanishingExplodingData {
  /** (a) The scalar model h_t = s h_{t-1}: lags 0..T and |dh_T/dh_{T-lag}| = |s|^lag per s. */
  scalar: { lag: number[]; curves: { s: number; gradient: number[] }[] };
  /** (b) The non-normal matrix [[a, c], [0, a]] and its powers' norms ||W^k||_2, k = 0..maxSteps. */
  transient: { W: number[][]; norms: number[]; spectralRadius: number; spectralNorm: number; peak: number; peakStep: number };
  /** (c) The trained tanh RNN. */
  trained: {
    /** Validation MSE before and after the brief training (the mean predictor scores about 1/12 / 3 = 0.028). */
    lossBefore: number;
    lossAfter: number;
    /** Lags 1..T and ||dh_T/dh_{T-lag}||_2 from gradientFlow on the trained weights (one validation sequence). */
    lag: number[];
    jacobianNorms: number[];
    /** ||dL/dh_t|| recorded by the engine in the last training step, by lag T - t (lag 1 = the last step). */
    recordedNorms: number[];
    /** jacobianNorms at lag T over lag 1. */
    lagRatio: number;
    /** Least-squares slope of log10 norm per step from gradientFlow, and its verdict. */
    slopePerStep: number;
    verdict: string;
    /** The trained weights (row-major W_ih (H x 1), W_hh (H x H), biases) and the sequence gradientFlow ran on, so the norms can be recomputed. */
    weights: { weightIh: number[]; weightHh: number[]; biasIh: number[]; biasHh: number[] };
    sequence: number[];
  };
}

/** The task of part (c): inputs uniform in [0, 1], target the mean of the last 3 inputs (a short memory). */
function lastMeanTask(N: number, T: number, seed: number): Dataset {
  const r = new Random(seed);
  const x = new Float32Array(N * T), y = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    for (let t = 0; t < T; t++) x[n * T + t] = r.next();
    y[n] = (x[n * T + T - 1]! + x[n * T + T - 2]! + x[n * T + T - 3]!) / 3;
  }
  return { inputs: { data: x, shape: [N, T, 1] }, targets: { data: y, shape: [N, 1] } };
}

/**
 * Three views of one mechanism: backpropagation multiplies step Jacobians. (a) For h_t = s h_{t-1} the gradient
 * over T steps is s^T: it vanishes for |s| < 1 and explodes for |s| > 1. (b) For a matrix the spectral radius
 * decides the end (||W^k|| -> 0 iff rho < 1), but a non-normal W with ||W||_2 > 1 amplifies for a while first.
 * (c) A small tanh RNN trained briefly with fit: the norm of the product of its Jacobians along a sequence falls
 * with the lag (tanh' <= 1 and a contracting W_hh), the vanishing gradient of Bengio et al. 1994.
 */
export const vanishingExploding = defineExperiment({
  name: 'vanishing-exploding',
  number: 6,
  title: 'Vanishing and exploding gradients',
  claim: 'Vanishing and exploding gradients: the scalar model across s; a matrix with spectral radius below 1 whose ' +
    'gradient still grows for a while (spectral norm above 1); the gradient against lag for a trained tanh RNN.',
  description: '(a) |dh_T/dh_{T-lag}| = |s|^lag for the scalar model, for s below 1, at 1 and above 1 (log scale). ' +
    '(b) ||W^k||_2 for W = [[a, c], [0, a]]: rho = a < 1 but ||W||_2 > 1 when the coupling c is large enough, so the ' +
    'norms rise above 1 before they decay. (c) A tanh RNN (1 input, H hidden, seeded) trained for a few epochs on ' +
    'predicting the mean of its last 3 inputs; then ||dh_T/dh_{T-lag}||_2 from its weights along a validation ' +
    'sequence, and the ||dL/dh_t|| the engine recorded in the last training step.',
  usesEngine: true,
  params: {
    sBelow: { kind: 'number', label: 's below 1', description: 'A scalar weight that should vanish.', default: 0.9, min: 0.1, max: 1.5, step: 0.01 },
    sAbove: { kind: 'number', label: 's above 1', description: 'A scalar weight that should explode.', default: 1.1, min: 0.5, max: 2, step: 0.01 },
    scalarSteps: { kind: 'number', label: 'scalar steps T', description: 'Lags of the scalar model.', default: 50, min: 1, max: 200, integer: true },
    diag: { kind: 'number', label: 'diagonal a (= rho)', description: 'Both eigenvalues of the 2x2 matrix.', default: 0.9, min: 0, max: 1.2, step: 0.01 },
    coupling: { kind: 'number', label: 'coupling c', description: 'Off-diagonal entry: the non-normal part.', default: 1.5, min: 0, max: 10, step: 0.05 },
    powerSteps: { kind: 'number', label: 'powers k', description: 'Largest power of W computed.', default: 100, min: 10, max: 500, integer: true },
    hidden: { kind: 'number', label: 'hidden size H', description: 'Hidden units of the tanh RNN.', default: 16, min: 2, max: 64, integer: true },
    seqLen: { kind: 'number', label: 'sequence length', description: 'Steps of the training sequences (the largest lag).', default: 20, min: 4, max: 60, integer: true },
    epochs: { kind: 'number', label: 'epochs', description: 'Training epochs on 512 sequences.', default: 4, min: 0, max: 20, integer: true },
    recurrentScale: { kind: 'number', label: 'W_hh scale at init', description: 'Factor on the initial recurrent weights (large: saturation or chaos).', default: 1, min: 0.1, max: 5, step: 0.05 },
    seed: { kind: 'number', label: 'seed', description: 'Seed of the weights and the data.', default: 1, min: 0, max: 1000, integer: true },
    lagRatioBound: { kind: 'number', label: 'ratio bound', description: 'The trained RNN\'s ||dh_T/dh_0|| / ||dh_T/dh_{T-1}|| must be below this.', default: 0.01, min: 1e-6, max: 1, step: 0.001 },
  },
  body(p) {
    // (a) the scalar model
    const Ts = p.scalarSteps;
    const scalarValues = [p.sBelow, 1, p.sAbove];
    // scalarGradient's entry k is |s|^(T-k); reversed it is indexed by the lag 0..T.
    const curves = scalarValues.map((s) => ({ s, gradient: toArray(scalarGradient(s, Ts)).reverse() }));
    // (b) transient growth of a non-normal matrix
    const W = [[p.diag, p.coupling], [0, p.diag]];
    const tg = transientGrowth(W, { maxSteps: p.powerSteps });
    const norms = toArray(tg.norms);
    // (c) a briefly trained tanh RNN
    const T = p.seqLen, H = p.hidden;
    const rnn = new RNN({ inputSize: 1, hiddenSize: H, batchFirst: true, seed: p.seed });
    const model = new SequenceModel({ rnn, head: new Linear({ inFeatures: H, outFeatures: 1, seed: p.seed + 1 }), headInput: 'last' });
    let trained: VanishingExplodingData['trained'];
    try {
      if (p.recurrentScale !== 1) {
        const sd = rnn.stateDict();
        const w = sd.weight_hh_l0!.data;
        for (let i = 0; i < w.length; i++) w[i] = w[i]! * p.recurrentScale;
        rnn.loadStateDict(sd);
      }
      const train = lastMeanTask(512, T, p.seed + 100), val = lastMeanTask(128, T, p.seed + 200);
      const lossBefore = evaluate(model, val).loss;
      let recorded: Float32Array | undefined;
      if (p.epochs > 0) {
        fit(model, train, {
          epochs: p.epochs, batchSize: 32, seed: p.seed, clipGradNorm: 1, optimizer: new Adam(model.parameters(), { lr: 0.01 }),
          recordGradNorms: true, onStepEnd: (s) => { recorded = s.hiddenGradNorms; },
        });
      }
      const lossAfter = evaluate(model, val).loss;
      const vx = val.inputs.data as ArrayLike<number>;
      const seq = Array.from({ length: T }, (_, t) => vx[t]!);
      const gf = gradientFlow(rnn, seq);
      // gradientFlow's entry k is lag T - k; reorder by lag 1..T.
      const jac = range(T).map((i) => gf.norms[T - 1 - i]!);
      const rec = recorded ? range(T).map((i) => recorded![T - 1 - i]!) : [];
      const sd = rnn.stateDict();
      const weights = {
        weightIh: toArray(sd.weight_ih_l0!.data), weightHh: toArray(sd.weight_hh_l0!.data),
        biasIh: toArray(sd.bias_ih_l0!.data), biasHh: toArray(sd.bias_hh_l0!.data),
      };
      trained = {
        lossBefore, lossAfter, lag: range(T).map((i) => i + 1), jacobianNorms: jac, recordedNorms: rec,
        lagRatio: jac[T - 1]! / jac[0]!, slopePerStep: gf.slopePerStep, verdict: gf.verdict,
        weights, sequence: seq,
      };
    } finally {
      model.dispose();
    }
    const data: VanishingExplodingData = {
      scalar: { lag: range(Ts + 1), curves },
      transient: { W, norms, spectralRadius: tg.spectralRadius, spectralNorm: norms[1]!, peak: tg.maxNorm, peakStep: tg.argmaxStep },
      trained,
    };
    const K = p.powerSteps;
    const checks = [
      check(`(a) |dh_T/dh_0| = ${fmt(p.sBelow)}^${Ts} (vanishes)`, curves[0]!.gradient[Ts]!, '<', 1),
      check(`(a) |dh_T/dh_0| = ${fmt(p.sAbove)}^${Ts} (explodes)`, curves[2]!.gradient[Ts]!, '>', 1),
      check('(b) spectral radius of W', tg.spectralRadius, '<', 1),
      check('(b) ||W||_2 (a single step can amplify)', norms[1]!, '>', 1),
      check('(b) max_k ||W^k||_2 (transient growth)', tg.maxNorm, '>', 1),
      check(`(b) ||W^${K}||_2 (eventual decay)`, norms[K]!, '<', 1),
      check(`(c) trained RNN: ||dh_T/dh_0|| / ||dh_T/dh_{T-1}|| (lag ${T} over lag 1)`, trained.lagRatio, '<', p.lagRatioBound),
    ];
    const summary = `(a) ${fmt(p.sBelow)}^${Ts} = ${fmt(curves[0]!.gradient[Ts]!)}, ${fmt(p.sAbove)}^${Ts} = ` +
      `${fmt(curves[2]!.gradient[Ts]!)}. (b) rho = ${fmt(tg.spectralRadius)} but ||W||_2 = ${fmt(norms[1]!)}; ||W^k|| ` +
      `peaks at ${fmt(tg.maxNorm)} (k = ${tg.argmaxStep}) and is ${fmt(norms[K]!)} at k = ${K}. (c) tanh RNN (H = ${H}, ` +
      `validation MSE ${fmt(trained.lossBefore)} -> ${fmt(trained.lossAfter)}): the Jacobian product's norm at lag ${T} ` +
      `is ${fmt(trained.lagRatio)} of lag 1 (${fmt(trained.slopePerStep)} decades per step, ${trained.verdict}).`;
    const plotC: PlotSeries[] = [{ name: '||dh_T/dh_{T-lag}||_2 (gradientFlow)', x: trained.lag, y: trained.jacobianNorms }];
    if (trained.recordedNorms.length) {
      // Scaled to meet the Jacobian curve at lag 1, so the two slopes can be compared.
      const f = trained.jacobianNorms[0]! / trained.recordedNorms[0]!;
      plotC.push({ name: '||dL/dh_t|| recorded in training (scaled)', x: trained.lag, y: trained.recordedNorms.map((v) => v * f), dashed: true });
    }
    return {
      data, checks, summary,
      plots: [
        {
          type: 'line', title: '(a) Scalar model: |dh_T/dh_{T-lag}| = |s|^lag', xLabel: 'lag', yLabel: 'gradient', logY: true,
          series: curves.map((c) => ({ name: `s = ${fmt(c.s)}`, x: data.scalar.lag, y: c.gradient })),
          hLines: [{ y: 1, label: '1' }],
        },
        {
          type: 'line', title: `(b) ||W^k||_2 for W = [[${fmt(p.diag)}, ${fmt(p.coupling)}], [0, ${fmt(p.diag)}]]`,
          xLabel: 'power k', yLabel: '||W^k||_2', logY: true,
          series: [
            { name: '||W^k||_2', x: range(K + 1), y: norms },
            { name: 'rho^k', x: range(K + 1), y: range(K + 1).map((k) => tg.spectralRadius ** k), dashed: true },
          ],
          hLines: [{ y: 1, label: '1' }],
        },
        {
          type: 'line', title: `(c) Trained tanh RNN (H = ${H}): gradient against lag`, xLabel: 'lag', yLabel: 'norm', logY: true,
          series: plotC,
        },
      ],
    };
  },
});
