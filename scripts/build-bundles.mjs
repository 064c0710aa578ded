// Builds the browser and edge bundles with esbuild (`npm run build:bundles`, part of `npm run build`):
//   bundles/browser/  rnn-wasm.mjs, analysis.mjs, classical.mjs, experiments.mjs (+ shared chunks), minified,
//                     with source maps
//   bundles/edge/     the same for edge runtimes (workerd / Cloudflare Workers, Deno Deploy, Vercel Edge)
// and copies build/rnn-*.wasm next to each. Node needs no bundle: dist/ (tsc) is already Node ESM.
//
// The entry points of a build share their chunks, so `rnn-wasm/analysis` sees the engine that `init()` of
// `rnn-wasm` loaded (one copy of the engine, of the error classes and of RecurrentLayer).
// The library reaches Node only through dynamic `import('node:...')` calls guarded by a Node check; here they
// become rejected promises, so no bundle imports anything from Node. The build fails if a bundle's metafile
// still shows an import of `node:*` or of a Node builtin (or any external import at all).
// The default `.wasm` location (`../../build/rnn-*.wasm` from dist/runtime/) becomes `./rnn-*.wasm` (the copies
// next to the bundle) in the browser build; in the edge build, `init()` without `wasm` throws an InitError that
// says to pass a compiled WebAssembly.Module (workerd forbids compiling bytes), and FinalizationRegistry / WeakRef
// fall back to stand-ins where the runtime lacks them (workerd before compatibility date 2025-05-05; see
// scripts/edge-weak-refs.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_WASM = 'new URL(`../../build/rnn-${flavour}.wasm`, import.meta.url)';
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

// `await import(/* webpackIgnore: true */ 'node:x')` (the only way src/ reaches Node) -> a rejected promise. Those
// calls sit behind a Node check and are never reached in a browser or edge runtime; the worker program that
// src/runtime/threads.ts keeps as a string (for Node workers) is left alone. An import of Node left over would
// make esbuild fail (platform browser cannot resolve it), and the metafile is checked below as well.
const NODE_IMPORT = /\bimport\(\s*\/\*\s*webpackIgnore: true\s*\*\/\s*'(node:[\w/]+)'\s*\)/g;
const noNode = (src) => src.replace(NODE_IMPORT, (_, m) =>
  `Promise.reject(new Error(${JSON.stringify(`${m} is not available in this build of rnn-wasm`)}))`);

/** Applies noNode to src/, and rewrites the default .wasm location of src/runtime/engine.ts. */
const rewrite = (location) => ({
  name: 'rnn-wasm-web',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (a) => {
      let src = noNode(fs.readFileSync(a.path, 'utf8'));
      if (/[\\/]src[\\/]runtime[\\/]engine\.ts$/.test(a.path)) {
        if (src.split(DEFAULT_WASM).length !== 2) {
          throw new Error(`build-bundles: expected one \`${DEFAULT_WASM}\` in ${a.path} (defaultLocation changed?)`);
        }
        src = src.replace(DEFAULT_WASM, location);
      }
      return { contents: src, loader: 'ts' };
    });
  },
});

const targets = [
  {
    name: 'browser',
    conditions: ['browser'],
    location: 'new URL(`./rnn-${flavour}.wasm`, import.meta.url)',
  },
  {
    name: 'edge',
    conditions: ['workerd', 'edge-light', 'worker', 'browser'],
    inject: ['scripts/edge-weak-refs.mjs'],
    location: '((f) => { throw new InitError(`the edge build of rnn-wasm has no default .wasm location: pass ' +
      'init({ wasm }) a compiled WebAssembly.Module of rnn-${f}.wasm (e.g. a CompiledWasm module import or ' +
      'wasm binding; workerd forbids compiling bytes) or, where the runtime allows it, its bytes or URL`); })(flavour)',
  },
];

const t0 = performance.now();
const metas = {};
for (const t of targets) {
  const outdir = path.join(root, 'bundles', t.name);
  fs.rmSync(outdir, { recursive: true, force: true });
  const res = await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      'rnn-wasm': 'src/index.ts', analysis: 'src/analysis/index.ts', classical: 'src/classical/index.ts',
      experiments: 'src/experiments/index.ts',
    },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    conditions: t.conditions,
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    legalComments: 'eof',
    inject: t.inject ?? [],
    plugins: [rewrite(t.location)],
    logLevel: 'warning',
  });
  const bad = [];
  for (const [file, o] of Object.entries(res.metafile.outputs)) {
    for (const imp of o.imports) {
      if (imp.external || builtins.has(imp.path) || imp.path.startsWith('node:')) bad.push(`${file} imports ${imp.path}`);
    }
  }
  for (const [file, i] of Object.entries(res.metafile.inputs)) {
    for (const imp of i.imports) {
      // (esbuild lists a TypeScript import used only as a type as external: it is dropped, so only builtins count)
      if (imp.external && (builtins.has(imp.path) || imp.path.startsWith('node:'))) bad.push(`${file} imports ${imp.path}`);
    }
  }
  if (bad.length) {
    console.error(`build-bundles: the ${t.name} build must import nothing from Node:\n  ${bad.join('\n  ')}`);
    process.exit(1);
  }
  for (const f of fs.readdirSync(path.join(root, 'build')).filter((f) => /^rnn-.*\.wasm$/.test(f))) {
    fs.copyFileSync(path.join(root, 'build', f), path.join(outdir, f));
  }
  fs.writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(res.metafile));
  metas[t.name] = res.metafile;
}
console.log(`build-bundles: bundles/browser and bundles/edge in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
