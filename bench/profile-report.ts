/**
 * Reads the .cpuprofile files that `node --cpu-prof` wrote for `split.js --profile-loop <cell>` and prints the
 * self time of each WebAssembly function, and the split of the cell's *_forward between gemm_forward (input
 * projection, with its panel kernels) and the rest (recurrent steps). Usage: profile-report.js <dir>.
 */
import fs from 'node:fs';
import path from 'node:path';
import { table } from './util.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: profile-report.js <dir>');
for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
  const p = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  let total = 0;
  let inGemm = 0;
  let inKernel = 0;
  const kernelName = /(lstm|gru|rnn)_forward$/;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000; // ms
    const n = byId.get(p.samples[i]!)!;
    const name = n.callFrame.functionName || '(anonymous)';
    total += dt;
    self.set(name, (self.get(name) ?? 0) + dt);
    let gemm = false;
    let kernel = false;
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const fn = byId.get(id)!.callFrame.functionName;
      if (fn.endsWith('gemm_forward')) gemm = true;
      if (kernelName.test(fn)) kernel = true;
    }
    if (kernel) inKernel += dt;
    if (kernel && gemm) inGemm += dt;
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14)
    .map(([name, ms]) => [name.slice(0, 60), ms.toFixed(0), `${((100 * ms) / total).toFixed(1)}%`]);
  console.log(`\n== cpu profile ${f}: self time by function (total ${total.toFixed(0)} ms) ==`);
  console.log(table(['function', 'ms', 'share'], rows));
  console.log(`inside the cell kernel: ${inKernel.toFixed(0)} ms (${((100 * inKernel) / total).toFixed(1)}% of all); ` +
    `gemm_forward (input projection) ${inGemm.toFixed(0)} ms = ${((100 * inGemm) / inKernel).toFixed(1)}% of the ` +
    `kernel, recurrent steps and the rest ${(inKernel - inGemm).toFixed(0)} ms = ` +
    `${((100 * (inKernel - inGemm)) / inKernel).toFixed(1)}%`);
}
