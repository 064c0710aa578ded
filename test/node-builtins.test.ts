import fs from 'node:fs';
import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { nodeBuiltin } from '../src/runtime/node-builtins.js';

describe('nodeBuiltin', () => {
  it('returns the CommonJS module through process.getBuiltinModule where Node has it', async () => {
    expect(typeof process.getBuiltinModule).toBe('function'); // Node >= 20.16 and 22.3 have it (CI runs 20.20)
    expect(await nodeBuiltin('fs')).toBe(process.getBuiltinModule('node:fs'));
    expect((await nodeBuiltin('v8')).setFlagsFromString).toBe(v8.setFlagsFromString);
  });

  it('imports the module where process.getBuiltinModule is missing', async () => {
    const saved = process.getBuiltinModule;
    try {
      (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
      const m = await nodeBuiltin('fs');
      expect(m.readFileSync).toBe(fs.readFileSync);
      expect(typeof (await nodeBuiltin('os')).cpus).toBe('function');
      expect((await nodeBuiltin('v8')).setFlagsFromString).toBe(v8.setFlagsFromString);
    } finally {
      process.getBuiltinModule = saved;
    }
  });
});
