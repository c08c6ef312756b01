import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HcsSandboxError, InvalidArgumentError } from '../../../src/internal/errors.js';
import { processAlive } from '../../../src/internal/file-lock.js';
import {
  SandboxBusyError,
  SandboxExistsError,
  SandboxNotFoundError,
  StateCorruptError,
} from '../../../src/sandbox/errors.js';
import {
  defaultStateRoot,
  type NewSandboxRecord,
  StateStore,
  validateSandboxName,
} from '../../../src/sandbox/state-store.js';

const REPO = join(import.meta.dirname, '..', '..', '..');
const WORKER = join(import.meta.dirname, 'fixtures', 'state', 'worker.mjs');
const MODULES = [
  'src/internal/errors.ts',
  'src/sandbox/errors.ts',
  'src/internal/atomic-file.ts',
  'src/internal/file-lock.ts',
  'src/internal/lazy-dependency.ts',
  'src/sandbox/record.ts',
  'src/internal/store-root.ts',
  'src/internal/isolation.ts',
  'src/internal/format-bytes.ts',
  'src/storage/errors.ts',
  'src/storage/sddl.ts',
  'src/storage/store-root-security.ts',
  'src/sandbox/state-store.ts',
];

let compiled: string;
let root: string;
let store: StateStore;

/** The store's modules compiled to plain JavaScript, so child `node` processes can import them. */
async function compileForChildren(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'hcs-state-js-'));
  await writeFile(join(out, 'package.json'), '{"type":"module"}');
  for (const file of MODULES) {
    const source = await readFile(join(REPO, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: file,
    });
    const target = join(out, file.replace(/\.ts$/, '.js'));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  return out;
}

interface WorkerRun {
  pid: number;
  /** Resolves with the worker's last JSON line once it exits. */
  result: Promise<Record<string, unknown> & { exitCode: number | null }>;
  /** Resolves when the worker prints `locked`. */
  locked: Promise<void>;
}

function worker(task: Record<string, unknown>, storeRoot = root): WorkerRun {
  const child = spawn(process.execPath, [WORKER, compiled, storeRoot, JSON.stringify(task)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onLocked: () => void = () => {};
  const locked = new Promise<void>((resolve) => {
    onLocked = resolve;
  });
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.includes('locked\n')) onLocked();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const result = new Promise<Record<string, unknown> & { exitCode: number | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve({ ...(last.startsWith('{') ? JSON.parse(last) : {}), exitCode });
      } catch {
        reject(new Error(`worker output: ${out}\nstderr: ${err}`));
      }
      if (err.trim() !== '') console.error(`worker stderr: ${err}`);
    });
  });
  return { pid: child.pid!, result, locked };
}

const record = (name: string, extra: Partial<NewSandboxRecord> = {}): NewSandboxRecord => ({
  name,
  id: `hcs-sandbox-${name}-0001`,
  options: { memoryMB: 2048 },
  isolation: 'process',
  status: 'created',
  persistent: false,
  ...extra,
});

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid!;
}

beforeAll(async () => {
  compiled = await compileForChildren();
});
afterAll(async () => {
  await rm(compiled, { recursive: true, force: true });
});
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hcs-state-'));
  store = new StateStore({ root, lockTimeoutMs: 5_000 });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('defaultStateRoot', () => {
  it('uses %ProgramData%\\hcs-sandbox on Windows', () => {
    expect(defaultStateRoot({ platform: 'win32', env: { ProgramData: 'D:\\PD' } })).toBe(
      'D:\\PD\\hcs-sandbox',
    );
    expect(defaultStateRoot({ platform: 'win32', env: {} })).toBe('C:\\ProgramData\\hcs-sandbox');
  });
  it('uses ~/.hcs-sandbox elsewhere', () => {
    expect(defaultStateRoot({ platform: 'linux', env: {}, home: '/home/dev' })).toBe(
      '/home/dev/.hcs-sandbox',
    );
  });
  it('lets HCS_SANDBOX_HOME override, made absolute', () => {
    expect(defaultStateRoot({ platform: 'linux', env: { HCS_SANDBOX_HOME: '/srv/state' } })).toBe(
      '/srv/state',
    );
    expect(
      defaultStateRoot({ platform: 'win32', env: { HCS_SANDBOX_HOME: 'E:\\s', ProgramData: 'C:\\PD' } }),
    ).toBe('E:\\s');
    expect(defaultStateRoot({ platform: 'linux', env: { HCS_SANDBOX_HOME: 'rel' } })).toBe(
      join(process.cwd(), 'rel'),
    );
  });
  it('the root option wins over everything', () => {
    expect(new StateStore({ root: '/x/y' }).root).toBe('/x/y');
  });
});

