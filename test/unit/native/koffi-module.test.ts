import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { koffi, platformPackage } from '../../../src/native/shared/koffi-module.js';

const require = createRequire(import.meta.url);
const koffiRoot = require.resolve('koffi').replace(/[\\/]index\.cjs$/, '');
const koffiManifest = JSON.parse(readFileSync(`${koffiRoot}/package.json`, 'utf8')) as {
  version: string;
  optionalDependencies: Record<string, string>;
};

describe('koffi(), loaded straight from its platform binary', () => {
  it('names a package koffi pins to its own version', () => {
    // The fast path rests on this: the binary package is koffi's optional dependency at koffi's version.
    expect(koffiManifest.optionalDependencies[platformPackage()]).toBe(koffiManifest.version);
  });

  it('is the binary koffi itself loads, with every call this package makes', () => {
    const module = koffi();
    const binary = createRequire(require.resolve('koffi'))(platformPackage());
    expect(module).toBe(binary);
    expect(module.version).toBe(koffiManifest.version);
    // The native functions koffi's entry point exports (it wraps only deprecated ones), sharing one type registry.
    const official = require('koffi') as typeof import('koffi');
    for (const name of [
      'load',
      'struct',
      'union',
      'array',
      'proto',
      'pointer',
      'opaque',
      'alias',
      'register',
    ]) {
      expect(typeof module[name as keyof typeof module], name).toBe('function');
    }
    expect(module.sizeof('uint32')).toBe(official.sizeof('uint32'));
  });
});
