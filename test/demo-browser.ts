// What the demo pages' tests (test/demo.test.ts, test/demo-experiments.test.ts) share: Debian's Chromium through
// playwright-core and the demo's static server (examples/browser/serve.mjs) on a random port. Fails with a clear
// message when Chromium or a built file is missing; builds the Observable Plot bundle (examples/browser/dist/)
// when it is missing.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CHROMIUM = '/usr/bin/chromium';
const demoDir = path.join(root, 'examples', 'browser');

export interface Demo {
  browser: Browser;
  /** Opens a page of examples/browser/ in a new tab, collecting page errors, console errors and failed requests. */
  open(file: string): Promise<{ page: Page; errors: string[]; failed: string[] }>;
  close(): Promise<void>;
}

/** Starts the server and Chromium; `required` are paths (from the repository root) that must have been built. */
export async function startDemo(required: string[]): Promise<Demo> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the demo test needs Debian's Chromium (apt-get install -y chromium; ` +
      '.ci/run installs it)');
  }
  for (const f of required) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` (or \`npm run build:bundles\`)`);
  }
  if (!fs.existsSync(path.join(demoDir, 'dist', 'plot.mjs'))) {
    const { buildDemo } = await import(pathToFileURL(path.join(demoDir, 'build.mjs')).href) as { buildDemo: () => Promise<void> };
    await buildDemo();
  }
  const { startServer } = await import(pathToFileURL(path.join(demoDir, 'serve.mjs')).href) as {
    startServer: (port: number) => Promise<{ server: http.Server; url: string }>;
  };
  const { server, url } = await startServer(0);
  const { chromium } = await import('playwright-core');
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  } catch (err) {
    server.close();
    throw err;
  }
  return {
    browser,
    open: async (file) => {
      const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      const failed: string[] = [];
      page.on('requestfailed', (r) => failed.push(r.url()));
      page.on('response', (r) => { if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`); });
      await page.goto(url.replace(/index\.html$/, file));
      return { page, errors, failed };
    },
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