describe('names', () => {
  it.each(['a', 'web-1', 'build_2.test', '0', 'x'.repeat(63), 'console', 'con-1'])('accepts %j', (name) => {
    expect(() => validateSandboxName(name)).not.toThrow();
  });
  it.each([
    '',
    'A',
    'Web',
    '-a',
    '.a',
    '_a',
    'a b',
    'a/b',
    'a\\b',
    '..',
    'x'.repeat(64),
    'é',
    'con',
    'nul.x',
    'com1',
    'LPT1',
    5,
    null,
  ])('refuses %j with InvalidArgumentError(name)', async (name) => {
    expect(() => validateSandboxName(name)).toThrow(InvalidArgumentError);
    const err = await caught(store.getRecord(name as string));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('name');
    expect((err as InvalidArgumentError).code).toBe('INVALID_ARGUMENT');
  });
});

describe('records in one process', () => {
  it('creates, reads, updates, lists and removes', async () => {
    const created = await store.createRecord(
      record('web', { image: 'nano', layers: [{ id: 'g1', path: 'C:\\l\\1' }] }),
    );
    expect(created.createdAt).toBe(created.updatedAt);
    expect(await store.getRecord('web')).toEqual(created);
    const file = JSON.parse(await readFile(join(root, 'sandboxes', 'web.json'), 'utf8'));
    expect(file).toEqual({ version: 1, record: created });

    await sleep(5);
    const updated = await store.updateRecord('web', {
      status: 'running',
      ownerPid: 1234,
      scratchDir: 'C:\\s',
    });
    expect(updated).toMatchObject({
      status: 'running',
      ownerPid: 1234,
      scratchDir: 'C:\\s',
      createdAt: created.createdAt,
    });
    expect(updated.updatedAt > created.updatedAt).toBe(true);
    const cleared = await store.updateRecord('web', (cur) => ({
      ownerPid: undefined,
      options: { ...cur.options, cpus: 2 },
    }));
    expect(cleared).not.toHaveProperty('ownerPid');
    expect(cleared.options).toMatchObject({ memoryMB: 2048, cpus: 2 });

    // A transition is one write: status and fields together, options merged (undefined removes).
    const moved = await store.transition('web', 'stopped', { options: { cpus: undefined, cpuLimit: 50 } });
    expect(moved.status).toBe('stopped');
    expect(moved.options).toEqual({ memoryMB: 2048, cpuLimit: 50 });

    await store.createRecord(record('api'));
    expect((await store.listRecords()).map((r) => r.name)).toEqual(['api', 'web']);
    await store.removeRecord('web');
    expect(await store.findRecord('web')).toBeUndefined();
    expect((await store.listRecords()).map((r) => r.name)).toEqual(['api']);
    // No temporary files or locks are left behind.
    expect(await readdir(join(root, 'sandboxes'))).toEqual(['api.json']);
    expect(await readdir(join(root, 'locks'))).toEqual([]);
  });

  it('lists nothing for a store that does not exist yet', async () => {
    expect(await new StateStore({ root: join(root, 'none') }).listRecords()).toEqual([]);
  });

  it('SandboxNotFoundError for get, update and remove of an unknown name', async () => {
    for (const op of [
      store.getRecord('ghost'),
      store.updateRecord('ghost', { status: 'running' }),
      store.removeRecord('ghost'),
    ]) {
      const err = await caught(op);
      expect(err).toBeInstanceOf(SandboxNotFoundError);
      expect(err).toBeInstanceOf(HcsSandboxError);
      expect(err).toMatchObject({ code: 'SANDBOX_NOT_FOUND', sandbox: 'ghost' });
    }
  });

  it('SandboxExistsError for a second create', async () => {
    await store.createRecord(record('dup'));
    const err = await caught(store.createRecord(record('dup', { id: 'other' })));
    expect(err).toBeInstanceOf(SandboxExistsError);
    expect(err).toMatchObject({ code: 'SANDBOX_EXISTS', sandbox: 'dup' });
    expect((await store.getRecord('dup')).id).toBe('hcs-sandbox-dup-0001');
  });

  it.each([
    [{ id: '' }, 'record.id'],
    [{ isolation: 'docker' }, 'record.isolation'],
    [{ status: 'zombie' }, 'record.status'],
    [{ persistent: 'yes' }, 'record.persistent'],
    [{ options: [] }, 'record.options'],
    [{ ownerPid: -1 }, 'record.ownerPid'],
    [{ layers: [{ id: 1 }] }, 'record.layers'],
    [{ createdAt: 'yesterday' }, 'record.createdAt'],
  ])('refuses a bad record %j', async (bad, field) => {
    const err = await caught(store.createRecord({ ...record('bad'), ...bad } as NewSandboxRecord));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
    expect(await store.findRecord('bad')).toBeUndefined();
  });

  it('refuses patches of name, createdAt and updatedAt, and bad values', async () => {
    await store.createRecord(record('p'));
    for (const [patch, field] of [
      [{ name: 'q' }, 'patch.name'],
      [{ createdAt: new Date().toISOString() }, 'patch.createdAt'],
      [{ updatedAt: new Date().toISOString() }, 'patch.updatedAt'],
      [{ status: 'gone' }, 'record.status'],
      [{ id: undefined }, 'record.id'],
    ] as const) {
      const err = await caught(store.updateRecord('p', patch as never));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).field).toBe(field);
    }
    expect(await store.getRecord('p')).toMatchObject({ name: 'p', status: 'created' });
  });

  it('stored options are typed: a wrong type is a corrupt record naming the field, unknown fields are dropped', async () => {
    await mkdir(join(root, 'sandboxes'), { recursive: true });
    const file = (options: unknown) =>
      JSON.stringify({
        version: 1,
        record: {
          ...record('typed'),
          options,
          createdAt: new Date().toISOString(),
          updatedAt: new Date().toISOString(),
        },
      });
    const bad: [unknown, string][] = [
      [{ memoryMB: '2048' }, 'record.options.memoryMB'],
      [{ env: { A: 1 } }, 'record.options.env'],
      [{ mappedFolders: [{ hostPath: 'C:\\x' }] }, 'record.options.mappedFolders'],
      [{ ports: 'a' }, 'record.options.ports'],
      [[], 'record.options'],
    ];
    for (const [options, field] of bad) {
      await writeFile(join(root, 'sandboxes', 'typed.json'), file(options));
      const err = await caught(store.getRecord('typed'));
      expect(err).toBeInstanceOf(StateCorruptError);
      expect((err as Error).message).toContain(field);
    }
    await writeFile(
      join(root, 'sandboxes', 'typed.json'),
      file({ memoryMB: 512, stray: true, mappedFolders: [{ hostPath: 'C:\\h', sandboxPath: 'C:\\s' }] }),
    );
    expect((await store.getRecord('typed')).options).toEqual({
      memoryMB: 512,
      mappedFolders: [{ hostPath: 'C:\\h', sandboxPath: 'C:\\s', readOnly: false }],
    });
  });

  it('StateCorruptError for files that are not a record, with the path', async () => {
    await mkdir(join(root, 'sandboxes'), { recursive: true });
    const cases: [string, string, string][] = [
      ['torn', '{"version":1,"record":{"name":"to', 'not JSON'],
      ['alien', '{"hello":1}', 'not a sandbox record file'],
      ['future', '{"version":2,"record":{}}', 'format version is 2'],
      ['invalid', '{"version":1,"record":{"name":"invalid"}}', 'record is invalid'],
    ];
    for (const [name, text, says] of cases) {
      await writeFile(join(root, 'sandboxes', `${name}.json`), text);
      const err = await caught(store.getRecord(name));
      expect(err).toBeInstanceOf(StateCorruptError);
      expect(err).toMatchObject({ code: 'STATE_CORRUPT', path: join(root, 'sandboxes', `${name}.json`) });
      expect((err as Error).message).toContain(says);
    }
    const other = JSON.stringify({
      version: 1,
      record: {
        ...record('elsewhere'),
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      },
    });
    await writeFile(join(root, 'sandboxes', 'renamed.json'), other);
    expect(((await caught(store.getRecord('renamed'))) as Error).message).toContain(
      'holds sandbox "elsewhere"',
    );

    await store.createRecord(record('fine'));
    expect(await caught(store.listRecords())).toBeInstanceOf(StateCorruptError);
    const corrupt: string[] = [];
    const listed = await store.listRecords({ skipCorrupt: true, onCorrupt: (e) => corrupt.push(e.path) });
    expect(listed.map((r) => r.name)).toEqual(['fine']);
    expect(corrupt).toHaveLength(5);
  });

  it('sweepTemporaryFiles removes what dead writers left, keeps live ones', async () => {
    await store.createRecord(record('one'));
    const dead = join(root, 'sandboxes', `.one.json.${await deadPid()}.0a1b2c3d.tmp`);
    const live = join(root, 'sandboxes', `.one.json.${process.pid}.0a1b2c3d.tmp`);
    await writeFile(dead, '{');
    await writeFile(live, '{');
    expect(await store.sweepTemporaryFiles()).toEqual([dead]);
    expect((await readdir(join(root, 'sandboxes'))).sort()).toEqual([
      `.one.json.${process.pid}.0a1b2c3d.tmp`,
      'one.json',
    ]);
    expect(await new StateStore({ root: join(root, 'none') }).sweepTemporaryFiles()).toEqual([]);
  });

  it('listRecords ignores temporary files and foreign names', async () => {
    await store.createRecord(record('one'));
    await writeFile(join(root, 'sandboxes', '.one.json.123.abcd.tmp'), '{');
    await writeFile(join(root, 'sandboxes', 'README.txt'), 'x');
    await writeFile(join(root, 'sandboxes', 'Upper.json'), '{');
    expect((await store.listRecords()).map((r) => r.name)).toEqual(['one']);
  });
});

