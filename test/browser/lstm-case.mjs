// One fixed LSTM computation, run the same way in Node (test/browser.test.ts, test/edge.test.ts), in Chromium's
// main thread and Web Worker (browser-case.html, browser-case-worker.mjs) and in workerd (the edge worker):
// fixed weights and inputs, a forward pass, then one training step (training forward, MSE loss, backward,
// Adam step) and the forward pass again with the new weights. `lib` is the library's module (dist/ in Node,
// a bundle elsewhere); init() must have been called. Returns plain arrays (JSON-safe).
export const I = 3, H = 4, T = 5, B = 2;

/** Deterministic values in [-0.5, 0.5) (no Math.random, same in every runtime). */
export function fixed(n, seed) {
  const out = new Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.round((s / 4294967296 - 0.5) * 1e6) / 1e6;
  }
  return out;
}

export function stateDict() {
  return {
    weight_ih_l0: { data: fixed(4 * H * I, 1), shape: [4 * H, I] },
    weight_hh_l0: { data: fixed(4 * H * H, 2), shape: [4 * H, H] },
    bias_ih_l0: { data: fixed(4 * H, 3), shape: [4 * H] },
    bias_hh_l0: { data: fixed(4 * H, 4), shape: [4 * H] },
  };
}

export const input = () => ({ data: fixed(T * B * I, 5), shape: [T, B, I] });

/** The forward pass only (what the edge worker serves): output, hN, cN as plain arrays. */
export function forwardOnly(lib, x = input()) {
  const lstm = new lib.LSTM({ inputSize: I, hiddenSize: H });
  try {
    lstm.loadStateDict(stateDict());
    const r = lstm.forward(x);
    return { output: Array.from(r.output.data), hN: Array.from(r.hN.data), cN: Array.from(r.cN.data) };
  } finally {
    lstm.dispose();
  }
}

/** Forward, one training step, forward again. */
export function lstmCase(lib) {
  const lstm = new lib.LSTM({ inputSize: I, hiddenSize: H });
  const opt = new lib.Adam(lstm.parameters(), { lr: 0.01 });
  try {
    lstm.loadStateDict(stateDict());
    const x = input();
    const before = lstm.forward(x);
    const target = fixed(T * B * H, 6);
    const tr = lstm.forward(x, { train: true });
    const { loss, grad } = lib.mseLoss(tr.output.data, target);
    lstm.zeroGrad();
    lstm.backward({ output: { data: grad, shape: tr.output.shape } });
    const grads = lstm.gradients();
    opt.step();
    const after = lstm.forward(x);
    const w = lstm.stateDict();
    return {
      output: Array.from(before.output.data), hN: Array.from(before.hN.data), cN: Array.from(before.cN.data),
      loss, gradWeightIh: Array.from(grads.weight_ih_l0.data), weightIhAfter: Array.from(w.weight_ih_l0.data),
      outputAfter: Array.from(after.output.data),
    };
  } finally {
    opt.dispose?.();
    lstm.dispose();
  }
}
