#!/usr/bin/env python3
"""PyTorch side of bench/peers: a persistent child process that bench/peers.ts drives.

Protocol: one JSON object per line on stdin, one JSON answer per line on stdout ({"ok": ...} or {"error": ...}).
Tensors travel as raw little-endian float32 files (C order) in a temporary directory the caller owns; shapes are
given in the commands. Timing happens here (time.perf_counter_ns around each call, as a PyTorch user would time
it), so the pipe's latency is not counted; the caller alternates batches of our runs with batches of these.

Commands (cmd):
  init      {threads}                                   -> {torch, numpy, threads, blas (libraries mapped)}
  load      {name, cell, input, hidden, weights: {state-dict name: file}}       (LSTM, GRU, RNN with tanh)
  tensor    {name, file, shape, grad?}                  stores a tensor (grad: requires_grad)
  forward   {model, x, h0?, c0?, out}                   writes out+'output', 'hN', 'cN' (no_grad)
  time_forward {model, x, runs}                         -> {times: ms per call}
  steps     {model, x, steps, out}                      x (1, B, I) fed `steps` times from zero states, state
                                                        carried; writes out+'h', 'c'
  time_steps {model, x, steps, runs}                    -> {times: ms per step, each the mean over `steps` steps}
  train     {model, x, target, lr, runs, out?}          `runs` SGD steps (MSE on every output); with out: writes
                                                        the loss and the updated parameters -> {times, losses}
"""
import json
import sys
import time

import numpy as np
import torch

models = {}
optims = {}
tensors = {}


def load_f32(path, shape):
    return torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(shape).copy())


def save_f32(path, t):
    t.detach().contiguous().numpy().astype('<f4').tofile(path)


def make(cell, I, H):
    if cell == 'LSTM':
        return torch.nn.LSTM(I, H)
    if cell == 'GRU':
        return torch.nn.GRU(I, H)
    return torch.nn.RNN(I, H, nonlinearity='tanh')


def run_model(m, x, h0=None, c0=None):
    if isinstance(m, torch.nn.LSTM):
        if h0 is None:
            out, (h, c) = m(x)
        else:
            out, (h, c) = m(x, (h0, c0))
        return out, h, c
    out, h = m(x) if h0 is None else m(x, h0)
    return out, h, None


def handle(r):
    cmd = r['cmd']
    if cmd == 'init':
        torch.set_num_threads(int(r.get('threads', 1)))
        torch.set_num_interop_threads(1)
        with open('/proc/self/maps') as f:
            libs = sorted({line.split()[-1] for line in f if 'blas' in line.split()[-1]})
        return {'torch': torch.__version__, 'numpy': np.__version__, 'threads': torch.get_num_threads(),
                'blas': ', '.join(libs) or 'unknown'}
    if cmd == 'load':
        m = make(r['cell'], r['input'], r['hidden'])
        sd = m.state_dict()
        new = {k: load_f32(r['weights'][k], tuple(v.shape)) for k, v in sd.items()}
        m.load_state_dict(new)
        models[r['name']] = m
        optims.pop(r['name'], None)
        return {'params': list(sd.keys())}
    if cmd == 'tensor':
        t = load_f32(r['file'], tuple(r['shape']))
        if r.get('grad'):
            t.requires_grad_(True)
        tensors[r['name']] = t
        return {}
    if cmd == 'free':
        for k in r.get('models', []):
            models.pop(k, None)
            optims.pop(k, None)
        for k in r.get('tensors', []):
            tensors.pop(k, None)
        return {}
    if cmd == 'forward':
        m = models[r['model']]
        with torch.no_grad():
            out, h, c = run_model(m, tensors[r['x']], tensors.get(r.get('h0')), tensors.get(r.get('c0')))
        save_f32(r['out'] + 'output', out)
        save_f32(r['out'] + 'hN', h)
        if c is not None:
            save_f32(r['out'] + 'cN', c)
        return {}
    if cmd == 'time_forward':
        m = models[r['model']]
        x = tensors[r['x']]
        times = []
        with torch.no_grad():
            for _ in range(int(r['runs'])):
                t0 = time.perf_counter_ns()
                run_model(m, x)
                times.append((time.perf_counter_ns() - t0) / 1e6)
        return {'times': times}
    if cmd in ('steps', 'time_steps'):
        m = models[r['model']]
        x = tensors[r['x']]
        B = x.shape[1]
        H = m.hidden_size
        lstm = isinstance(m, torch.nn.LSTM)
        times = []
        with torch.no_grad():
            h = torch.zeros(1, B, H)
            c = torch.zeros(1, B, H) if lstm else None
            n = int(r['steps'])
            for _ in range(1 if cmd == 'steps' else int(r['runs'])):
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    _, h, c = run_model(m, x, h, c)
                times.append((time.perf_counter_ns() - t0) / 1e6 / n)
        if cmd == 'steps':
            save_f32(r['out'] + 'h', h)
            if lstm:
                save_f32(r['out'] + 'c', c)
            return {}
        return {'times': times}
    if cmd == 'train':
        name = r['model']
        m = models[name]
        if name not in optims:
            optims[name] = torch.optim.SGD(m.parameters(), lr=float(r['lr']))
        opt = optims[name]
        x = tensors[r['x']]
        target = tensors[r['target']]
        times = []
        losses = []
        for _ in range(int(r['runs'])):
            t0 = time.perf_counter_ns()
            opt.zero_grad()
            x.grad = None
            out, _, _ = run_model(m, x)
            loss = torch.nn.functional.mse_loss(out, target)
            loss.backward()
            opt.step()
            times.append((time.perf_counter_ns() - t0) / 1e6)
            losses.append(loss.item())
        if r.get('out'):
            for k, v in m.state_dict().items():
                save_f32(r['out'] + k, v)
        return {'times': times, 'losses': losses}
    raise ValueError(f'unknown command {cmd!r}')


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
            ans = {'ok': handle(r)}
        except Exception as e:  # noqa: BLE001 - reported to the caller, which fails the check
            ans = {'error': f'{type(e).__name__}: {e}'}
        sys.stdout.write(json.dumps(ans) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
