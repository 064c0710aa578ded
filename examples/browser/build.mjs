// Bundles Observable Plot (a devDependency) into examples/browser/dist/plot.mjs, a self-contained ES module the
// demo page imports (no CDN: the page and its test work offline). `node examples/browser/build.mjs`; about 0.2 s.
// Runs `npm run build` first when the library's browser bundles (bundles/browser/) are missing.
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function buildDemo() {
  await build({
    stdin: { contents: "export * from '@observablehq/plot';", resolveDir: here, loader: 'js' },
    bundle: true, format: 'esm', minify: true, target: 'es2022', platform: 'browser', legalComments: 'eof',
    outfile: path.join(here, 'dist', 'plot.mjs'), logLevel: 'warning',
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const bundles = path.join(here, '..', '..', 'bundles', 'browser');
  if (!fs.existsSync(path.join(bundles, 'rnn-wasm.mjs')) || !fs.existsSync(path.join(bundles, 'analysis.mjs'))) {
    console.log('bundles/browser/ is missing: npm run build');
    execSync('npm run build', { cwd: path.join(here, '..', '..'), stdio: 'inherit' });
  }
  const t0 = Date.now();
  await buildDemo();
  console.log(`examples/browser/dist/plot.mjs (${Date.now() - t0} ms)`);
}
