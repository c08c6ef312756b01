import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** Paths whose creation fails as a folder we may not write does (the tests run as root, so chmod does not). */
const deniedPaths = new Set<string>();

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: (async (path: string, ...rest: unknown[]) => {
      if (deniedPaths.has(String(path))) {
        throw Object.assign(new Error(`EACCES: permission denied, open '${String(path)}'`), {
          code: 'EACCES',
        });
      }
      return (real.open as (...args: unknown[]) => unknown)(path, ...rest);
    }) as typeof real.open,
  };
});

const { LockAccessDeniedError, withFileLock } = await import('../../../src/internal/file-lock.js');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-lock-'));
});
afterEach(async () => {
  deniedPaths.clear();
  await rm(dir, { recursive: true, force: true });
});

describe('withFileLock', () => {
  it('takes and releases a lock', async () => {
    await expect(withFileLock('box', join(dir, 'box.lock'), async () => 7)).resolves.toBe(7);
  });

  it('reports a folder it may not write as LockAccessDeniedError naming the path, quickly', async () => {
    const path = join(dir, 'locks', 'box.lock');
    deniedPaths.add(path);
    const started = Date.now();
    const settled = withFileLock('box', path, async () => 'ran', { timeoutMs: 60_000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const bound = new Promise((resolve) => setTimeout(() => resolve('did not settle'), 3_000));
    const error = await Promise.race([settled, bound]);
    expect(error).toBeInstanceOf(LockAccessDeniedError);
    expect(error).toMatchObject({ code: 'LOCK_ACCESS_DENIED', path, key: 'box', kind: 'failure' });
    expect((error as Error).message).toContain(path);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('with timeoutMs 0 reports the denial after one try', async () => {
    const path = join(dir, 'box.lock');
    deniedPaths.add(path);
    await expect(withFileLock('box', path, async () => 'ran', { timeoutMs: 0 })).rejects.toBeInstanceOf(
      LockAccessDeniedError,
    );
  });
});
