import { describe, expect, it } from 'vitest';
import {
  defaultTimeout,
  enumerateComputeSystems,
  type HcsError,
  isFunctionAvailable,
  serviceProperties,
} from '../../../src/hcs/index.js';
import { eventLoopHolders, holdEventLoop } from '../../../src/hcs/keepalive.js';
import type { InvalidArgumentError } from '../../../src/internal/errors.js';
import { rejectionOf, useFakeHcs } from '../../support/fake-harness.js';

const hcs = useFakeHcs();

describe('enumerateComputeSystems', () => {
  it('lists every system, or those matching the query', async () => {
    hcs.fake.addSystem('a', 'Running', { Owner: 'me', Container: {} });
    hcs.fake.addSystem('b', 'Paused', { Owner: 'other', VirtualMachine: {} });
    const all = await enumerateComputeSystems();
    expect(all).toEqual([
      { Id: 'a', SystemType: 'Container', Owner: 'me', State: 'Running' },
      { Id: 'b', SystemType: 'VirtualMachine', Owner: 'other', State: 'Paused' },
    ]);
    expect(hcs.fake.nativeCalls('HcsEnumerateComputeSystems')[0]?.args[0]).toBeNull();
    await expect(enumerateComputeSystems({ Owners: ['other'] })).resolves.toEqual([all[1]]);
    await expect(enumerateComputeSystems({ Ids: ['a'], Types: ['Container'] })).resolves.toEqual([all[0]]);
    expect(hcs.fake.nativeCalls('HcsEnumerateComputeSystems')[1]?.args[0]).toBe('{"Owners":["other"]}');
  });

  it('returns [] for an empty host, a missing document or a non-array', async () => {
    await expect(enumerateComputeSystems(null)).resolves.toEqual([]);
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'succeed', document: null });
    await expect(enumerateComputeSystems()).resolves.toEqual([]);
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'succeed', document: { not: 'a list' } });
    await expect(enumerateComputeSystems()).resolves.toEqual([]);
  });

  it('fails with an HcsError', async () => {
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'reject', hresult: 0x8037011b });
    const error = (await rejectionOf(enumerateComputeSystems())) as HcsError;
    expect(error.isAccessDenied()).toBe(true);
    expect(error.operation).toBe('HcsEnumerateComputeSystems');
  });

  it('honours abort and timeout', async () => {
    expect(
      (
        (await rejectionOf(enumerateComputeSystems(null, { signal: AbortSignal.abort() }))) as HcsError
      ).isCanceled(),
    ).toBe(true);
    expect(hcs.fake.nativeCalls()).toEqual([]);
    hcs.fake.onNext('HcsEnumerateComputeSystems', { kind: 'hang' });
    expect(
      ((await rejectionOf(enumerateComputeSystems(null, { timeoutMs: 10 }))) as HcsError).isTimeout(),
    ).toBe(true);
  });
});

describe('serviceProperties', () => {
  it('returns the supported schema versions and the raw documents', async () => {
    const props = await serviceProperties();
    expect(props.supportedSchemaVersions).toEqual([
      { Major: 2, Minor: 1 },
      { Major: 2, Minor: 5 },
    ]);
    expect(props.raw).toHaveLength(1);
    expect(hcs.fake.nativeCalls('HcsGetServiceProperties')[0]?.args).toEqual(['{"PropertyTypes":["Basic"]}']);
  });

  it('tolerates missing fields', async () => {
    hcs.fake.onNext('HcsGetServiceProperties', { kind: 'succeed', document: null });
    await expect(serviceProperties()).resolves.toEqual({ supportedSchemaVersions: [], raw: [] });
    hcs.fake.serviceProperties = { Properties: [{}, { SupportedSchemaVersions: 'x' }] };
    await expect(serviceProperties()).resolves.toEqual({
      supportedSchemaVersions: [],
      raw: [{}, { SupportedSchemaVersions: 'x' }],
    });
  });

  it('fails with an HcsError carrying the ResultError', async () => {
    hcs.fake.onNext('HcsGetServiceProperties', {
      kind: 'reject',
      hresult: 0x80370114,
      document: { ErrorMessage: 'vmcompute is not running' },
    });
    const error = (await rejectionOf(serviceProperties())) as HcsError;
    expect(error.hresultName).toBe('HCS_E_SERVICE_NOT_AVAILABLE');
    expect(error.message).toContain('vmcompute is not running');
  });

  it('validates options, and an aborted signal makes no native call', async () => {
    const bad = await rejectionOf(serviceProperties({ timeoutMs: -1 }));
    expect((bad as InvalidArgumentError).field).toBe('timeoutMs');
    const aborted = (await rejectionOf(serviceProperties({ signal: AbortSignal.abort() }))) as HcsError;
    expect(aborted.isCanceled()).toBe(true);
    expect(hcs.fake.nativeCalls()).toEqual([]);
  });
});

describe('isFunctionAvailable', () => {
  it('asks the DLL', () => {
    hcs.fake.missingFunctions.add('HcsCrashComputeSystem');
    expect(isFunctionAvailable('HcsCrashComputeSystem')).toBe(false);
    expect(isFunctionAvailable('HcsStartComputeSystem')).toBe(true);
  });
});

describe('keepalive and timeouts', () => {
  it('counts holders and releases each once', () => {
    const before = eventLoopHolders();
    const a = holdEventLoop();
    const b = holdEventLoop();
    expect(eventLoopHolders()).toBe(before + 2);
    a();
    a();
    expect(eventLoopHolders()).toBe(before + 1);
    b();
    expect(eventLoopHolders()).toBe(before);
  });

  it('reads default timeouts from the environment, ignoring bad values', () => {
    expect(defaultTimeout('LIFECYCLE')).toBe(240_000);
    expect(defaultTimeout('CANCEL_GRACE')).toBe(10_000);
    process.env.HCS_SANDBOX_TIMEOUT_TERMINATE_MS = '1234';
    process.env.HCS_SANDBOX_TIMEOUT_QUERY_MS = 'soon';
    try {
      expect(defaultTimeout('TERMINATE')).toBe(1234);
      expect(defaultTimeout('QUERY')).toBe(60_000);
    } finally {
      delete process.env.HCS_SANDBOX_TIMEOUT_TERMINATE_MS;
      delete process.env.HCS_SANDBOX_TIMEOUT_QUERY_MS;
    }
  });
});
