// Bundles bench/forward-ab.ts with esbuild into bench/.build/ (the library from dist/: run `npm run build`
// first) and runs it in a fresh node process with these arguments (see that file for the flags).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await esbuild.build({
  absWorkingDir: root, entryPoints: ['bench/forward-ab.ts'], bundle: true, platform: 'node', format: 'esm',
  target: 'es2022', outdir: 'bench/.build', sourcemap: true, logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd',
  path.join(root, 'bench', '.build', 'forward-ab.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
