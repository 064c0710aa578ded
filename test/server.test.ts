// The inference server (examples/server/server.mjs) run as a child process on random ports: /predict against
// model.forward in process, session lifecycle, continuous batching equivalence, bad requests, the session cap,
// the idle timeout, and two instances sharing sessions through Redis. The server imports ../../dist/index.js:
// `npm test` builds first; run `npm run build` before running this file on its own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, Linear, loadModel, LSTM, SequenceModel, saveModel, Random } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const serverDir = join(root, 'examples/server');
const script = join(serverDir, 'server.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'rnn-wasm-server-'));
const children: ChildProcess[] = [];

interface Srv { url: string; proc: ChildProcess; out: () => string }

async function start(args: string[]): Promise<Srv> {
  const proc = spawn(process.execPath, [script, '--port', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (c) => { out += c; });
  proc.stderr!.on('data', (c) => { out += c; });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    const check = () => {
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) { clearTimeout(t); resolve(m[1]!); }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  return { url, proc, out: () => out };
}

async function stop(s: Srv): Promise<number | null> {
  if (s.proc.exitCode !== null) return s.proc.exitCode;
  const done = new Promise<number | null>((r) => s.proc.once('exit', (code) => r(code)));
  s.proc.kill('SIGTERM');
  return done;
}

async function req(url: string, method: string, body?: unknown, raw?: string): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {} });
  const text = await r.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = { notJson: text }; }
  return { status: r.status, json };
}

const newSession = async (url: string): Promise<string> => {
  const r = await req(`${url}/sessions`, 'POST');
  expect(r.status).toBe(201);
  return r.json.id as string;
};
const step = async (url: string, id: string, x: number[]): Promise<number[]> => {
  const r = await req(`${url}/sessions/${id}/step`, 'POST', { x });
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json.y as number[];
};

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// A 2-layer LSTM with a head (3 inputs, 2 outputs), written as an rnn-wasm model file: exercises the gather and
// scatter of h and c over several layers.
const I2 = 3;
let model2Path = '';
let model2: SequenceModel;
let bundled: SequenceModel;
const rng = new Random(7);
const vec = (n: number): number[] => Array.from({ length: n }, () => Math.fround(rng.normal()));

