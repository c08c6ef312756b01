import { describe, expect, it } from 'vitest';
import { HcsSandboxError, InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  MAX_EMITTED_SCHEMA_VERSION,
  negotiateSchemaVersion,
  SCHEMA_FEATURES,
  UnsupportedFeatureError,
} from '../../../src/schema/index.js';

const V = (Major: number, Minor: number) => ({ Major, Minor });

describe('negotiateSchemaVersion', () => {
  it.each([
    [[V(2, 1)], [], V(2, 1)],
    [[V(1, 0), V(2, 1)], [], V(2, 1)],
    [[V(2, 1), V(2, 4)], [], V(2, 4)],
    [[V(2, 4), V(2, 1)], ['HostTimeZone'], V(2, 4)],
    [[V(2, 5)], ['ShutdownOptions', 'PropertyQueries'], V(2, 5)],
    [[V(2, 9)], [], MAX_EMITTED_SCHEMA_VERSION],
    [[V(3, 0), V(2, 6)], ['SparseFiles'], V(2, 6)],
    [[V(2, 0)], ['GpuConfiguration'], V(2, 0)],
  ])('%j with %j → %j', (host, features, expected) => {
    expect(negotiateSchemaVersion(host, features)).toEqual(expected);
  });

  it.each([
    [[V(2, 1)], ['ShutdownOptions'], 'ShutdownOptions', V(2, 5)],
    [[V(2, 4)], ['IntegrationServices'], 'IntegrationServices', V(2, 5)],
    [[V(2, 2)], ['CrashGuest'], 'CrashGuest', V(2, 3)],
    [[V(2, 3)], ['WindowsSandboxExtensions'], 'WindowsSandboxExtensions', V(2, 4)],
    [[V(2, 5)], ['SparseFiles'], 'SparseFiles', V(2, 6)],
    [[V(1, 0)], [], 'HCS schema 2.x documents', V(2, 0)],
  ])('%j with %j throws UNSUPPORTED_FEATURE for %s', (host, features, feature, required) => {
    let err: unknown;
    try {
      negotiateSchemaVersion(host, features);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect(err).toBeInstanceOf(HcsSandboxError);
    const e = err as UnsupportedFeatureError;
    expect(e.code).toBe('UNSUPPORTED_FEATURE');
    expect(e.feature).toBe(feature);
    expect(e.requiredVersion).toEqual(required);
    expect(e.message).toContain(feature);
  });

  it.each([
    [[], [], 'hostSupported'],
    [[{ Major: 2 }], [], 'hostSupported[0]'],
    [[V(2, 1)], ['Teleport'], 'features[0]'],
    [[V(2, 1)], 'ShutdownOptions', 'features'],
  ])('rejects bad input %j %j (field %s)', (host, features, field) => {
    let err: unknown;
    try {
      negotiateSchemaVersion(host as never, features as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });

  it('every feature names its source and a 2.x minimum within what we emit', () => {
    for (const [name, req] of Object.entries(SCHEMA_FEATURES)) {
      expect(req.source.length, name).toBeGreaterThan(10);
      expect(req.minVersion.Major).toBe(2);
      expect(req.minVersion.Minor).toBeLessThanOrEqual(MAX_EMITTED_SCHEMA_VERSION.Minor as number);
    }
  });
});
