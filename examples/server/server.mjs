#!/usr/bin/env node
/**
 * rnn-wasm inference server: stateless `POST /predict`, streaming sessions with continuous batching, session
 * states in WebAssembly memory (one slab, a row per session) or in Redis (`--redis URL`, for several instances).
 *
 *   node examples/server/server.mjs [--model FILE] [--port 8080] [--host 127.0.0.1] [--max-sessions 4096]
 *     [--idle-timeout-ms 300000] [--batch-window-ms 2] [--max-batch 256] [--max-body-bytes 1048576]
 *     [--redis redis://127.0.0.1:6379] [--redis-prefix rnnwasm:] [--threads N]
 *
 * Design of a batched step (see README, "Inference server"): step requests are validated on arrival, then queued;
 * the queue is flushed after `--batch-window-ms` (from its first request) or as soon as it holds `--max-batch`
 * requests. A flush takes at most one request per session, gathers those k sessions' states into a step Session
 * of p = 2^ceil(log2 k) rows (one per size, kept), copies their inputs in, runs ONE batched step (one WebAssembly
 * call per layer, plus one head GEMM) and scatters the new states back. Rows are independent in the kernels, so
 * each output equals the one of that session stepped alone.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  init, loadModel, readSafetensors, LSTM, GRU, RNN, Linear, SequenceModel, WasmOwner,
} from '../../dist/index.js';

const FLOAT32_MAX = 3.4028234663852886e38;

// ---------------------------------------------------------------------------------------------------------------
// Options

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'max-sessions': { type: 'string', default: '4096' },
      'idle-timeout-ms': { type: 'string', default: '300000' },
      'batch-window-ms': { type: 'string', default: '2' },
      'max-batch': { type: 'string', default: '256' },
      'max-body-bytes': { type: 'string', default: String(1 << 20) },
      redis: { type: 'string' },
      'redis-prefix': { type: 'string', default: 'rnnwasm:' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: node examples/server/server.mjs [--model FILE] [--port N] [--host H] [--max-sessions N] ' +
      '[--idle-timeout-ms MS] [--batch-window-ms MS (0 = no batching)] [--max-batch N] [--max-body-bytes N] ' +
      '[--redis URL] [--redis-prefix P] [--threads N]');
    process.exit(0);
  }
  const num = (name, min, int = true) => {
    const v = Number(values[name]);
    if (!Number.isFinite(v) || v < min || (int && !Number.isInteger(v))) {
      console.error(`--${name}: expected ${int ? 'an integer' : 'a number'} >= ${min}, got ${values[name]}`);
      process.exit(2);
    }
    return v;
  };
  return {
    model: values.model ?? fileURLToPath(new URL('../data/default-model.safetensors', import.meta.url)),
    port: num('port', 0),
    host: values.host,
    maxSessions: num('max-sessions', 1),
    idleTimeoutMs: num('idle-timeout-ms', 1),
    batchWindowMs: num('batch-window-ms', 0, false),
    maxBatch: num('max-batch', 1),
    maxBodyBytes: num('max-body-bytes', 16),
    redis: values.redis,
    redisPrefix: values['redis-prefix'],
    threads: values.threads === undefined ? undefined : num('threads', 1),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Model loading: an rnn-wasm model file (saveModel), or a plain PyTorch state dict under rnn.* (+ head.*), whose
// architecture is read off the tensor shapes (as the bundled examples/data/default-model.safetensors).

function loadAny(bytes) {
  const file = readSafetensors(bytes);
  if (file.metadata['rnn-wasm.architecture'] !== undefined) return loadModel(bytes);
  const t = file.tensors;
  const ih = t.get('rnn.weight_ih_l0');
  const hh = t.get('rnn.weight_hh_l0');
  if (!ih || !hh) throw new Error('not a model file, and no rnn.weight_ih_l0 / rnn.weight_hh_l0 tensors');
  const hr = t.get('rnn.weight_hr_l0');
  const hidden = hr ? hr.shape[1] : hh.shape[1];
  const gates = ih.shape[0] / hidden;
  let numLayers = 0;
  while (t.has(`rnn.weight_ih_l${numLayers}`)) numLayers++;
  const common = { inputSize: ih.shape[1], hiddenSize: hidden, numLayers, bidirectional: t.has('rnn.weight_ih_l0_reverse'),
    bias: t.has('rnn.bias_ih_l0'), seed: 0 };
  let rnn;
  if (gates === 4) rnn = new LSTM({ ...common, projSize: hr ? hr.shape[0] : 0 });
  else if (gates === 3) rnn = new GRU(common);
  else if (gates === 1) rnn = new RNN(common);
  else throw new Error(`cannot infer the cell from weight_ih_l0 of shape [${ih.shape}]`);
  const hw = t.get('head.weight');
  if (!hw) {
    rnn.loadStateDict(bytes, { prefix: 'rnn.', strict: true });
    return rnn;
  }
  const head = new Linear({ inFeatures: hw.shape[1], outFeatures: hw.shape[0], bias: t.has('head.bias'), seed: 0 });
  const model = new SequenceModel({ rnn, head });
  model.loadStateDict(new Map([...t].map(([n, v]) => [n, { shape: v.shape, data: v.data }])));
  return model;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

class HttpError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const bad = (message, code = 'INVALID_INPUT') => new HttpError(400, code, message);

/** A finite number that stays finite as a float32. */
function checkNumber(v, where) {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
    throw bad(`${where}: expected a finite float32 number, got ${JSON.stringify(v) ?? String(v)}`,
      typeof v === 'number' ? 'NON_FINITE' : 'INVALID_INPUT');
  }
  return v;
}

