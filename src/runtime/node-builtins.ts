/**
 * Node's built-in modules for the engine's start-up, loaded the cheapest way the runtime offers.
 * @module
 */

/** The built-ins the engine uses, by name. */
interface Builtins {
  fs: typeof import('node:fs');
  os: typeof import('node:os');
  v8: typeof import('node:v8');
}

/**
 * A Node built-in module. `process.getBuiltinModule` (Node >= 20.16 and 22.3) hands out the CommonJS module as it
 * is; `import()` builds an ES module facade first, which reads every export, and for `node:fs` that loads its
 * streams: 3-4 ms of a cold start on the 2026-12-02 Xeon (1-2 ms for `node:v8`), measured in fresh
 * processes after the package's import. Older Nodes import. Only called on Node. (threads.ts keeps `import()` for
 * `node:worker_threads` on purpose: resolving it takes a task, so the workers are built after `init()` resolves.)
 */
export async function nodeBuiltin<K extends keyof Builtins>(name: K): Promise<Builtins[K]> {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof p?.getBuiltinModule === 'function') {
    const m = p.getBuiltinModule(`node:${name}`);
    if (m) return m as Builtins[K];
  }
  // One literal specifier per module, so that bundlers see each and leave it alone.
  switch (name) {
    case 'fs': return (await import(/* webpackIgnore: true */ 'node:fs')) as unknown as Builtins[K];
    case 'os': return (await import(/* webpackIgnore: true */ 'node:os')) as unknown as Builtins[K];
    default: return (await import(/* webpackIgnore: true */ 'node:v8')) as unknown as Builtins[K];
  }
}