describe('who can reach the records (they hold env, often secrets)', () => {
  it('a new store root is created reachable by its owner only, so no other user reads a record', async () => {
    const fresh = new StateStore({ root: join(root, 'fresh') });
    await fresh.createRecord(record('web', { options: { env: { TOKEN: 'secret' } } }));
    expect((await stat(fresh.root)).mode & 0o777).toBe(0o700);
  });

  it('an existing root others can write is refused before a record is written', async () => {
    const open = join(root, 'open');
    await mkdir(open);
    await chmod(open, 0o777);
    const shared = new StateStore({ root: open });
    await expect(shared.createRecord(record('web'))).rejects.toMatchObject({ code: 'STORE_ROOT_NOT_SECURE' });
    await expect(readdir(open)).resolves.toEqual([]);
  });
});

describe('withLock', () => {
  it('is re-entrant inside the same call chain, and store writes inside reuse it', async () => {
    await store.createRecord(record('re'));
    const value = await store.withLock('re', async () => {
      await store.updateRecord('re', { status: 'running' });
      return store.withLock('re', async () => 42, { timeoutMs: 0 });
    });
    expect(value).toBe(42);
    expect((await store.getRecord('re')).status).toBe('running');
  });

  it('serialises two call chains of one process', async () => {
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((tag) =>
        store.withLock('serial', async () => {
          order.push(`${tag}+`);
          await sleep(20);
          order.push(`${tag}-`);
        }),
      ),
    );
    for (let i = 0; i < order.length; i += 2) expect(order[i]!.slice(0, 1)).toBe(order[i + 1]!.slice(0, 1));
  });

  it('writes the owner into the lock file and removes it afterwards, also when fn throws', async () => {
    await store.withLock('own', async () => {
      const lock = JSON.parse(await readFile(join(root, 'locks', 'own.lock'), 'utf8'));
      expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
      expect(await store.lockHolder('own')).toMatchObject({ pid: process.pid });
    });
    expect(await store.lockHolder('own')).toBeUndefined();
    await expect(
      store.withLock('own', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await readdir(join(root, 'locks'))).toEqual([]);
  });

  it('SandboxBusyError after the timeout while another process holds it, naming the holder', async () => {
    const holder = worker({ kind: 'holdLock', name: 'busy', ms: 3_000 });
    await holder.locked;
    const started = Date.now();
    const err = await caught(store.withLock('busy', async () => 'never', { timeoutMs: 300 }));
    const waited = Date.now() - started;
    expect(err).toBeInstanceOf(SandboxBusyError);
    expect(err).toMatchObject({ code: 'SANDBOX_BUSY', sandbox: 'busy', owner: { pid: holder.pid } });
    expect((err as SandboxBusyError).waitedMs).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(2_000);
    // timeoutMs 0 tries once.
    expect(await caught(store.withLock('busy', async () => 'never', { timeoutMs: 0 }))).toBeInstanceOf(
      SandboxBusyError,
    );
    // Writes that lock are refused the same way.
    expect(await caught(store.createRecord(record('busy'), { timeoutMs: 50 }))).toBeInstanceOf(
      SandboxBusyError,
    );
    // And once the holder is done, the lock is ours.
    expect(await store.withLock('busy', async () => 'got it', { timeoutMs: 10_000 })).toBe('got it');
    expect((await holder.result).released).toBe(true);
  });

  it('takes over the lock of a process that died holding it', async () => {
    const crashed = worker({ kind: 'holdLock', name: 'crash', die: true });
    expect((await crashed.result).exitCode).toBe(3);
    expect(processAlive(crashed.pid)).toBe(false);
    const lock = JSON.parse(await readFile(join(root, 'locks', 'crash.lock'), 'utf8'));
    expect(lock.pid).toBe(crashed.pid);
    const started = Date.now();
    expect(await store.withLock('crash', async () => 'recovered', { timeoutMs: 0 })).toBe('recovered');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await readdir(join(root, 'locks'))).toEqual([]);
  });

  it('takes over a lock left by a dead pid, a previous boot, our own pid, or an abandoned empty file', async () => {
    await mkdir(join(root, 'locks'), { recursive: true });
    const now = Date.now();
    const boot = Math.round((now - (await import('node:os')).uptime() * 1000) / 1000) * 1000;
    const content = (over: Record<string, unknown>) =>
      JSON.stringify({
        pid: process.pid,
        acquiredAt: new Date().toISOString(),
        host: hostname(),
        bootedAt: boot,
        token: 't',
        ...over,
      });
    const dead = await deadPid();
    const cases: [string, string][] = [
      ['dead', content({ pid: dead })],
      ['reboot', content({ pid: 1, bootedAt: boot - 3_600_000 })],
      ['mine', content({ token: 'not-held-by-this-process' })],
      ['empty', ''],
    ];
    for (const [name, text] of cases) {
      const path = join(root, 'locks', `${name}.lock`);
      await writeFile(path, text);
      if (text === '') await utimes(path, new Date(now - 10_000), new Date(now - 10_000));
      expect(await store.withLock(name, async () => name, { timeoutMs: 0 })).toBe(name);
    }
    // A fresh empty lock (being written now) and a live pid (pid 1) are respected.
    await writeFile(join(root, 'locks', 'fresh.lock'), '');
    expect(await caught(store.withLock('fresh', async () => 0, { timeoutMs: 50 }))).toBeInstanceOf(
      SandboxBusyError,
    );
    await writeFile(join(root, 'locks', 'init.lock'), content({ pid: 1 }));
    expect(await caught(store.withLock('init', async () => 0, { timeoutMs: 50 }))).toMatchObject({
      code: 'SANDBOX_BUSY',
      owner: { pid: 1 },
    });
    // A lock from another host is never judged by a local pid.
    await writeFile(join(root, 'locks', 'remote.lock'), content({ pid: dead, host: `${hostname()}-other` }));
    expect(await caught(store.withLock('remote', async () => 0, { timeoutMs: 50 }))).toBeInstanceOf(
      SandboxBusyError,
    );
  });

  it('many waiters on one stale lock: exactly one holds it at a time', async () => {
    await store.createRecord(record('stale', { options: { memoryMB: 0 } }));
    const boot = Math.round((Date.now() - (await import('node:os')).uptime() * 1000) / 1000) * 1000;
    const lock = join(root, 'locks', 'stale.lock');
    await writeFile(
      lock,
      JSON.stringify({
        pid: await deadPid(),
        acquiredAt: new Date().toISOString(),
        host: hostname(),
        bootedAt: boot,
        token: 's',
      }),
    );
    // Six processes find the same dead owner's lock and race to break it.
    const runs = Array.from({ length: 6 }, () => worker({ kind: 'lockedCounter', name: 'stale', times: 10 }));
    const results = await Promise.all(runs.map((r) => r.result));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    expect((await store.getRecord('stale')).options.memoryMB).toBe(60);
    expect(await readdir(join(root, 'locks'))).toEqual([]);
  });

  it('stops waiting when the signal aborts', async () => {
    const holder = worker({ kind: 'holdLock', name: 'abort', ms: 2_000 });
    await holder.locked;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await caught(
      store.withLock('abort', async () => 0, { timeoutMs: 10_000, signal: controller.signal }),
    );
    expect((err as Error).name).toBe('AbortError');
    await holder.result;
  });

  it('refuses a bad timeout', async () => {
    const err = await caught(store.withLock('t', async () => 0, { timeoutMs: -1 }));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'timeoutMs' });
  });
});