beforeAll(async () => {
  await init();
  const m = new SequenceModel({ rnn: new LSTM({ inputSize: I2, hiddenSize: 16, numLayers: 2, seed: 3 }),
    head: new Linear({ inFeatures: 16, outFeatures: 2, seed: 4 }) });
  model2Path = join(tmp, 'lstm2.safetensors');
  writeFileSync(model2Path, saveModel(m));
  m.dispose();
  model2 = loadModel(readFileSync(model2Path)) as SequenceModel;
  // The bundled file is a plain state dict: LSTM(1, 32) + Linear(32, 1).
  bundled = new SequenceModel({ rnn: new LSTM({ inputSize: 1, hiddenSize: 32 }), head: new Linear({ inFeatures: 32, outFeatures: 1 }) });
  bundled.loadStateDict(readFileSync(join(root, 'examples/data/default-model.safetensors')));
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** Outputs of one session stepped alone in process. */
function reference(model: SequenceModel, xs: number[][]): number[][] {
  const s = model.rnn.createSession();
  const ys = xs.map((x) => Array.from(model.head.forward({ data: s.step(x).data, shape: [1, model.rnn.outputSize] }).data));
  s.dispose();
  return ys;
}

describe('inference server (memory store)', () => {
  let srv: Srv;
  beforeAll(async () => { srv = await start(['--batch-window-ms', '2', '--max-body-bytes', '65536']); });

  it('/predict equals model.forward in process (unbatched, batched, ragged)', async () => {
    const T = 20;
    const seq = Array.from({ length: T }, () => vec(1));
    const r = await req(`${srv.url}/predict`, 'POST', { input: seq });
    expect(r.status).toBe(200);
    const ref = bundled.forward({ data: seq.flat(), shape: [T, 1] });
    expect(maxDiff(r.json.output.flat(), ref.data)).toBeLessThan(1e-6);
    // Batched (B x T x I), with a shorter second sequence: each equals its own unbatched forward.
    const seqs = [seq, seq.slice(0, 7).map((v) => [v[0]! * 2])];
    const rb = await req(`${srv.url}/predict`, 'POST', { input: seqs });
    expect(rb.status).toBe(200);
    for (let b = 0; b < 2; b++) {
      const want = bundled.forward({ data: seqs[b]!.flat(), shape: [seqs[b]!.length, 1] });
      expect(maxDiff(rb.json.output[b].flat(), want.data)).toBeLessThan(1e-6);
    }
  });

  it('session lifecycle: create, step (equals a session alone), delete, then 404', async () => {
    const id = await newSession(srv.url);
    const xs = Array.from({ length: 10 }, () => vec(1));
    const ys = [];
    for (const x of xs) ys.push(await step(srv.url, id, x));
    expect(maxDiff(ys.flat(), reference(bundled, xs).flat())).toBeLessThan(1e-6);
    // Streaming equals /predict over the whole sequence too.
    const p = await req(`${srv.url}/predict`, 'POST', { input: xs });
    expect(maxDiff(ys.flat(), p.json.output.flat())).toBeLessThan(1e-6);
    expect((await req(`${srv.url}/sessions/${id}`, 'GET')).status).toBe(200);
    const d = await req(`${srv.url}/sessions/${id}`, 'DELETE');
    expect(d.status).toBe(200);
    for (const [m, path, body] of [['POST', `/sessions/${id}/step`, { x: [1] }], ['DELETE', `/sessions/${id}`, undefined]] as const) {
      const r = await req(`${srv.url}${path}`, m, body);
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('SESSION_NOT_FOUND');
    }
  });

  it('every bad request gets a 4xx JSON error; the session is unharmed and the server keeps working', async () => {
    const id = await newSession(srv.url);
    const xs = Array.from({ length: 4 }, () => vec(1));
    const ys: number[][] = [];
    const stepUrl = `${srv.url}/sessions/${id}/step`;
    const bads: [string, string, string | undefined, number, string][] = [
      ['POST', stepUrl, '{"x": [1, 2]}', 400, 'SHAPE_MISMATCH'],
      ['POST', stepUrl, '{"x": [[1]]}', 400, 'INVALID_INPUT'],
      ['POST', stepUrl, '{"x": 1}', 400, 'SHAPE_MISMATCH'],
      ['POST', stepUrl, '{"y": [1]}', 400, 'INVALID_INPUT'],
      ['POST', stepUrl, '{"x": ["1"]}', 400, 'INVALID_INPUT'],
      ['POST', stepUrl, '{"x": [NaN]}', 400, 'BAD_JSON'],
      ['POST', stepUrl, '{"x": [1e39]}', 400, 'NON_FINITE'],
      ['POST', stepUrl, '{"x": [1', 400, 'BAD_JSON'],
      ['POST', stepUrl, '', 400, 'BAD_JSON'],
      ['POST', stepUrl, '[1]', 400, 'INVALID_INPUT'],
      ['POST', stepUrl, JSON.stringify({ x: [1], pad: 'a'.repeat(70_000) }), 413, 'BODY_TOO_LARGE'],
      ['POST', `${srv.url}/sessions/nope/step`, '{"x": [1]}', 404, 'SESSION_NOT_FOUND'],
      ['PUT', stepUrl, '{"x": [1]}', 405, 'METHOD_NOT_ALLOWED'],
      ['GET', `${srv.url}/predict`, undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', `${srv.url}/nowhere`, undefined, 404, 'NOT_FOUND'],
      ['POST', `${srv.url}/predict`, '{"input": []}', 400, 'SHAPE_MISMATCH'],
      ['POST', `${srv.url}/predict`, '{"input": [[1, 2]]}', 400, 'SHAPE_MISMATCH'],
      ['POST', `${srv.url}/predict`, '{"input": [[1], [null]]}', 400, 'INVALID_INPUT'],
      ['POST', `${srv.url}/predict`, '{"input": [[[1]], [[1], 2]]}', 400, 'SHAPE_MISMATCH'],
      ['POST', `${srv.url}/predict`, '{"inputs": [[1]]}', 400, 'INVALID_INPUT'],
    ];
    let i = 0;
    for (const [m, url, raw, status, code] of bads) {
      // Interleave good steps: each must continue the stream as if the bad requests never happened.
      if (i % 5 === 0 && ys.length < xs.length) ys.push(await step(srv.url, id, xs[ys.length]!));
      i++;
      const r = await req(url, m, undefined, raw);
      expect(r.status, `${m} ${url} ${raw?.slice(0, 40)}`).toBe(status);
      expect(r.json.error?.code, `${m} ${url} ${raw?.slice(0, 40)}`).toBe(code);
      expect(typeof r.json.error.message).toBe('string');
    }
    while (ys.length < xs.length) ys.push(await step(srv.url, id, xs[ys.length]!));
    expect(maxDiff(ys.flat(), reference(bundled, xs).flat())).toBeLessThan(1e-6);
    const h = await req(`${srv.url}/health`, 'GET');
    expect(h.status).toBe(200);
    expect(h.json.status).toBe('ok');
    expect(h.json.requests.errors5xx).toBe(0);
  });

  it('a client gone mid-body is not a server error', async () => {
    const before = (await req(`${srv.url}/health`, 'GET')).json.requests;
    const id = await newSession(srv.url);
    const { port } = new URL(srv.url);
    await Promise.all(Array.from({ length: 8 }, () => new Promise<void>((resolve) => {
      const s = connect(Number(port), '127.0.0.1', () => {
        s.write(`POST /sessions/${id}/step HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{"x"`);
        setTimeout(() => { s.destroy(); resolve(); }, 50);
      });
      s.on('error', () => resolve());
    })));
    await new Promise((r) => setTimeout(r, 100));
    const after = (await req(`${srv.url}/health`, 'GET')).json.requests;
    expect(after.errors5xx).toBe(before.errors5xx);
    expect(srv.out()).not.toContain('internal error');
    // The session never stepped: its first step equals a fresh session's.
    const xs = [vec(1)];
    expect(maxDiff(await step(srv.url, id, xs[0]!), reference(bundled, xs)[0]!)).toBeLessThan(1e-6);
  });

  it('graceful shutdown: SIGTERM exits 0', async () => {
    expect(await stop(srv)).toBe(0);
    expect(srv.out()).toContain('stopped');
  });
});

describe('continuous batching', () => {
  it('64 concurrent sessions: batched outputs equal each session stepped alone (1e-6), in batches > 1', async () => {
    const srv = await start(['--model', model2Path, '--batch-window-ms', '5']);
    const N = 64;
    const steps = 8;
    const ids = await Promise.all(Array.from({ length: N }, () => newSession(srv.url)));
    const xs = ids.map(() => Array.from({ length: steps }, () => vec(I2)));
    // Every session runs its steps in order, all sessions at once; one also sends two steps concurrently,
    // which the server must serialise (at most one step per session in a batch).
    const got = await Promise.all(ids.map(async (id, s) => {
      const ys: number[][] = [];
      for (let t = 0; t < steps; t++) ys.push(await step(srv.url, id, xs[s]![t]!));
      return ys;
    }));
    for (let s = 0; s < N; s++) expect(maxDiff(got[s]!.flat(), reference(model2, xs[s]!).flat())).toBeLessThan(1e-6);
    const h = (await req(`${srv.url}/health`, 'GET')).json;
    expect(h.batching.steps).toBe(N * steps);
    expect(h.batching.meanBatch).toBeGreaterThan(4);
    // Two steps of one session sent together are applied one after the other (order of arrival).
    const id = await newSession(srv.url);
    const x2 = [vec(I2), vec(I2)];
    const [a, b] = await Promise.all([step(srv.url, id, x2[0]!), new Promise<number[]>((r) => setTimeout(() => r(step(srv.url, id, x2[1]!)), 1))]);
    // Two connections do not guarantee the arrival order, so either serialization is right; a mix of the two
    // (both steps from the same state, or one lost) matches neither.
    const inOrder = maxDiff([...a!, ...b!], reference(model2, x2).flat());
    const swapped = maxDiff([...b!, ...a!], reference(model2, [x2[1]!, x2[0]!]).flat());
    expect(Math.min(inOrder, swapped)).toBeLessThan(1e-6);
    expect(await stop(srv)).toBe(0);
  });
});

describe('session cap and idle timeout', () => {
  it('the cap answers 503 TOO_MANY_SESSIONS; deleting or idling frees a slot', async () => {
    const srv = await start(['--max-sessions', '3', '--idle-timeout-ms', '400']);
    const ids = [await newSession(srv.url), await newSession(srv.url), await newSession(srv.url)];
    const full = await req(`${srv.url}/sessions`, 'POST');
    expect(full.status).toBe(503);
    expect(full.json.error.code).toBe('TOO_MANY_SESSIONS');
    await req(`${srv.url}/sessions/${ids[0]}`, 'DELETE');
    const again = await newSession(srv.url);
    // A session kept busy survives; the idle ones expire.
    for (let i = 0; i < 8; i++) {
      await step(srv.url, again, [0.1]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await req(`${srv.url}/sessions/${again}`, 'GET')).status).toBe(200);
    for (const id of ids.slice(1)) {
      const r = await req(`${srv.url}/sessions/${id}/step`, 'POST', { x: [0.1] });
      expect(r.status).toBe(404);
      expect(r.json.error.code).toBe('SESSION_NOT_FOUND');
    }
    const h = (await req(`${srv.url}/health`, 'GET')).json;
    expect(h.sessions.active).toBe(1);
    expect(h.sessions.expired).toBe(2);
    expect(await stop(srv)).toBe(0);
  });
  it('a session whose step waits in the queue longer than the idle timeout is not evicted meanwhile', async () => {
    // A 400 ms batch window against a 100 ms idle timeout: the step waits in the queue through several sweeps.
    const srv = await start(['--idle-timeout-ms', '100', '--batch-window-ms', '400']);
    const id = await newSession(srv.url);
    const xs = [vec(1)];
    const y = await step(srv.url, id, xs[0]!);
    expect(maxDiff(y, reference(bundled, xs)[0]!)).toBeLessThan(1e-6);
    // Idle afterwards, it expires as usual.
    await new Promise((r) => setTimeout(r, 400));
    const h = (await req(`${srv.url}/health`, 'GET')).json;
    expect(h.sessions.active).toBe(0);
    expect(h.sessions.expired).toBe(1);
    expect(await stop(srv)).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

describe('two instances sharing sessions through Redis', () => {
  let redis: ChildProcess | undefined;
  afterAll(() => { if (redis && redis.exitCode === null) redis.kill('SIGKILL'); });

  it('one session stepped alternately through two instances equals one uninterrupted session (1e-6)', async () => {
    const which = spawnSync('sh', ['-c', 'command -v redis-server || ls /usr/bin/redis-server /usr/sbin/redis-server 2>/dev/null'],
      { encoding: 'utf8' });
    const bin = which.stdout.trim().split('\n')[0];
    if (!bin) {
      throw new Error('redis-server not found: install it (Debian: apt-get install -y redis-server; .ci/run does) ' +
        'to run the two-instance Redis test');
    }
    if (!existsSync(join(serverDir, 'node_modules/ioredis'))) {
      // Under `npm test` the environment carries the root package's npm_* settings (its prefix and lockfile),
      // which make a nested `npm ci` resolve against the root project: run it with them removed.
      // PATH also leads with node_modules/.bin, where a dependency's own copy of npm 6 (which cannot read a
      // version 3 lockfile) shadows the system's.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
      env['PATH'] = (process.env['PATH'] ?? '').split(':').filter((d) => !d.includes('node_modules')).join(':');
      const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: serverDir, encoding: 'utf8', timeout: 120_000, env });
      expect(r.status, `npm ci in examples/server failed:\n${r.stderr}`).toBe(0);
    }
    const port = await freePort();
    redis = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      redis!.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('Ready to accept connections')) { clearTimeout(t); resolve(); }
      });
      redis!.on('exit', (code) => { clearTimeout(t); reject(new Error(`redis-server exited with ${code}:\n${out}`)); });
    });
    const url = `redis://127.0.0.1:${port}`;
    const [a, b] = await Promise.all([
      start(['--model', model2Path, '--redis', url, '--idle-timeout-ms', '60000']),
      start(['--model', model2Path, '--redis', url, '--idle-timeout-ms', '60000', '--batch-window-ms', '0']),
    ]);
    const id = await newSession(a.url);
    const xs = Array.from({ length: 12 }, () => vec(I2));
    const ys: number[][] = [];
    for (let t = 0; t < xs.length; t++) ys.push(await step(t % 2 ? b.url : a.url, id, xs[t]!));
    expect(maxDiff(ys.flat(), reference(model2, xs).flat())).toBeLessThan(1e-6);
    // A bad step on one instance leaves the shared state alone; the other sees the delete.
    expect((await req(`${a.url}/sessions/${id}/step`, 'POST', { x: [1] })).status).toBe(400);
    const more = [vec(I2)];
    const y = await step(b.url, id, more[0]!);
    expect(maxDiff(y, reference(model2, [...xs, ...more]).at(-1)!)).toBeLessThan(1e-6);
    // Concurrent sessions batched on one instance through Redis.
    const ids = await Promise.all(Array.from({ length: 16 }, () => newSession(b.url)));
    const zs = ids.map(() => [vec(I2), vec(I2)]);
    const got = await Promise.all(ids.map(async (sid, s) => [await step(a.url, sid, zs[s]![0]!), await step(b.url, sid, zs[s]![1]!)]));
    for (let s = 0; s < ids.length; s++) expect(maxDiff(got[s]!.flat(), reference(model2, zs[s]!).flat())).toBeLessThan(1e-6);
    expect((await req(`${b.url}/sessions/${id}`, 'DELETE')).status).toBe(200);
    expect((await req(`${a.url}/sessions/${id}/step`, 'POST', { x: more[0] })).status).toBe(404);
    const h = (await req(`${a.url}/health`, 'GET')).json;
    expect(h.store).toBe('redis');
    expect(h.sessions.active).toBe(16);
    expect(await stop(a)).toBe(0);
    expect(await stop(b)).toBe(0);
  });
});
