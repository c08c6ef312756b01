import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as hcs from '../../../src/hcs/index.js';
import * as entry from '../../../src/index.js';
import {
  ConflictError,
  type ErrorKind,
  HcsSandboxError,
  InvalidArgumentError,
  InvalidStateError,
  NotFoundError,
  UnavailableError,
} from '../../../src/index.js';
import { LockAccessDeniedError, LockBusyError } from '../../../src/internal/file-lock.js';
import * as jobs from '../../../src/jobs/index.js';
import * as network from '../../../src/network/index.js';
import * as schema from '../../../src/schema/index.js';
import * as storage from '../../../src/storage/index.js';

/** Everything the package exports: the root entry and its subpath entries (package.json "exports"). */
const root = { ...hcs, ...storage, ...network, ...jobs, ...schema, ...entry };

/**
 * Every error class the package exports must have a kind: the CLI maps kinds to
 * exit codes, and callers catch the kind bases. A new class makes this test
 * fail until it is added to SAMPLES (and so given a base and a documented kind).
 */

/** The class each kind's errors derive from (`host` and `failure` have none of their own). */
const BASES: Record<ErrorKind, abstract new (...args: never[]) => HcsSandboxError> = {
  'not-found': NotFoundError,
  conflict: ConflictError,
  'invalid-state': InvalidStateError,
  'invalid-argument': InvalidArgumentError,
  unavailable: UnavailableError,
  host: HcsSandboxError,
  failure: HcsSandboxError,
};
const KIND_BASES = [NotFoundError, ConflictError, InvalidStateError, InvalidArgumentError, UnavailableError];
const GENERIC = new Set<unknown>([
  HcsSandboxError,
  NotFoundError,
  ConflictError,
  InvalidStateError,
  UnavailableError,
]);

const result = {
  command: 'cmd /c exit 1',
  exitCode: 1,
  stdout: '',
  stderr: '',
  timedOut: false,
  isCanceled: false,
  durationMs: 5,
};
const sha = `sha256:${'a'.repeat(64)}`;
const owner = { pid: 42, acquiredAt: '2026-01-01T00:00:00.000Z' };

