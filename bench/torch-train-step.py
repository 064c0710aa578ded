"""PyTorch's training step at batch 32, hidden 256 on one thread (the issue's reference for bench/train-step):
forward of (T=100, B=32, I=32) through one layer, MSE on the outputs, backward, Adam step (the input does not
require grad). Default: prints JSON with the median ms of --rounds steps per cell after 3 warm-up steps.
--serve: builds and warms the three models, prints "ready", then for each line naming a cell (LSTM, GRU, RNN) on
stdin runs one step and prints its ms (bench/train-step interleaves these with its own steps).
Run: /usr/bin/python3 bench/torch-train-step.py [--rounds N | --serve]"""
import json, sys, time
import torch

torch.set_num_threads(1)
T, B, I, H = 100, 32, 32, 256
torch.manual_seed(0)
x = torch.randn(T, B, I)
target = 0.5 * torch.randn(T, B, H)
models = {}
for name, cls in (('LSTM', torch.nn.LSTM), ('GRU', torch.nn.GRU), ('RNN', torch.nn.RNN)):
    m = cls(I, H, 1)
    models[name] = (m, torch.optim.Adam(m.parameters(), lr=1e-3))


def step(name):
    m, opt = models[name]
    t0 = time.perf_counter()
    opt.zero_grad()
    y, _ = m(x)
    loss = torch.nn.functional.mse_loss(y, target)
    loss.backward()
    opt.step()
    return (time.perf_counter() - t0) * 1e3


for name in models:
    for _ in range(3):
        step(name)
if '--serve' in sys.argv:
    print('ready', flush=True)
    for line in sys.stdin:
        name = line.strip()
        if name:
            print(f'{step(name):.4f}', flush=True)
    sys.exit(0)
rounds = int(sys.argv[sys.argv.index('--rounds') + 1]) if '--rounds' in sys.argv else 15
out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'T': T, 'B': B, 'I': I, 'H': H, 'ms': {}}
for name in models:
    ts = sorted(step(name) for _ in range(rounds))
    out['ms'][name] = {'median': ts[len(ts) // 2], 'min': ts[0], 'max': ts[-1], 'runs': rounds}
print(json.dumps(out))
