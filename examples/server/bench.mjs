#!/usr/bin/env node
/**
 * Load generator for the inference server: for 1, 64 and 1024 concurrent sessions, each a closed loop of
 * `POST /sessions/:id/step` over keep-alive connections (node:http, one socket per session), with continuous
 * batching (--batch-window-ms 2) and without (--batch-window-ms 0). Reports requests/s and p50/p99 latency and
 * writes bench/results/server.json.
 *
 *   node examples/server/bench.mjs [--seconds 5] [--model FILE] [--out bench/results/server.json]
 */
import http from 'node:http';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '4' },
  model: { type: 'string' },
  out: { type: 'string', default: join(root, 'bench/results/server.json') },
} });
const seconds = Number(values.seconds);
const CONCURRENCY = [1, 64, 1024];
const WINDOWS = [2, 0];

function startServer(window, model) {
  const args = [join(here, 'server.mjs'), '--port', '0', '--batch-window-ms', String(window), '--max-sessions', '2048',
    '--max-batch', '1024', ...(model ? ['--model', model] : [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (c) => {
      out += c;
      const m = /listening on http:\/\/([\d.]+):(\d+)/.exec(out);
      if (m) resolve({ proc, host: m[1], port: Number(m[2]) });
    });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}

function request(agent, srv, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const r = http.request({ agent, host: srv.host, port: srv.port, method, path,
      headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    r.on('error', reject);
    r.end(data);
  });
}

async function run(srv, n, inputSize) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n + 8 });
  const ids = [];
  for (let i = 0; i < n; i += 64) {
    ids.push(...await Promise.all(Array.from({ length: Math.min(64, n - i) }, () =>
      request(agent, srv, 'POST', '/sessions').then((r) => r.id))));
  }
  const x = Array.from({ length: inputSize }, (_, i) => 0.1 * (i + 1));
  // Warm-up (connections, JIT), then the timed part.
  await Promise.all(ids.map((id) => request(agent, srv, 'POST', `/sessions/${id}/step`, { x })));
  const h0 = (await request(agent, srv, 'GET', '/health')).batching;
  const lat = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(ids.map(async (id) => {
    while (performance.now() < end) {
      const s = performance.now();
      await request(agent, srv, 'POST', `/sessions/${id}/step`, { x });
      lat.push(performance.now() - s);
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const h1 = (await request(agent, srv, 'GET', '/health')).batching;
  const meanBatch = (h1.steps - h0.steps) / Math.max(1, h1.batches - h0.batches);
  for (let i = 0; i < n; i += 64) {
    await Promise.all(ids.slice(i, i + 64).map((id) => request(agent, srv, 'DELETE', `/sessions/${id}`)));
  }
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { requests: lat.length, seconds: elapsed, rps: lat.length / elapsed, p50Ms: q(0.5), p99Ms: q(0.99),
    meanBatch };
}

// Two models: the bundled LSTM(1, 32) (a step costs microseconds: HTTP and JSON dominate) and an LSTM(64, 512) x 2
// layers + Linear(512, 8) written here (a step of one row is ~2 matrix-vector products of 2048 x 576 per layer).
const { init, LSTM, Linear, SequenceModel, saveModel } = await import('../../dist/index.js');
await init({ threads: 1 });
const bigPath = join(tmpdir(), `rnn-wasm-bench-big-${process.pid}.safetensors`);
{
  const m = new SequenceModel({ rnn: new LSTM({ inputSize: 64, hiddenSize: 512, numLayers: 2, seed: 1 }),
    head: new Linear({ inFeatures: 512, outFeatures: 8, seed: 2 }) });
  await writeFile(bigPath, saveModel(m));
  m.dispose();
}
const MODELS = values.model ? [[values.model, values.model]] : [
  ['default LSTM(1, 32) + Linear(32, 1)', undefined],
  ['LSTM(64, 512) x 2 layers + Linear(512, 8)', bigPath],
];
const results = [];
for (const [modelName, modelPath] of MODELS) for (const window of WINDOWS) {
  const srv = await startServer(window, modelPath);
  const info = await request(undefined, srv, 'GET', '/health');
  for (const n of CONCURRENCY) {
    const r = await run(srv, n, info.model.inputSize);
    const row = { model: modelName, batchWindowMs: window, sessions: n, requests: r.requests, rps: Math.round(r.rps),
      p50Ms: +r.p50Ms.toFixed(2), p99Ms: +r.p99Ms.toFixed(2),
      meanBatch: +r.meanBatch.toFixed(1) };
    results.push(row);
    console.log(`${modelName}: window ${window} ms, ${String(n).padStart(4)} sessions: ${String(row.rps).padStart(6)} req/s, ` +
      `p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms (mean batch ${row.meanBatch})`);
  }
  srv.proc.kill('SIGTERM');
  await new Promise((r) => srv.proc.once('exit', r));
}
rmSync(bigPath, { force: true });
const out = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model,
  secondsPerRun: seconds,
  client: 'node:http closed loop per session, keep-alive, same machine as the server', results };
await mkdir(dirname(values.out), { recursive: true });
await writeFile(values.out, `${JSON.stringify(out, null, 2)}\n`);
console.log(`wrote ${values.out}`);