/** One instance of each exported error class, built from its constructor, by export name. */
const SAMPLES: Record<string, () => Error> = {
  HcsSandboxError: () => new root.HcsSandboxError('SOMETHING', 'something'),
  NotFoundError: () => new root.NotFoundError('THING_NOT_FOUND', 'no thing'),
  ConflictError: () => new root.ConflictError('THING_EXISTS', 'thing exists'),
  InvalidStateError: () => new root.InvalidStateError('THING_STOPPED', 'thing stopped'),
  UnavailableError: () => new root.UnavailableError('THING_UNAVAILABLE', 'no thing here'),
  InvalidArgumentError: () => new root.InvalidArgumentError('memoryMB', 'a whole number', -1),
  FunctionUnavailableError: () =>
    new root.FunctionUnavailableError('computecore.dll', 'HcsWaitForProcessExit', '20348'),
  HcsUnavailableError: () => new root.HcsUnavailableError('not-windows', 'computecore.dll', 'not Windows'),
  HandleClosedError: () => new root.HandleClosedError('compute system x'),
  HcsError: () => new root.HcsError({ hresult: 0x8037010e, operation: 'HcsOpenComputeSystem' }),
  Win32CallError: () => new root.Win32CallError('CreateJobObjectW', 5),
  JobClosedError: () => new root.JobClosedError('assign a process'),
  JobRunAbortedError: () => new root.JobRunAbortedError('timeout', 1, null),
  HcnError: () => new root.HcnError({ hresult: 0x803b0001, operation: 'HcnOpenNetwork' }),
  CidrParseError: () => new root.CidrParseError('subnet', '10.0.0.0/33', 'prefix over 32'),
  PortMappingParseError: () => new root.PortMappingParseError('publish', '80', 'no sandbox port'),
  PortConflictError: () => new root.PortConflictError(8080, 'tcp', 'another program'),
  NetworkNotFoundError: () => new root.NetworkNotFoundError('lan'),
  NetworkNotOwnedError: () => new root.NetworkNotOwnedError('network "lan"'),
  CommandExitError: () => new root.CommandExitError(result),
  TimeoutError: () => new root.TimeoutError({ ...result, timedOut: true }),
  LimitUpdateUnsupportedError: () =>
    new root.LimitUpdateUnsupportedError('box', 'VirtualMachine/ComputeTopology/Memory', undefined),
  GuestAgentRequiredError: () => new root.GuestAgentRequiredError('box', 'commands'),
  AgentNotReadyError: () => new root.AgentNotReadyError('box', 1000, new Error('no READY')),
  AgentRequestError: () => new root.AgentRequestError(8, 2, 'C:\\a.txt: not found'),
  AgentConnectionClosedError: () => new root.AgentConnectionClosedError('the relay exited'),
  AgentProtocolError: () => new root.AgentProtocolError('frame type 99 before READY'),
  NotOwnedError: () => new root.NotOwnedError('other-system', 'docker'),
  SandboxBusyError: () => new root.SandboxBusyError('box', 10_000, owner),
  SandboxExistsError: () => new root.SandboxExistsError('box'),
  SandboxNotRunningError: () => new root.SandboxNotRunningError('box', 'stopped'),
  SandboxRunningError: () => new root.SandboxRunningError('box'),
  CommitUnavailableError: () => new root.CommitUnavailableError('box', 'no writable layer'),
  SandboxNotVmError: () => new root.SandboxNotVmError('box', 'process'),
  ViewPortInUseError: () => new root.ViewPortInUseError(3390),
  ViewerLaunchError: () => new root.ViewerLaunchError('mstsc.exe'),
  SandboxNotFoundError: () => new root.SandboxNotFoundError('box'),
  StateCorruptError: () => new root.StateCorruptError('box.json', 'not JSON'),
  WsbError: () => new root.WsbError({ fileName: 'a.wsb', line: 1, column: 1, problem: 'not XML' }),
  SandboxFilesUnavailableError: () => new root.SandboxFilesUnavailableError('box', 'it is Hyper-V isolated'),
  SandboxPathLinkError: () => new root.SandboxPathLinkError('C:\\work\\link'),
  SandboxPathNotFoundError: () => new root.SandboxPathNotFoundError('C:\\work\\nope'),
  SandboxPathNotRemovableError: () => new root.SandboxPathNotRemovableError('C:\\work', 'not-empty'),
  UnsupportedFeatureError: () =>
    new root.UnsupportedFeatureError('Hibernation', { Major: 2, Minor: 5 }, { Major: 2, Minor: 1 }),
  InsufficientSpaceError: () => new root.InsufficientSpaceError('C:\\', 1e9, 2e10),
  RollbackError: () => new root.RollbackError(new Error('attach failed'), []),
  ScratchLayerStateError: () => new root.ScratchLayerStateError('C:\\s', 'already there'),
  ElevationRequiredError: () => new root.ElevationRequiredError('HcsImportLayer', ['an elevated token']),
  StoreRootNotSecureError: () =>
    new root.StoreRootNotSecureError('C:\\ProgramData\\hcs-sandbox', 'it is a link'),
  LayerNotRemovedError: () => new root.LayerNotRemovedError('C:\\layers\\a'),
  BoltFormatError: () => new root.BoltFormatError('bad magic'),
  DigestMismatchError: () => new root.DigestMismatchError('blob', sha, `sha256:${'b'.repeat(64)}`),
  ImageCompatibilityError: () =>
    new root.ImageCompatibilityError({
      imageBuild: 26100,
      hostBuild: 20348,
      isolation: 'process',
      wouldWork: undefined,
      reason: 'newer than the host',
    }),
  ImageNotFoundError: () => new root.ImageNotFoundError('demo/hello:1', ['hcs-sandbox']),
  VmImageNotFoundError: () => new root.VmImageNotFoundError('win11'),
  VmImageExistsError: () => new root.VmImageExistsError('win11', 'exists already'),
  VmImageCorruptError: () => new root.VmImageCorruptError('C:\\x\\image.json', 'not JSON'),
  VmImageInUseError: () => new root.VmImageInUseError('win11', ['desk1']),
  VmImageBuildError: () =>
    new root.VmImageBuildError('win11', 'apply-image', new Error('Dism exited with 2')),
  DiskGuardError: () => new root.DiskGuardError('partition', "disk 0 is not this build's disk 3"),
  WimFormatError: () => new root.WimFormatError('install.wim', 'no "MSWIM" magic'),
  ImageStoreError: () => new root.ImageStoreError('docker', 'C:\\d\\repositories.json', 'not valid JSON'),
  PathOutsideStoreError: () => new root.PathOutsideStoreError('C:\\x', 'C:\\store', 'Layer'),
  PeFormatError: () => new root.PeFormatError('no MZ header'),
  ImageFormatError: () => new root.ImageFormatError('manifest has no layers'),
  NotAnImageError: () => new root.NotAnImageError('a.tar', ['manifest.json']),
  NotAWindowsLayerError: () => new root.NotAWindowsLayerError(sha, 'no Files/ folder'),
  PlatformMismatchError: () => new root.PlatformMismatchError(20348, [], false),
  RegistryError: () => new root.RegistryError('denied', 401, 'https://r/v2/'),
  UnsafeLayerPathError: () => new root.UnsafeLayerPathError('../x', 'parent-directory segment (..)'),
  UnsupportedLayerError: () => new root.UnsupportedLayerError('application/zstd', 'zstd'),
};

