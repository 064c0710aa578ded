// bench/cold-start: time to a first result in a fresh Node process. Each run spawns `node bench/cold-start.js
// --child <mode>`, which imports the built library (dist/index.js), awaits init(), creates
// LSTM({ inputSize: 32, hiddenSize: 256 }) and runs one forward over (100, 1, 32), printing performance.now()
// marks (Node counts them from the start of the process). Reported: medians over --runs fresh processes (default 9)
// of process start → child script running (Node's own start-up), → after import, → after init, → model made,
// → first result; 'after import → first result' (the issue's target: < 30 ms) and 'process start → first
// result'; and, timed in the same run from the parent, the wall time of `node -e 0` and of a whole child.
//
// Where the time goes, each in fresh processes too (--runs of each, interleaved with the main runs):
//  - import: every module of index.js but io/onnx.js (what a lazily imported ONNX module would leave),
//    dist/runtime/engine.js + dist/nn/recurrent.js only (what init/LSTM/forward need), `@bufbuild/protobuf`
//    alone and dist/io/onnx.js alone;
//  - compile: the .wasm compiled with WebAssembly.compile (what init() does in Node), new WebAssembly.Module
//    (synchronous) and WebAssembly.compileStreaming over a Response (what browsers do), the file read apart;
//  - the split of `new LSTM`: PyTorch's uniform initialisation drawn in JS (timed alone, cold, as resetParameters
//    draws it) and the rest (packing in wasm, allocation).
// Writes bench/results/cold-start.json (not with --no-write). Run after `npm run build`.
const CHILD = process.argv[2] === '--child';

