import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { normaliseOptions } from '../../../src/sandbox/options.js';

/**
 * Issue 13, item 13: every option of `Sandbox.create` is type-checked before
 * anything else, and a wrong one ends in `InvalidArgumentError` naming the
 * field, never a raw `TypeError` from deeper down.
 */

const host = { cpus: 4, memoryMB: 16384 };
const base = { image: 'local/base:1' };

type Kind = 'string' | 'number' | 'boolean' | 'array' | 'object';
const FIELDS_BY_KIND: Record<Kind, string[]> = {
  string: ['image', 'isolation', 'name', 'workingDir', 'hostName', 'owner', 'home', 'network', 'networkName'],
  number: ['memoryMB', 'cpus', 'cpuLimit', 'cpuWeight', 'ioMaxIops', 'ioMaxBandwidth', 'scratchSizeGB'],
  boolean: ['persistent', 'start'],
  array: ['mappedFolders', 'ports', 'allow'],
  object: ['env', 'dns'],
};
const FIELDS: Record<string, Kind> = Object.fromEntries(
  Object.entries(FIELDS_BY_KIND).flatMap(([kind, fields]) => fields.map((f) => [f, kind as Kind])),
);
const WRONG: Record<Kind, unknown[]> = {
  string: [null, 42, {}, [], true],
  number: [null, '42', {}, [], true, Number.NaN],
  boolean: [null, 1, 'true', {}, []],
  array: [null, 42, '80:80', {}, true],
  object: [null, 42, 'A=1', ['A=1'], true],
};

function errorOf(options: unknown): unknown {
  try {
    normaliseOptions(options as never, host);
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectRefused(options: unknown, field: string): void {
  const error = errorOf(options);
  expect(error).not.toBeInstanceOf(TypeError);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).field).toBe(field);
  expect((error as Error).message).toContain(field);
}

const wrongTypes = Object.entries(FIELDS).flatMap(([field, kind]) =>
  WRONG[kind].map((value) => [field, value] as const),
);

describe('sandbox options: every field is type-checked', () => {
  it.each(wrongTypes)('%s = %j is an InvalidArgumentError naming it', (field, value) => {
    expectRefused({ ...base, [field]: value }, field);
  });

  it.each([
    [{ ...base, ports: [null] }, 'ports[0]'],
    [{ ...base, ports: ['80', 42] }, 'ports[1]'],
    [{ ...base, ports: [[80, 80]] }, 'ports[0]'],
    [{ ...base, ports: [{ hostPort: '80', sandboxPort: 80 }] }, 'ports[0].hostPort'],
    [{ ...base, ports: [{ hostPort: 80 }] }, 'ports[0].sandboxPort'],
    [{ ...base, ports: [{ hostPort: 80, sandboxPort: 80, protocol: 'sctp' }] }, 'ports[0].protocol'],
    [{ ...base, mappedFolders: [null] }, 'mappedFolders[0]'],
    [{ ...base, mappedFolders: ['C:\\host'] }, 'mappedFolders[0]'],
    [
      { ...base, mappedFolders: [{ hostPath: 'C:\\h', sandboxPath: 'C:\\s', readOnly: 'yes' }] },
      'mappedFolders[0].readOnly',
    ],
    [{ ...base, mappedFolders: [{ hostPath: 42, sandboxPath: 'C:\\s' }] }, 'mappedFolders[0].hostPath'],
    [{ ...base, network: 'isolated', allow: [null] }, 'allow[0]'],
    [{ ...base, network: 'isolated', allow: ['10.0.0.0/8', 8] }, 'allow[1]'],
    [{ ...base, env: { A: 1 } }, 'env.A'],
    [{ ...base, dns: { servers: '1.1.1.1' } }, 'dns.servers'],
    [{ ...base, dns: { servers: ['1.1.1.1', 'one.one'] } }, 'dns.servers[1]'],
    [{ ...base, dns: { servers: [null] } }, 'dns.servers[0]'],
    [{ ...base, dns: { search: ['-corp.example.com'] } }, 'dns.search[0]'],
    [{ ...base, dns: { search: ['corp.example.com', 7] } }, 'dns.search[1]'],
    [{ ...base, dns: { server: ['1.1.1.1'] } }, 'dns.server'],
    [{ ...base, hostName: '' }, 'hostName'],
    [{ ...base, hostName: 'bad_name!' }, 'hostName'],
    [{ ...base, hostName: '-sbx' }, 'hostName'],
    [{ ...base, hostName: 'sbx-' }, 'hostName'],
    [{ ...base, hostName: 'a'.repeat(64) }, 'hostName'],
    [{ ...base, hostName: 'sbx.example.com' }, 'hostName'],
    [{ ...base, owner: '' }, 'owner'],
    [{ ...base, owner: 'a\nb' }, 'owner'],
    [{ ...base, owner: 'o'.repeat(257) }, 'owner'],
    [{ ...base, networkName: '' }, 'networkName'],
    [{ ...base, networkName: 'lab\0' }, 'networkName'],
    [{ ...base, home: '' }, 'home'],
    [{ ...base, memoryMb: 512 }, 'memoryMb'],
    [{ ...base, mappedFolder: [] }, 'mappedFolder'],
  ])('refuses %j naming %s', (options, field) => {
    expectRefused(options, field);
  });

  it.each([null, 42, 'image', [base]])(
    'options = %j is an InvalidArgumentError naming options',
    (options) => {
      expectRefused(options, 'options');
    },
  );

  it('checks types before values: a wrong type is named even beside a bad value', () => {
    expectRefused({ ...base, memoryMB: 1, ports: 'x' }, 'ports');
  });

  it('takes every field well given, and undefined for any', () => {
    const options = {
      ...base,
      isolation: 'process',
      name: 'sb1',
      persistent: true,
      memoryMB: 1024,
      cpus: 2,
      ioMaxIops: 100,
      ioMaxBandwidth: 1000,
      mappedFolders: [{ hostPath: 'C:\\h', sandboxPath: 'C:\\s', readOnly: true }],
      env: { A: '1' },
      workingDir: 'C:\\work',
      hostName: 'sbx-01',
      scratchSizeGB: 5,
      owner: 'my-app',
      home: 'C:\\store',
      start: false,
      network: 'isolated',
      networkName: 'hcs-sandbox-lab',
      ports: ['8080:80', { hostPort: 53, sandboxPort: 53, protocol: 'udp' }],
      allow: ['10.0.0.0/8'],
      dns: { servers: ['1.1.1.1'], search: ['corp.example.com'] },
    };
    expect(normaliseOptions(options as never, host)).toMatchObject({
      hostName: 'sbx-01',
      owner: 'my-app',
      home: 'C:\\store',
      networkName: 'hcs-sandbox-lab',
      dns: options.dns,
    });
    const allUndefined = Object.fromEntries(Object.keys(FIELDS).map((k) => [k, undefined]));
    expect(normaliseOptions({ ...allUndefined, ...base } as never, host).owner).toBe('hcs-sandbox');
  });
});