/** Errors that are not exported but can reach a caller. */
const INTERNAL_SAMPLES: Record<string, () => Error> = {
  LockBusyError: () => new LockBusyError('sandbox box', 10_000, owner),
  LockAccessDeniedError: () =>
    new LockAccessDeniedError(
      'sandbox box',
      'C:\\store\\locks\\box.lock',
      Object.assign(new Error('denied'), { code: 'EACCES' }),
    ),
};

const exportedErrorClasses = Object.entries(root)
  .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
  .map(([name]) => name)
  .sort();

const samples = Object.entries({ ...SAMPLES, ...INTERNAL_SAMPLES }).map(([name, make]) => {
  const error = make();
  return [name, error as HcsSandboxError] as const;
});

describe('error kinds', () => {
  it('every exported error class has a sample here (add new classes to SAMPLES)', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(exportedErrorClasses);
  });

  it.each(samples)('%s has a code, a kind, and derives from its kind base', (name, error) => {
    expect(error.constructor.name).toBe(name);
    expect(error).toBeInstanceOf(HcsSandboxError);
    expect(typeof error.code).toBe('string');
    expect(error.code.length).toBeGreaterThan(0);
    expect(Object.keys(BASES)).toContain(error.kind);
    expect(error).toBeInstanceOf(BASES[error.kind]);
    // And no other kind's base: a class cannot be half one kind, half another.
    for (const base of KIND_BASES) {
      if (base !== BASES[error.kind]) expect(error).not.toBeInstanceOf(base);
    }
  });

  it('HRESULT errors stay host errors whatever the HRESULT means', () => {
    const notFound = new root.HcsError({ hresult: 0x8037010e, operation: 'HcsOpenComputeSystem' });
    expect(notFound.isNotFound()).toBe(true);
    expect(notFound.kind).toBe('host');
    expect(notFound).not.toBeInstanceOf(NotFoundError);
  });

  it('docs/errors.md lists every code under its kind', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    const kinds = new Map<string, string>();
    for (const line of docs.split('\n')) {
      const m = /^\| `([a-z-]+)` +\| [^|]+\| (.+?) *\|$/.exec(line);
      if (!m) continue;
      for (const code of m[2]!.matchAll(/`([A-Z0-9_]+)`/g)) kinds.set(code[1]!, m[1]!);
    }
    for (const [name, error] of samples) {
      // The bare bases were built above with made-up codes.
      if (GENERIC.has(error.constructor)) continue;
      expect({ name, code: error.code, kind: kinds.get(error.code) }).toEqual({
        name,
        code: error.code,
        kind: error.kind,
      });
    }
  });
});
