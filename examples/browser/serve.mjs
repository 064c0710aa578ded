// Static server of the demo pages (index.html, experiments.html) on 127.0.0.1: the repository's examples/browser/
// and bundles/browser/ (nothing else), / redirecting to the training page. `node examples/browser/serve.mjs [port]`
// (npm run demo builds first); the tests (test/demo-browser.ts) call startServer(0) for a random port.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ALLOWED = ['examples/browser/', 'bundles/browser/'];
const TYPES = { '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript',
  '.wasm': 'application/wasm', '.map': 'application/json', '.css': 'text/css' };

export function startServer(port = 0) {
  const server = http.createServer((req, res) => {
    const u = decodeURIComponent((req.url ?? '/').split('?')[0]);
    if (u === '/' || u === '/index.html') {
      res.writeHead(302, { location: '/examples/browser/index.html' });
      res.end();
      return;
    }
    const rel = path.posix.normalize(u).replace(/^\/+/, '');
    const file = path.join(root, rel);
    if (!ALLOWED.some((a) => rel.startsWith(a)) || !file.startsWith(root + path.sep) || !fs.existsSync(file) ||
        !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not found: ${u}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: p } = server.address();
      resolve({ server, port: p, url: `http://127.0.0.1:${p}/examples/browser/index.html` });
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const f of ['bundles/browser/rnn-wasm.mjs', 'bundles/browser/analysis.mjs', 'bundles/browser/experiments.mjs',
    'examples/browser/dist/plot.mjs']) {
    if (!fs.existsSync(path.join(root, f))) {
      console.error(`${f} is missing: run \`npm run build\` and \`node examples/browser/build.mjs\` (npm run demo does both)`);
      process.exit(1);
    }
  }
  const { url } = await startServer(Number(process.argv[2] ?? 8080));
  console.log(`rnn-wasm demo: ${url}  (Ctrl-C to stop)`);
  console.log(`experiments:  ${url.replace(/index\.html$/, 'experiments.html')}`);
}