if (CHILD) {
  const t0 = performance.now();
  const mode = process.argv[3];
  const dist = new URL('../dist/', import.meta.url);
  const marks = { start: t0 };
  if (mode === 'full' || mode === 'full-nowarm' || mode === 'core' || mode === 'no-onnx') {
    let lib;
    if (mode === 'full' || mode === 'full-nowarm') {
      lib = await import(new URL('index.js', dist).href);
    } else if (mode === 'no-onnx') {
      // Every module dist/index.js re-exports except io/onnx.js: the import a lazily loaded ONNX module leaves.
      const fs = await import('node:fs');
      const src = fs.readFileSync(new URL('index.js', dist), 'utf8');
      const mods = [...new Set([...src.matchAll(/from '\.\/([^']+)'/g)].map((m) => m[1]))]
        .filter((f) => f !== 'io/onnx.js');
      const loaded = await Promise.all(mods.map((f) => import(new URL(f, dist).href)));
      lib = Object.assign({}, ...loaded);
    } else {
      const [e, r] = await Promise.all([import(new URL('runtime/engine.js', dist).href),
        import(new URL('nn/recurrent.js', dist).href)]);
      lib = { init: e.init, LSTM: r.LSTM };
    }
    marks.imported = performance.now();
    await lib.init(mode === 'full-nowarm' ? { warmUp: false } : {});
    marks.initialized = performance.now();
    const lstm = new lib.LSTM({ inputSize: 32, hiddenSize: 256 });
    marks.model = performance.now();
    const x = new Float32Array(100 * 32);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
    const r = lstm.forward({ data: x, shape: [100, 1, 32] });
    marks.first = performance.now();
    if (!Number.isFinite(r.hN.data[0])) throw new Error('non-finite result');
    // A second forward: how much of the first was one-time (lazy compilation, tier-up, memory growth).
    lstm.forward({ data: x, shape: [100, 1, 32] });
    marks.second = performance.now();
  } else if (mode === 'draws') {
    // What `new LSTM(32, 256)` draws in JavaScript for PyTorch's initialisation, the same way (resetParameters):
    // 4*256*(32+256) + 2*4*256 uniforms, cold.
    const { Random } = await import(new URL('nn/random.js', dist).href);
    marks.imported = performance.now();
    const rng = new Random(1);
    const k = 1 / Math.sqrt(256);
    let sum = 0;
    for (const n of [4 * 256 * 32, 4 * 256 * 256, 4 * 256, 4 * 256]) {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = rng.uniform(-k, k);
      sum += a[n - 1];
    }
    marks.drawn = performance.now();
    if (!Number.isFinite(sum)) throw new Error('non-finite');
  } else if (mode === 'protobuf' || mode === 'onnx') {
    await import(mode === 'protobuf' ? '@bufbuild/protobuf' : new URL('io/onnx.js', dist).href);
    marks.imported = performance.now();
  } else if (mode.startsWith('compile-')) {
    const fs = await import('node:fs/promises');
    const file = new URL('../build/rnn-simd.wasm', import.meta.url);
    if (mode === 'compile-streaming') new Response(''); // Node loads its fetch implementation on first use: not timed
    marks.ready = performance.now();
    const bytes = await fs.readFile(file);
    marks.read = performance.now();
    let module;
    if (mode === 'compile-async') module = await WebAssembly.compile(bytes);
    else if (mode === 'compile-sync') module = new WebAssembly.Module(bytes);
    else {
      module = await WebAssembly.compileStreaming(new Response(bytes,
        { headers: { 'content-type': 'application/wasm' } }));
    }
    marks.compiled = performance.now();
    const memory = new WebAssembly.Memory({ initial: 16 });
    await WebAssembly.instantiate(module, { env: { memory } });
    marks.instantiated = performance.now();
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
  process.stdout.write(`${JSON.stringify(marks)}\n`);
} else {
  const { spawnSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const self = fileURLToPath(import.meta.url);
  const argv = process.argv.slice(2);
  const ri = argv.indexOf('--runs');
  const runs = ri >= 0 ? Number(argv[ri + 1]) : 9;
  const GOAL = 30;
  for (const f of ['build/rnn-simd.wasm', 'dist/index.js']) {
    if (!fs.existsSync(path.join(root, f))) {
      console.error(`${f} is missing: run \`npm run build\` first`);
      process.exit(1);
    }
  }
  const wall = (args) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
    return { ms, out: r.stdout };
  };
  const child = (mode) => {
    const { ms, out } = wall([self, '--child', mode]);
    return { wall: ms, ...JSON.parse(out.trim().split('\n').pop()) };
  };
  const median = (a) => {
    const s = [...a].sort((x, y) => x - y);
    const n = s.length;
    return n % 2 ? s[(n - 1) >> 1] : (s[n / 2 - 1] + s[n / 2]) / 2;
  };
  const st = (a) => ({ median: +median(a).toFixed(2), min: +Math.min(...a).toFixed(2), max: +Math.max(...a).toFixed(2),
    runs: a.length });

  const modes = ['full', 'full-nowarm', 'core', 'no-onnx', 'draws', 'protobuf', 'onnx', 'compile-async', 'compile-sync', 'compile-streaming'];
  const rec = { empty: [] };
  for (const m of modes) rec[m] = [];
  wall(['-e', '0']); // warm the file cache
  child('full');
  for (let i = 0; i < runs; i++) {
    rec.empty.push(wall(['-e', '0']).ms);
    for (const m of modes) rec[m].push(child(m));
  }
  const of = (m, f) => st(rec[m].map(f));
  const full = {
    nodeStart: of('full', (r) => r.start),
    import: of('full', (r) => r.imported - r.start),
    init: of('full', (r) => r.initialized - r.imported),
    model: of('full', (r) => r.model - r.initialized),
    firstForward: of('full', (r) => r.first - r.model),
    secondForward: of('full', (r) => r.second - r.first),
    afterImportToFirst: of('full', (r) => r.first - r.imported),
    processStartToFirst: of('full', (r) => r.first),
    wall: of('full', (r) => r.wall),
  };
  const noWarm = {
    init: of('full-nowarm', (r) => r.initialized - r.imported),
    firstForward: of('full-nowarm', (r) => r.first - r.model),
    afterImportToFirst: of('full-nowarm', (r) => r.first - r.imported),
  };
  const core = {
    import: of('core', (r) => r.imported - r.start),
    afterImportToFirst: of('core', (r) => r.first - r.imported),
    processStartToFirst: of('core', (r) => r.first),
  };
  const noOnnx = {
    import: of('no-onnx', (r) => r.imported - r.start),
    afterImportToFirst: of('no-onnx', (r) => r.first - r.imported),
    processStartToFirst: of('no-onnx', (r) => r.first),
  };
  const imports = {
    protobufAlone: of('protobuf', (r) => r.imported - r.start),
    onnxModuleAlone: of('onnx', (r) => r.imported - r.start),
  };
  const draws = of('draws', (r) => r.drawn - r.imported);
  const compile = {};
  for (const m of ['compile-async', 'compile-sync', 'compile-streaming']) {
    compile[m.slice(8)] = { read: of(m, (r) => r.read - r.ready), compile: of(m, (r) => r.compiled - r.read),
      instantiate: of(m, (r) => r.instantiated - r.compiled) };
  }
  const empty = st(rec.empty);
  const f = (s) => `${s.median.toFixed(1)} ms`.padStart(9) + `  (${s.min.toFixed(1)}-${s.max.toFixed(1)})`;
  console.log(`\n== bench/cold-start: fresh node processes, medians of ${runs} (min-max) ==`);
  console.log(`  node -e 0 (wall, from the parent)          ${f(empty)}`);
  console.log(`  whole child (wall, from the parent)        ${f(full.wall)}`);
  console.log(`  process start -> child script running      ${f(full.nodeStart)}`);
  console.log(`  import dist/index.js                       ${f(full.import)}`);
  console.log(`  await init()                               ${f(full.init)}`);
  console.log(`  new LSTM(32, 256) (init draws + packing)   ${f(full.model)}`);
  console.log(`    of which the uniform draws in JS (cold)   ${f(draws)}   (the rest: packing, allocation)`);
  console.log(`  first forward (100, 1, 32)                 ${f(full.firstForward)}`);
  console.log(`  second forward (for comparison)            ${f(full.secondForward)}`);
  console.log(`  after import -> first result               ${f(full.afterImportToFirst)}`);
  console.log(`  process start -> first result              ${f(full.processStartToFirst)}`);
  console.log(`  without the kernel warm-up (init({ warmUp: false }), interleaved): init ${noWarm.init.median.toFixed(1)} ms, ` +
    `first forward ${noWarm.firstForward.median.toFixed(1)} ms, after import -> first result ` +
    `${noWarm.afterImportToFirst.median.toFixed(1)} ms`);
  console.log('  where the import goes:');
  console.log(`    engine.js + recurrent.js only            ${f(core.import)}   (start -> first result ${core.processStartToFirst.median.toFixed(1)} ms)`);
  console.log(`    index.js without io/onnx.js              ${f(noOnnx.import)}   (start -> first result ${noOnnx.processStartToFirst.median.toFixed(1)} ms)`);
  console.log(`    @bufbuild/protobuf alone                 ${f(imports.protobufAlone)}`);
  console.log(`    dist/io/onnx.js alone (with protobuf)    ${f(imports.onnxModuleAlone)}`);
  console.log('  build/rnn-simd.wasm: compile (file read apart), then instantiate:');
  for (const [k, v] of Object.entries(compile)) {
    console.log(`    ${k.padEnd(10)} ${f(v.compile)}   read ${v.read.median.toFixed(2)} ms, instantiate ` +
      `${v.instantiate.median.toFixed(2)} ms`);
  }
  const targets = [{ what: 'after import -> first LSTM H256 result', value: full.afterImportToFirst.median, goal: GOAL,
    ok: full.afterImportToFirst.median < GOAL }];
  console.log(`\ntarget (module compiled and first LSTM hidden-256 result < ${GOAL} ms after import)`);
  for (const t of targets) console.log(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${t.value.toFixed(1)} ms (goal < ${t.goal} ms)`);
  if (!argv.includes('--no-write')) {
    const out = {
      date: new Date().toISOString(), node: process.version, v8: process.versions.v8,
      cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length,
      loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
      config: { runs, workload: 'LSTM({ inputSize: 32, hiddenSize: 256 }), forward on (100, 1, 32)',
        unit: 'ms', marks: 'performance.now() in the child (from process start)' },
      emptyNode: empty, full, noWarmUp: noWarm, initDraws: draws, core, noOnnx, imports, compile, targets,
    };
    fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
    fs.writeFileSync(path.join(root, 'bench', 'results', 'cold-start.json'), `${JSON.stringify(out, null, 2)}\n`);
    console.log('wrote bench/results/cold-start.json');
  }
}