describe('several processes at once', () => {
  it('loses no update: 8 processes x 25 increments on one record', { timeout: 60_000 }, async () => {
    await store.createRecord(record('shared', { options: { memoryMB: 0, ports: [] } }));
    const runs = Array.from({ length: 8 }, (_, i) =>
      worker({ kind: 'counter', name: 'shared', times: 25, tag: `w${i}` }),
    );
    const results = await Promise.all(runs.map((r) => r.result));
    expect(results.map((r) => r.exitCode)).toEqual(Array(8).fill(0));
    const final = await store.getRecord('shared');
    expect(final.options.memoryMB).toBe(200);
    const log = final.options.ports as string[];
    expect(log).toHaveLength(200);
    // Each worker's own increments are in order.
    for (let i = 0; i < 8; i++) {
      expect(log.filter((e) => e.startsWith(`w${i}:`))).toEqual(
        Array.from({ length: 25 }, (_, k) => `w${i}:${k}`),
      );
    }
    expect((await readdir(join(root, 'sandboxes'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('read-then-write inside withLock is exclusive across 6 processes', { timeout: 60_000 }, async () => {
    await store.createRecord(record('excl', { options: { memoryMB: 0 } }));
    const runs = Array.from({ length: 6 }, () => worker({ kind: 'lockedCounter', name: 'excl', times: 15 }));
    await Promise.all(runs.map((r) => r.result));
    expect((await store.getRecord('excl')).options.memoryMB).toBe(90);
  });

  it('exactly one of 10 racing creates of a name wins; the others get SANDBOX_EXISTS', {
    timeout: 60_000,
  }, async () => {
    const runs = Array.from({ length: 10 }, (_, i) =>
      worker({ kind: 'createRace', name: 'race', tag: `w${i}` }),
    );
    const results = await Promise.all(runs.map((r) => r.result));
    const outcomes = results.map((r) => r.result);
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'SANDBOX_EXISTS')).toHaveLength(9);
    const winner = outcomes.indexOf('created');
    expect((await store.getRecord('race')).options).toEqual({ owner: `w${winner}` });
  });

  it('exactly one of 8 racing removes wins; the others get SANDBOX_NOT_FOUND', {
    timeout: 60_000,
  }, async () => {
    await store.createRecord(record('gone'));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => worker({ kind: 'removeRace', name: 'gone' }).result),
    );
    const outcomes = results.map((r) => r.result).sort();
    expect(outcomes).toEqual(['SANDBOX_NOT_FOUND', ...Array(6).fill('SANDBOX_NOT_FOUND'), 'removed'].sort());
    expect(await store.findRecord('gone')).toBeUndefined();
  });

  it('6 processes with their own names: nothing lost or crossed', { timeout: 60_000 }, async () => {
    const plans = Array.from({ length: 6 }, (_, w) => {
      const names = Array.from({ length: 8 }, (_, k) => `w${w}-sb${k}`);
      return { kind: 'lifecycle', tag: `w${w}`, names, remove: names.filter((_, k) => k % 3 === 0) };
    });
    const results = await Promise.all(plans.map((plan) => worker(plan).result));
    expect(results.map((r) => r.exitCode)).toEqual(Array(6).fill(0));
    const kept = plans.flatMap((p) => p.names.filter((n) => !p.remove.includes(n))).sort();
    const records = await store.listRecords();
    expect(records.map((r) => r.name)).toEqual(kept);
    for (const r of records) {
      const owner = r.name.split('-')[0];
      expect(r).toMatchObject({
        status: 'stopped',
        options: { owner, hostName: owner },
        id: `hcs-sandbox-${r.name}`,
      });
    }
  });

  it('readers in other processes never see a torn record while 3 writers replace a large one', {
    timeout: 60_000,
  }, async () => {
    const size = 256 * 1024;
    await store.createRecord(
      record('big', { options: { hostName: 'a', scratchSizeGB: size, workingDir: 'a'.repeat(size) } }),
    );
    const readers = Array.from({ length: 3 }, () => worker({ kind: 'reader', name: 'big', ms: 2_500 }));
    const writers = Array.from({ length: 3 }, () =>
      worker({ kind: 'bigWriter', name: 'big', times: 30, size }),
    );
    const written = await Promise.all(writers.map((w) => w.result));
    expect(written.every((w) => w.exitCode === 0)).toBe(true);
    const read = await Promise.all(readers.map((r) => r.result));
    for (const r of read) {
      expect(r).toMatchObject({ bad: 0, errorCount: 0 });
      expect(r.reads as number).toBeGreaterThan(10);
    }
    const info = await stat(join(root, 'sandboxes', 'big.json'));
    expect(info.size).toBeGreaterThan(size);
  });
});
