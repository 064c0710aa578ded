// Bundles bench/<name>.ts with esbuild into bench/.build/ (the library from dist/: run `npm run build` first) and
// runs it in a fresh node process (with relaxed SIMD enabled) with this process's arguments; exits with its status.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export async function runBundled(name) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  await esbuild.build({
    absWorkingDir: root, entryPoints: [`bench/${name}.ts`], bundle: true, platform: 'node', format: 'esm',
    target: 'es2022', outdir: 'bench/.build', sourcemap: true, logLevel: 'warning',
  });
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd',
    path.join(root, 'bench', '.build', `${name}.js`), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
  process.exit(r.status ?? 1);
}
