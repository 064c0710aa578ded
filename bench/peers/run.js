// bench/peers runner (`npm run bench:peers` = `node bench/peers/run.js --install`, `npm run build`, then
// `node bench/peers/run.js`). With --install it only makes sure bench/peers/node_modules matches
// bench/peers/package-lock.json (`npm ci` there when it is missing or older than the lock file). Otherwise it
// bundles bench/peers.ts with esbuild into bench/.build/peers.js (the library from dist/, the peers left external
// and loaded from bench/peers/node_modules) and runs it in a fresh node process with the other arguments
// (e.g. --cells LSTM --hidden 256; a filtered run writes no results file).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const peers = path.join(root, 'bench', 'peers');
const args = process.argv.slice(2);

if (args.includes('--install')) {
  const lock = path.join(peers, 'package-lock.json');
  const installed = path.join(peers, 'node_modules', '.package-lock.json');
  const stale = !fs.existsSync(installed) || fs.statSync(installed).mtimeMs < fs.statSync(lock).mtimeMs;
  if (stale) {
    console.log('bench/peers: installing the peers (npm ci in bench/peers)');
    // onnxruntime-node's install script would download CUDA parts: skipped (npm 11 may not run it anyway).
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peers, stdio: 'inherit',
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  } else {
    console.log('bench/peers: peers installed and up to date');
  }
  openblas();
  process.exit(0);
}

// Debian's python3-torch links libblas.so.3, which is the reference BLAS unless an optimised one is installed
// (about 4x slower LSTM forward at hidden 128). Without touching the system, take Debian's OpenBLAS package and
// unpack it under bench/peers/node_modules/.openblas; bench/peers.ts puts it on the torch child's
// LD_LIBRARY_PATH (a system-wide /usr/lib/x86_64-linux-gnu/openblas-pthread is used first when present).
function openblas() {
  const sys = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3';
  const dest = path.join(peers, 'node_modules', '.openblas');
  if (fs.existsSync(sys) || fs.existsSync(path.join(dest, 'usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3'))) {
    return;
  }
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return;
  console.log('bench/peers: unpacking Debian\'s libopenblas0-pthread for the PyTorch peer');
  fs.mkdirSync(dest, { recursive: true });
  const dl = spawnSync('apt-get', ['download', 'libopenblas0-pthread'], { cwd: dest, stdio: 'inherit' });
  const deb = fs.readdirSync(dest).find((f) => f.endsWith('.deb'));
  if (dl.status !== 0 || !deb || spawnSync('dpkg', ['-x', deb, '.'], { cwd: dest, stdio: 'inherit' }).status !== 0) {
    console.log('bench/peers: could not get OpenBLAS; PyTorch runs on the system BLAS (noted in the results)');
  }
}

for (const f of ['build/rnn-simd.wasm', 'dist/index.js', 'bench/peers/node_modules/.package-lock.json']) {
  if (!fs.existsSync(path.join(root, f))) {
    console.error(`${f} is missing: run \`npm run bench:peers\` (installs the peers, builds, runs)`);
    process.exit(1);
  }
}
// bench/assembly/peak.ts, as bench/run.js builds it, for the batch-1 read floor and the batch-32 fraction of peak.
process.chdir(root);
const asc = (await import('assemblyscript/asc')).default;
// Both builds: the read floor uses the plain one's stream_read, the fraction of peak the build of our flavour.
for (const target of ['simd', 'relaxed']) {
  const built = await asc.main(['bench/assembly/peak.ts', '--config', 'bench/asconfig.json', '--target', target],
    { stdout: process.stdout, stderr: process.stderr });
  if (built.error) {
    console.error(`asc failed (bench/assembly/peak.ts, ${target}): ${built.error.message}`);
    process.exit(1);
  }
}
const esbuild = await import('esbuild');
await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['bench/peers.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'es2022',
  outdir: 'bench/.build',
  sourcemap: true,
  logLevel: 'warning',
});
// --expose-gc: bench/peers.ts collects the heap before each block of timed runs (see alternate()).
const r = spawnSync(process.execPath, ['--expose-gc', path.join(root, 'bench', '.build', 'peers.js'), ...args],
  { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
