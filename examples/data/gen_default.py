#!/usr/bin/python3
"""Generates the bundled default model and sequence that `npm start` runs.

Run with Debian's PyTorch: `/usr/bin/python3 examples/data/gen_default.py` (apt-get install -y python3-torch).
Trains a small LSTM(1, 32) + Linear(32, 1) in PyTorch for one-step-ahead prediction of a noisy two-tone signal,
then writes:
  - default-model.safetensors: the state dict (`rnn.*` LSTM weights, `head.*` linear head), F32, written
    following the safetensors spec (the Python `safetensors` package is not in Debian);
  - default-sequence.json: a held-out sequence (T, B, 1), its targets, and PyTorch's outputs for it, so the
    demo can show the engine reproduces PyTorch's numbers.
Deterministic for the seed.
"""
import json, math, struct, os
import numpy as np
import torch

torch.manual_seed(0)
np.random.seed(0)
torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
H, T, B = 32, 200, 16

def signal(n, t0):
    t = np.arange(n) + t0
    return (np.sin(2 * math.pi * t / 25.0) + 0.5 * np.sin(2 * math.pi * t / 7.0)
            + 0.05 * np.random.randn(n)).astype(np.float32)

def batch(b, n):
    xs = np.stack([signal(n + 1, np.random.randint(0, 1000)) for _ in range(b)], axis=1)  # (n+1, b)
    return torch.tensor(xs[:-1, :, None]), torch.tensor(xs[1:, :, None])

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(1, H)
        self.head = torch.nn.Linear(H, 1)
    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y)

net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-2)
for step in range(300):
    x, y = batch(B, 60)
    loss = torch.mean((net(x) - y) ** 2)
    opt.zero_grad(); loss.backward(); opt.step()
print('final training loss', float(loss))

def write_safetensors(path, tensors, metadata):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype='<f4')
        b = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    header['__metadata__'] = metadata
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h))); f.write(h); f.write(b''.join(blobs))

sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
write_safetensors(os.path.join(HERE, 'default-model.safetensors'), sd,
                  {'format': 'pt', 'description': 'LSTM(1, 32) + Linear(32, 1), next-step prediction'})

with torch.no_grad():
    x, y = batch(2, T)
    out, (hn, cn) = net.rnn(x)
    pred = net.head(out)
r = lambda a: [float('%.9g' % v) for v in a.reshape(-1)]
json.dump({
    'input': {'shape': list(x.shape), 'data': r(x)},
    'target': {'shape': list(y.shape), 'data': r(y)},
    'torchHN': {'shape': list(hn.shape), 'data': r(hn)},
    'torchPrediction': {'shape': list(pred.shape), 'data': r(pred)},
    'torchVersion': torch.__version__,
}, open(os.path.join(HERE, 'default-sequence.json'), 'w'))
print('test mse', float(torch.mean((pred - y) ** 2)))

# Training data for `npm start`: the same noisy two-tone signal, batch-major (N, T, 1) inputs and next-step
# targets, a training and a validation split.
def split(n, seed):
    np.random.seed(seed)
    xs = np.stack([signal(61, np.random.randint(0, 1000)) for _ in range(n)], axis=0)  # (n, 61)
    return xs[:, :-1], xs[:, 1:]
q = lambda a: [float('%.6g' % v) for v in a.reshape(-1)]
xt, yt = split(160, 1)
xv, yv = split(40, 2)
json.dump({
    'description': 'noisy two-tone signal, next-step prediction; inputs and targets (N, T, 1), batch-major',
    'train': {'inputs': {'shape': [160, 60, 1], 'data': q(xt)}, 'targets': {'shape': [160, 60, 1], 'data': q(yt)}},
    'validation': {'inputs': {'shape': [40, 60, 1], 'data': q(xv)}, 'targets': {'shape': [40, 60, 1], 'data': q(yv)}},
}, open(os.path.join(HERE, 'default-train.json'), 'w'))
