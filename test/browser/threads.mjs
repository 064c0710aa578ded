// Browser check of the threads (not part of CI: needs Chromium and playwright-core). After `npm run build`:
//   apt-get install -y chromium; npm i --no-save playwright-core
//   node test/browser/threads.mjs            # COOP/COEP page: main thread falls back, its worker runs 2 threads
//   node test/browser/threads.mjs no-coop    # no isolation: one thread, reason SharedArrayBuffer
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const site = path.join(root, 'test', 'browser', '.build');
await esbuild.build({
  entryPoints: { 'main': path.join(here, 'threads-page.ts'), 'worker': path.join(here, 'threads-worker.ts') },
  bundle: true, format: 'esm', target: 'es2022', outdir: site, platform: 'browser', logLevel: 'warning',
  external: ['node:*'],
});
const isolate = process.argv[2] !== 'no-coop';
const server = http.createServer((req, res) => {
  const u = req.url.split('?')[0];
  let file, type = 'text/javascript';
  if (u === '/' ) { file = null; type = 'text/html'; }
  else if (u.startsWith('/build/')) { file = root + u; type = 'application/wasm'; }
  else file = path.join(site, u);
  const h = { 'content-type': type };
  if (isolate) { h['cross-origin-opener-policy'] = 'same-origin'; h['cross-origin-embedder-policy'] = 'require-corp'; }
  if (file === null) { res.writeHead(200, h); res.end('<!doctype html><script type="module" src="/main.js"></script>'); return; }
  try { const b = fs.readFileSync(file); res.writeHead(200, h); res.end(b); } catch { res.writeHead(404); res.end(); }
}).listen(0, async () => {
  const port = server.address().port;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(`http://localhost:${port}/`);
  const r = await page.waitForFunction(() => window.__result, null, { timeout: 60000 }).then((h) => h.jsonValue()).catch((e) => ({ timeout: String(e) }));
  console.log(JSON.stringify(r, null, 1));
  await browser.close(); server.close();
  const w = r.worker ?? {};
  const ok = isolate
    ? r.mainInfo?.threads === 1 && /Atomics.wait/.test(r.mainInfo.reason) && w.info?.threads === 2 && w.identical &&
      /^WorkerError/.test(w.trap) && w.after?.threads === 1
    : r.mainInfo?.threads === 1 && /SharedArrayBuffer/.test(r.mainInfo.reason) && w.info?.threads === 1 && w.identical;
  console.log(ok ? 'browser threads check: ok' : 'browser threads check: FAILED');
  process.exitCode = ok ? 0 : 1;
});
