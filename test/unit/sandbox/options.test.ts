import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import { normaliseOptions } from '../../../src/sandbox/options.js';

const host = { cpus: 4, memoryMB: 16384 };
const base = { image: 'local/base:1' };

describe('normaliseOptions', () => {
  it('fills the defaults', () => {
    expect(normaliseOptions(base, host)).toMatchObject({
      isolation: 'process',
      persistent: false,
      network: 'nat',
      ports: [],
      scratchSizeGB: 20,
      owner: 'hcs-sandbox',
      start: true,
    });
  });

  it.each([
    [{ ...base, isolation: 'docker' }, 'isolation'],
    [{ isolation: 'process' }, 'image'],
    [{ ...base, name: 'Bad Name' }, 'name'],
    [{ ...base, memoryMB: 100 }, 'memoryMB'],
    [{ ...base, memoryMB: 999_999 }, 'memoryMB'],
    [{ ...base, cpus: 0 }, 'cpus'],
    [{ ...base, cpus: 5 }, 'cpus'],
    [{ ...base, cpuLimit: 0 }, 'cpuLimit'],
    [{ ...base, cpuLimit: 101 }, 'cpuLimit'],
    [{ ...base, cpuWeight: 20_000 }, 'cpuWeight'],
    [{ ...base, cpus: 2, cpuLimit: 50 }, 'cpuLimit'],
    [{ ...base, cpuLimit: 50, cpuWeight: 10 }, 'cpuWeight'],
    [{ ...base, ioMaxIops: -1 }, 'ioMaxIops'],
    [{ ...base, env: { 'A=B': 'x' } }, 'env.A=B'],
    [
      { ...base, mappedFolders: [{ hostPath: 'relative', sandboxPath: 'C:\\data' }] },
      'mappedFolders[0].hostPath',
    ],
    [
      { ...base, mappedFolders: [{ hostPath: 'C:\\h', sandboxPath: 'D:\\data' }] },
      'mappedFolders[0].sandboxPath',
    ],
    [
      {
        ...base,
        mappedFolders: [
          { hostPath: 'C:\\a', sandboxPath: 'C:\\data' },
          { hostPath: 'C:\\b', sandboxPath: 'c:\\DATA' },
        ],
      },
      'mappedFolders[1].sandboxPath',
    ],
    [{ ...base, workingDir: 'work' }, 'workingDir'],
    [{ ...base, scratchSizeGB: 0 }, 'scratchSizeGB'],
    [{ ...base, network: 'bridge' }, 'network'],
    [{ ...base, network: 'none', ports: ['80:80'] }, 'ports'],
    [{ ...base, ports: ['0:80'] }, 'ports[0]'],
    [
      { ...base, ports: ['80', { hostAddress: 'localhost', hostPort: 8080, sandboxPort: 80 }] },
      'ports[1].hostAddress',
    ],
    [{ ...base, ports: [{ hostAddress: '', hostPort: 8080, sandboxPort: 80 }] }, 'ports[0].hostAddress'],
    [{ ...base, ports: [{ hostAddress: 127, hostPort: 8080, sandboxPort: 80 }] }, 'ports[0].hostAddress'],
    [{ ...base, allow: ['10.0.0.0/8'] }, 'allow'],
    [{ ...base, network: 'isolated', allow: ['10.0.0.1/8'] }, 'allow[0]'],
  ])('refuses %j naming %s', (options, field) => {
    let error: unknown;
    try {
      normaliseOptions(options as never, host);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
  });

  it('keeps the host address of a port given as an object, as of one given as a string', () => {
    const ports = [
      { hostAddress: '127.0.0.1', hostPort: 8080, sandboxPort: 80 },
      '127.0.0.1:5353:53/udp',
      { hostPort: 3389, sandboxPort: 3389, protocol: 'tcp' as const },
    ];
    expect(normaliseOptions({ ...base, ports } as never, host).ports).toEqual([
      { hostAddress: '127.0.0.1', hostPort: 8080, sandboxPort: 80, protocol: 'tcp' },
      { hostAddress: '127.0.0.1', hostPort: 5353, sandboxPort: 53, protocol: 'udp' },
      { hostPort: 3389, sandboxPort: 3389, protocol: 'tcp' },
    ]);
  });
});