function checkVector(v, n, where) {
  if (!Array.isArray(v)) throw bad(`${where}: expected an array of ${n} numbers`, 'SHAPE_MISMATCH');
  if (v.length !== n) throw bad(`${where}: expected ${n} numbers, got ${v.length}`, 'SHAPE_MISMATCH');
  for (let i = 0; i < n; i++) checkNumber(v[i], `${where}[${i}]`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------
// The batched stepper: step Sessions of 1, 2, 4, ... rows, and the head.

class Stepper {
  constructor(model) {
    this.model = model;
    this.rnn = model instanceof SequenceModel ? model.rnn : model;
    this.head = model instanceof SequenceModel ? model.head : null;
    const r = this.rnn;
    this.I = r.inputSize;
    this.L = r.numLayers;
    this.H = r.outputSize;
    this.Hc = r.mode === 'LSTM' ? r.hiddenSize : 0;
    this.hLen = this.L * this.H;
    this.cLen = this.L * this.Hc;
    this.stateLen = this.hLen + this.cLen;
    this.O = this.head ? this.head.outFeatures : this.H;
    this.streaming = !r.bidirectional;
    this.pool = new Map();
  }

  /** The step session of p rows (created once, allocating WebAssembly memory). */
  entry(p) {
    let e = this.pool.get(p);
    if (!e) {
      const session = this.rnn.createSession({ batchSize: p });
      e = { session, p, h: new Float32Array(this.L * p * this.H), c: this.Hc ? new Float32Array(this.L * p * this.Hc) : null,
        x: new Float32Array(p * this.I), y: new Float32Array(p * this.H) };
      this.pool.set(p, e);
    }
    return e;
  }

  /**
   * One batched step of k = xs.length streams. `states()` returns the k state vectors (Float32Array of stateLen:
   * h as (L, H) then c as (L, Hc)); it is called after any WebAssembly allocation, so views into WebAssembly memory
   * stay valid; the new states are written back into the same arrays. Returns the k outputs (Float32Array of O).
   */
  step(xs, states) {
    const k = xs.length;
    const p = k === 1 ? 1 : 2 ** Math.ceil(Math.log2(k));
    const e = this.entry(p);
    const { L, H, Hc, I, hLen } = this;
    const st = states();
    // Gather. Padding rows keep whatever finite state they had: rows do not interact.
    for (let j = 0; j < k; j++) {
      const s = st[j];
      for (let l = 0; l < L; l++) {
        e.h.set(s.subarray(l * H, (l + 1) * H), (l * p + j) * H);
        if (Hc) e.c.set(s.subarray(hLen + l * Hc, hLen + (l + 1) * Hc), (l * p + j) * Hc);
      }
      e.x.set(xs[j], j * I);
    }
    e.session.setState(Hc ? { h: { data: e.h, shape: [L, p, H] }, c: { data: e.c, shape: [L, p, Hc] } }
      : { h: { data: e.h, shape: [L, p, H] } });
    e.session.step(e.x, { out: e.y });
    const ns = e.session.getState();
    // Scatter (getState and step allocate no WebAssembly memory, so the views of states() are still valid).
    const nh = ns.h.data;
    const nc = ns.c?.data;
    for (let j = 0; j < k; j++) {
      const s = st[j];
      for (let l = 0; l < L; l++) {
        s.set(nh.subarray((l * p + j) * H, (l * p + j + 1) * H), l * H);
        if (Hc) s.set(nc.subarray((l * p + j) * Hc, (l * p + j + 1) * Hc), hLen + l * Hc);
      }
    }
    const y = this.head ? this.head.forward({ data: e.y, shape: [p, H] }).data : e.y;
    const O = this.O;
    const out = new Array(k);
    for (let j = 0; j < k; j++) out[j] = y.slice(j * O, (j + 1) * O);
    return out;
  }

  dispose() {
    for (const e of this.pool.values()) e.session.dispose();
    this.pool.clear();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Session stores

/** A slab of rows in WebAssembly memory (WasmOwner gives dispose and the finalizer). */
class StateSlab extends WasmOwner {
  constructor(engine, rows, rowLen) {
    super(engine, 'StateSlab');
    this.rowLen = rowLen;
    this.ptr = this.allocBlock(Math.max(1, rows * rowLen) * 4);
    this.engine.f32().fill(0, this.ptr / 4, this.ptr / 4 + rows * rowLen);
  }

  /** A view of row r (valid until the next WebAssembly allocation). */
  row(r) {
    const o = this.ptr / 4 + r * this.rowLen;
    return this.engine.f32().subarray(o, o + this.rowLen);
  }
}

/** States in one WebAssembly slab, a row per session; idle sessions are swept. */
class MemoryStore {
  constructor(stepper, opts) {
    this.kind = 'memory';
    this.stepper = stepper;
    this.max = opts.maxSessions;
    this.idle = opts.idleTimeoutMs;
    this.slab = new StateSlab(stepper.rnn.engine, this.max, stepper.stateLen);
    this.free = Array.from({ length: this.max }, (_, i) => this.max - 1 - i);
    this.sessions = new Map(); // id -> { row, lastUsed, busy }
    this.expired = 0;
    this.timer = setInterval(() => this.sweep(), Math.max(5, Math.min(1000, this.idle / 4)));
    this.timer.unref();
  }

  get count() { return this.sessions.size; }

  async create() {
    if (this.free.length === 0) {
      throw new HttpError(503, 'TOO_MANY_SESSIONS', `the server holds its maximum of ${this.max} sessions; ` +
        'delete one or retry later', { 'Retry-After': '1' });
    }
    const row = this.free.pop();
    this.slab.row(row).fill(0);
    const id = randomUUID();
    this.sessions.set(id, { row, lastUsed: Date.now(), busy: 0 });
    return id;
  }

  async has(id) {
    const s = this.sessions.get(id);
    if (s) s.lastUsed = Date.now();
    return s !== undefined;
  }

  async delete(id) {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    this.free.push(s.row);
    return true;
  }

  /** Marks a step of the session as queued or running: the sweep leaves a busy session alone, however long it waits. */
  pin(id) {
    const s = this.sessions.get(id);
    if (s) s.busy++;
  }

  /** Ends what pin began; the session's idle time starts now. */
  unpin(id) {
    const s = this.sessions.get(id);
    if (s) {
      s.busy--;
      s.lastUsed = Date.now();
    }
  }

  /** Steps the given (distinct) sessions; returns per item { y } or { error }. */
  async step(items) {
    const live = [];
    const res = items.map((it) => {
      const s = this.sessions.get(it.id);
      if (!s) return { error: new HttpError(404, 'SESSION_NOT_FOUND', `no session ${it.id} (deleted or expired)`) };
      s.lastUsed = Date.now();
      live.push({ it, s });
      return null;
    });
    if (live.length) {
      const ys = this.stepper.step(live.map((l) => l.it.x), () => live.map((l) => this.slab.row(l.s.row)));
      let j = 0;
      for (let i = 0; i < res.length; i++) if (res[i] === null) res[i] = { y: ys[j++] };
    }
    return res;
  }

  sweep() {
    const limit = Date.now() - this.idle;
    for (const [id, s] of this.sessions) {
      if (s.lastUsed < limit && s.busy === 0) {
        this.sessions.delete(id);
        this.free.push(s.row);
        this.expired++;
      }
    }
  }

  async close() {
    clearInterval(this.timer);
    this.slab.dispose();
  }
}

/**
 * States in Redis: key `<prefix>s:<id>` holds the state's float32 bytes (little-endian, h then c) with a TTL of
 * the idle timeout, refreshed on every step; the sorted set `<prefix>sessions` (score = expiry time) counts live
 * sessions for the cap. Any instance can step any session.
 */
class RedisStore {
  constructor(stepper, opts, Redis) {
    this.kind = 'redis';
    this.stepper = stepper;
    this.max = opts.maxSessions;
    this.idle = opts.idleTimeoutMs;
    this.prefix = opts.redisPrefix;
    this.zkey = `${this.prefix}sessions`;
    this.bytes = stepper.stateLen * 4;
    this.redis = new Redis(opts.redis, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true });
    this.redis.on('error', (e) => { this.lastError = String(e.message ?? e); });
    this.redis.defineCommand('rnnCreate', {
      numberOfKeys: 2,
      lua: `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
return 1`,
    });
    this.count = 0;
  }

  async connect() { await this.redis.connect(); }

  key(id) { return `${this.prefix}s:${id}`; }

  async refreshCount() {
    try {
      await this.redis.zremrangebyscore(this.zkey, '-inf', Date.now());
      this.count = await this.redis.zcard(this.zkey);
    } catch { /* reported through lastError */ }
  }

  async create() {
    const id = randomUUID();
    const now = Date.now();
    const ok = await this.redis.rnnCreate(this.zkey, this.key(id), now, this.max, now + this.idle, id,
      Buffer.alloc(this.bytes), this.idle);
    if (!ok) {
      throw new HttpError(503, 'TOO_MANY_SESSIONS', `the cluster holds its maximum of ${this.max} sessions; ` +
        'delete one or retry later', { 'Retry-After': '1' });
    }
    return id;
  }

  async has(id) {
    const [[, n]] = await this.redis.multi().pexpire(this.key(id), this.idle)
      .zadd(this.zkey, 'XX', Date.now() + this.idle, id).exec();
    return n === 1;
  }

  async delete(id) {
    const [[, n]] = await this.redis.multi().del(this.key(id)).zrem(this.zkey, id).exec();
    return n === 1;
  }

  async step(items) {
    const bufs = await this.redis.mgetBuffer(...items.map((it) => this.key(it.id)));
    const live = [];
    const res = items.map((it, i) => {
      const b = bufs[i];
      if (b === null) return { error: new HttpError(404, 'SESSION_NOT_FOUND', `no session ${it.id} (deleted or expired)`) };
      if (b.length !== this.bytes) {
        return { error: new HttpError(409, 'STATE_MISMATCH', `session ${it.id} holds ${b.length} state bytes, this ` +
          `model needs ${this.bytes} (another model's session?)`) };
      }
      const s = new Float32Array(this.stepper.stateLen);
      new Uint8Array(s.buffer).set(b);
      live.push({ it, s });
      return null;
    });
    if (live.length) {
      const ys = this.stepper.step(live.map((l) => l.it.x), () => live.map((l) => l.s));
      const m = this.redis.multi();
      const exp = Date.now() + this.idle;
      // XX: a session deleted while it was being stepped is not brought back.
      for (const l of live) {
        m.set(this.key(l.it.id), Buffer.from(l.s.buffer, l.s.byteOffset, l.s.byteLength), 'PX', this.idle, 'XX');
        m.zadd(this.zkey, 'XX', exp, l.it.id);
      }
      await m.exec();
      let j = 0;
      for (let i = 0; i < res.length; i++) if (res[i] === null) res[i] = { y: ys[j++] };
    }
    return res;
  }

  async close() { await this.redis.quit().catch(() => this.redis.disconnect()); }
}

// ---------------------------------------------------------------------------------------------------------------
// Continuous batching

class Batcher {
  constructor(store, opts) {
    this.store = store;
    this.windowMs = opts.batchWindowMs;
    this.maxBatch = opts.batchWindowMs === 0 ? 1 : opts.maxBatch;
    this.queue = [];
    this.inflight = new Set(); // session ids in a running flush
    this.running = 0;
    this.timer = null;
    this.stats = { steps: 0, batches: 0, maxBatchSeen: 0 };
    this.idleWaiters = [];
  }

  /** Queues a validated step; resolves to the output Float32Array. */
  submit(id, x) {
    return new Promise((resolve, reject) => {
      this.queue.push({ id, x: Float32Array.from(x), resolve, reject });
      this.schedule();
    });
  }

  schedule() {
    if (this.queue.length === 0) return;
    if (this.windowMs === 0 || this.runnable() >= this.maxBatch) {
      if (this.timer) { clearTimeout(this.timer); this.timer = null; }
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => { this.timer = null; this.flush(); }, this.windowMs);
    }
  }

  runnable() {
    if (this.inflight.size === 0 && this.queue.length <= this.maxBatch) return this.queue.length;
    const seen = new Set();
    for (const it of this.queue) if (!this.inflight.has(it.id)) seen.add(it.id);
    return seen.size;
  }

  /** Runs every runnable request now, in batches of at most maxBatch, one request per session per batch. */
  flush() {
    while (this.queue.length) {
      const batch = [];
      const ids = new Set();
      const rest = [];
      for (const it of this.queue) {
        if (batch.length < this.maxBatch && !ids.has(it.id) && !this.inflight.has(it.id)) {
          batch.push(it);
          ids.add(it.id);
        } else rest.push(it);
      }
      this.queue = rest;
      if (batch.length === 0) return; // all waiting on in-flight steps of their sessions
      this.run(batch, ids);
    }
  }

  async run(batch, ids) {
    for (const id of ids) this.inflight.add(id);
    this.running++;
    this.stats.batches++;
    this.stats.steps += batch.length;
    if (batch.length > this.stats.maxBatchSeen) this.stats.maxBatchSeen = batch.length;
    try {
      const res = await this.store.step(batch);
      for (let i = 0; i < batch.length; i++) {
        if (res[i].error) batch[i].reject(res[i].error);
        else batch[i].resolve(res[i].y);
      }
    } catch (e) {
      // States are written back only after a successful step: a failed batch leaves every session unchanged.
      const err = e instanceof HttpError ? e : new HttpError(503, 'BACKEND_UNAVAILABLE', `step failed: ${e.message ?? e}`);
      for (const it of batch) it.reject(err);
    } finally {
      for (const id of ids) this.inflight.delete(id);
      this.running--;
      if (this.queue.length) this.schedule();
      if (this.running === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when nothing is queued or running. */
  drain() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; this.flush(); }
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// /predict

function predict(model, stepper, body) {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('input' in body)) {
    throw bad('expected {"input": [[...I]...] (T x I) or [[[...I]...]...] (B x T x I)}');
  }
  const input = body.input;
  const I = stepper.I;
  if (!Array.isArray(input) || input.length === 0) throw bad('input: expected a non-empty array', 'SHAPE_MISMATCH');
  const batched = Array.isArray(input[0]) && Array.isArray(input[0][0]);
  const seqs = batched ? input : [input];
  const B = seqs.length;
  const lengths = seqs.map((s, b) => {
    if (!Array.isArray(s) || s.length === 0) throw bad(`input[${b}]: expected a non-empty array of time steps`, 'SHAPE_MISMATCH');
    return s.length;
  });
  const T = Math.max(...lengths);
  const bf = stepper.rnn.batchFirst;
  const data = new Float32Array(T * B * I);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < lengths[b]; t++) {
      const v = checkVector(seqs[b][t], I, batched ? `input[${b}][${t}]` : `input[${t}]`);
      data.set(v, bf ? (b * T + t) * I : (t * B + b) * I);
    }
  }
  const ragged = lengths.some((n) => n !== T);
  const shape = bf ? [B, T, I] : [T, B, I];
  const opts = ragged ? { lengths } : {};
  const r = model.forward({ data, shape }, opts);
  const out = r instanceof Object && 'output' in r ? r.output : r;
  const toNested = (t) => {
    if (stepper.head && model.headInput === 'last') {
      const O = t.shape[t.shape.length - 1];
      return Array.from({ length: B }, (_, b) => Array.from(t.data.subarray(b * O, (b + 1) * O)));
    }
    const O = t.shape[2];
    return Array.from({ length: B }, (_, b) => Array.from({ length: lengths[b] }, (_, i) => {
      const o = bf ? (b * T + i) * O : (i * B + b) * O;
      return Array.from(t.data.subarray(o, o + O));
    }));
  };
  const nested = toNested(out);
  return { output: batched ? nested : nested[0] };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

function send(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function readJson(req, maxBytes) {
  return new Promise((resolve, reject) => {
    const len = Number(req.headers['content-length']);
    let size = 0;
    let tooLarge = Number.isFinite(len) && len > maxBytes;
    const chunks = [];
    req.on('data', (c) => {
      size += c.length;
      if (size > maxBytes) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > 64 * maxBytes) req.destroy(); // stop draining an absurd body
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        reject(new HttpError(413, 'BODY_TOO_LARGE', `request body exceeds ${maxBytes} bytes`));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new HttpError(400, 'BAD_JSON', `request body is not valid JSON: ${e.message}`));
      }
    });
    // A client gone mid-body ('aborted', ECONNRESET) is the client's doing, not an internal error.
    req.on('error', (e) => reject(new HttpError(400, 'BAD_REQUEST', `request body incomplete: ${e.message}`)));
    // A body cut short (client gone, or an absurd one destroyed above) settles too.
    req.on('close', () => {
      if (!req.complete) reject(new HttpError(tooLarge ? 413 : 400, tooLarge ? 'BODY_TOO_LARGE' : 'BAD_REQUEST', 'request body incomplete'));
    });
  });
}

export async function startServer(opts) {
  const engine = await init(opts.threads ? { threads: opts.threads } : {});
  const model = loadAny(await readFile(opts.model));
  const stepper = new Stepper(model);
  let store;
  if (opts.redis) {
    let Redis;
    try {
      ({ default: Redis } = await import('ioredis'));
    } catch (e) {
      throw new Error(`--redis needs the ioredis package: run 'npm ci' in examples/server (${e.message})`);
    }
    store = new RedisStore(stepper, opts, Redis);
    await store.connect();
  } else {
    store = new MemoryStore(stepper, opts);
  }
  const batcher = new Batcher(store, opts);
  const stats = { requests: 0, predicts: 0, errors4xx: 0, errors5xx: 0, started: Date.now() };
  let draining = false;
  let active = 0;
  let activeWaiters = [];

  const arch = {
    mode: stepper.rnn.mode, inputSize: stepper.I, hiddenSize: stepper.rnn.hiddenSize, numLayers: stepper.L,
    bidirectional: stepper.rnn.bidirectional, outputSize: stepper.O, head: stepper.head !== null,
  };

  async function health() {
    if (store.kind === 'redis') await store.refreshCount();
    return {
      status: draining ? 'draining' : 'ok',
      model: { file: opts.model, ...arch, streaming: stepper.streaming },
      engine: { flavour: engine.flavour },
      // WebAssembly memory (allocator: bytes handed out, live blocks, memory size, heap top) and the process's.
      memory: { engine: engine.stats(), process: process.memoryUsage() },
      store: store.kind,
      sessions: { active: store.count, max: opts.maxSessions, idleTimeoutMs: opts.idleTimeoutMs,
        expired: store.expired ?? undefined },
      batching: { windowMs: opts.batchWindowMs, maxBatch: batcher.maxBatch, queued: batcher.queue.length,
        steps: batcher.stats.steps, batches: batcher.stats.batches,
        meanBatch: batcher.stats.batches ? batcher.stats.steps / batcher.stats.batches : 0,
        maxBatchSeen: batcher.stats.maxBatchSeen },
      requests: { total: stats.requests, predicts: stats.predicts, errors4xx: stats.errors4xx, errors5xx: stats.errors5xx },
      uptimeS: (Date.now() - stats.started) / 1000,
      ...(store.lastError ? { redisLastError: store.lastError } : {}),
    };
  }

  function route(method, path) {
    // Returns [allowedMethods, handler]
    if (path === '/health') {
      return [['GET'], async (req) => {
        // ?gc=1 collects garbage first when node runs with --expose-gc (for memory figures without the garbage).
        if (typeof globalThis.gc === 'function' && new URL(req.url, 'http://x').searchParams.get('gc') === '1') globalThis.gc();
        return [200, await health()];
      }];
    }
    if (path === '/predict') {
      return [['POST'], async (req) => {
        const body = await readJson(req, opts.maxBodyBytes);
        stats.predicts++;
        return [200, predict(model, stepper, body)];
      }];
    }
    if (path === '/sessions') {
      return [['POST'], async (req) => {
        if (!stepper.streaming) throw new HttpError(501, 'UNSUPPORTED', 'a bidirectional model cannot stream; use /predict');
        // The body is optional (and ignored); still bounded.
        if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding']) {
          await readJson(req, opts.maxBodyBytes).catch((e) => { if (e.code !== 'BAD_JSON') throw e; });
        }
        return [201, { id: await store.create() }];
      }];
    }
    const m = /^\/sessions\/([^/]+)(\/step)?$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]);
      if (m[2]) {
        return [['POST'], async (req) => {
          const body = await readJson(req, opts.maxBodyBytes);
          if (body === null || typeof body !== 'object' || Array.isArray(body) || !('x' in body)) {
            throw bad(`expected {"x": [...${stepper.I} numbers]}`);
          }
          const x = checkVector(body.x, stepper.I, 'x');
          if (!(await store.has(id))) throw new HttpError(404, 'SESSION_NOT_FOUND', `no session ${id} (deleted or expired)`);
          store.pin?.(id);
          try {
            const y = await batcher.submit(id, x);
            return [200, { y: Array.from(y) }];
          } finally {
            store.unpin?.(id);
          }
        }];
      }
      return [['DELETE', 'GET'], async (req) => {
        if (req.method === 'GET') {
          if (!(await store.has(id))) throw new HttpError(404, 'SESSION_NOT_FOUND', `no session ${id}`);
          return [200, { id }];
        }
        if (!(await store.delete(id))) throw new HttpError(404, 'SESSION_NOT_FOUND', `no session ${id}`);
        return [200, { id, deleted: true }];
      }];
    }
    return null;
  }

  const server = http.createServer(async (req, res) => {
    stats.requests++;
    active++;
    try {
      if (draining) throw new HttpError(503, 'SHUTTING_DOWN', 'the server is shutting down', { Connection: 'close' });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const r = route(req.method, path);
      if (!r) throw new HttpError(404, 'NOT_FOUND', `no route ${path}`);
      const [methods, handler] = r;
      if (!methods.includes(req.method)) {
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${req.method} ${path}: allowed ${methods.join(', ')}`,
          { Allow: methods.join(', ') });
      }
      const [status, obj] = await handler(req);
      send(res, status, obj);
    } catch (e) {
      let err = e;
      if (!(e instanceof HttpError)) {
        // Library errors on user data (shape, argument) are the client's; anything else is ours.
        const code = e?.code;
        err = code === 'SHAPE_MISMATCH' || code === 'INVALID_ARGUMENT'
          ? new HttpError(400, code, e.message)
          : new HttpError(500, 'INTERNAL', String(e?.message ?? e));
        if (err.status === 500) console.error('internal error:', e);
      }
      if (err.status >= 500) stats.errors5xx++;
      else stats.errors4xx++;
      if (!req.complete) req.resume();
      if (!res.headersSent) send(res, err.status, { error: { code: err.code, message: err.message } }, err.headers);
      else res.destroy();
    } finally {
      active--;
      if (active === 0) for (const w of activeWaiters.splice(0)) w();
    }
  });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30000;

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, resolve);
  });
  const addr = server.address();

  async function shutdown(signal) {
    if (draining) return;
    draining = true;
    console.log(`${signal}: draining`);
    const force = setTimeout(() => { console.error('drain timed out'); process.exit(1); }, 10000);
    force.unref();
    const closed = new Promise((r) => server.close(r));
    server.closeIdleConnections();
    await batcher.drain();
    if (active > 0) await new Promise((r) => activeWaiters.push(r));
    server.closeAllConnections();
    await closed;
    await store.close();
    stepper.dispose();
    model.dispose();
    console.log('stopped');
  }

  return { server, port: addr.port, host: addr.address, shutdown, health };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const opts = parseOptions(process.argv.slice(2));
  startServer(opts).then(({ port, host, shutdown }) => {
    console.log(`rnn-wasm server listening on http://${host}:${port} (model ${opts.model}, store ` +
      `${opts.redis ? 'redis' : 'memory'}, batch window ${opts.batchWindowMs} ms)`);
    for (const sig of ['SIGINT', 'SIGTERM']) {
      process.on(sig, () => shutdown(sig).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); }));
    }
  }, (e) => {
    console.error(`rnn-wasm server: ${e.message ?? e}`);
    process.exit(1);
  });
}
