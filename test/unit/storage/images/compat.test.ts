import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/internal/errors.js';
import {
  type CompatibilityInput,
  checkCompatibility,
  isCompatible,
  oldestProcessIsolatedBuild,
  supportedIsolations,
} from '../../../../src/storage/images/compat.js';
import { ImageCompatibilityError, type Isolation } from '../../../../src/storage/images/errors.js';

// image build, host build, supported isolations (process / hyperv), note
const table: Array<[number, number, Isolation[], string]> = [
  // Before Windows Server 2022: process isolation needs the same build.
  [14393, 14393, ['process', 'hyperv'], 'WS2016 on WS2016'],
  [14393, 17763, ['hyperv'], 'WS2016 image on WS2019'],
  [17763, 17763, ['process', 'hyperv'], 'WS2019 on WS2019'],
  [17763, 19041, ['hyperv'], 'WS2019 image on 2004'],
  [19042, 19041, [], '20H2 image on 2004: newer than the host'],
  [18363, 18362, [], '1909 image on 1903 host'],
  // Windows Server 2022 host.
  [20348, 20348, ['process', 'hyperv'], 'WS2022 on WS2022'],
  [17763, 20348, ['hyperv'], 'WS2019 image on WS2022'],
  [14393, 20348, ['hyperv'], 'WS2016 image on WS2022'],
  [26100, 20348, [], 'WS2025 image on WS2022'],
  // Windows 11 hosts run WS2022 images process-isolated.
  [20348, 22000, ['process', 'hyperv'], 'WS2022 image on Windows 11 21H2'],
  [20348, 22621, ['process', 'hyperv'], 'WS2022 image on Windows 11 22H2'],
  [20348, 22631, ['process', 'hyperv'], 'WS2022 image on Windows 11 23H2'],
  [17763, 22631, ['hyperv'], 'WS2019 image on Windows 11 23H2'],
  [22631, 22631, ['process', 'hyperv'], 'same build'],
  // Windows Server 2025 / Windows 11 24H2 (26100) run the previous LTSC too.
  [26100, 26100, ['process', 'hyperv'], 'WS2025 on WS2025'],
  [20348, 26100, ['process', 'hyperv'], 'WS2022 image on WS2025'],
  [17763, 26100, ['hyperv'], 'WS2019 image on WS2025'],
  // After 26100 the floor moves to 26100.
  [26100, 27000, ['process', 'hyperv'], 'WS2025 image on a later host'],
  [20348, 27000, ['hyperv'], 'WS2022 image on a host after WS2025'],
  [27001, 27000, [], 'image newer than the host'],
  // Nothing predates 14393.
  [10586, 14393, [], 'pre-container image'],
];

describe('compatibility table', () => {
  it.each(table)('image %i on host %i → %j (%s)', (imageBuild, hostBuild, expected) => {
    expect(supportedIsolations({ imageBuild, hostBuild })).toEqual(expected);
    for (const isolation of ['process', 'hyperv'] as const) {
      const input = { imageBuild, hostBuild, isolation };
      expect(isCompatible(input)).toBe(expected.includes(isolation));
      if (expected.includes(isolation)) {
        expect(checkCompatibility(input)).toEqual({ ok: true, isolation, warnings: [] });
      } else {
        expect(() => checkCompatibility(input)).toThrow(ImageCompatibilityError);
      }
    }
  });
});

describe('checkCompatibility errors', () => {
  function error(input: CompatibilityInput): ImageCompatibilityError {
    try {
      checkCompatibility(input);
    } catch (err) {
      expect(err).toBeInstanceOf(ImageCompatibilityError);
      return err as ImageCompatibilityError;
    }
    throw new Error('expected an ImageCompatibilityError');
  }

  it('names both builds, the isolation, and the isolation that would work', () => {
    const e = error({ imageBuild: 17763, hostBuild: 20348, isolation: 'process' });
    expect(e.code).toBe('IMAGE_INCOMPATIBLE');
    expect(e.imageBuild).toBe(17763);
    expect(e.hostBuild).toBe(20348);
    expect(e.isolation).toBe('process');
    expect(e.wouldWork).toBe('hyperv');
    expect(e.message).toMatch(/17763/);
    expect(e.message).toMatch(/20348/);
    expect(e.message).toMatch(/'process'/);
    expect(e.message).toMatch(/would run with isolation 'hyperv'/);
  });

  it('says when nothing would work', () => {
    const e = error({ imageBuild: 26100, hostBuild: 20348, isolation: 'hyperv' });
    expect(e.wouldWork).toBeUndefined();
    expect(e.message).toMatch(/no isolation mode/);
    expect(e.reason).toMatch(/older/);
  });

  it('Windows 10 clients before 1809 have no process isolation', () => {
    const e = error({ imageBuild: 17134, hostBuild: 17134, isolation: 'process', hostIsServer: false });
    expect(e.wouldWork).toBe('hyperv');
    expect(e.reason).toMatch(/1809/);
    expect(
      isCompatible({ imageBuild: 17134, hostBuild: 17134, isolation: 'process', hostIsServer: true }),
    ).toBe(true);
    expect(
      isCompatible({ imageBuild: 17763, hostBuild: 17763, isolation: 'process', hostIsServer: false }),
    ).toBe(true);
  });

  it('warns on mismatched Windows Server 2016 revisions', () => {
    const r = checkCompatibility({
      imageBuild: 14393,
      hostBuild: 14393,
      isolation: 'process',
      imageRevision: 1944,
      hostRevision: 1914,
    });
    expect(r.warnings[0]).toMatch(/revision/);
    expect(
      checkCompatibility({
        imageBuild: 17763,
        hostBuild: 17763,
        isolation: 'process',
        imageRevision: 1,
        hostRevision: 2,
      }).warnings,
    ).toEqual([]);
  });

  it.each([
    ['imageBuild', { imageBuild: 0 }],
    ['imageBuild', { imageBuild: 1.5 }],
    ['hostBuild', { hostBuild: '20348' }],
    ['hostBuild', { hostBuild: 70000 }],
    ['isolation', { isolation: 'hyper-v' }],
    ['imageRevision', { imageRevision: -1 }],
  ])('rejects a bad %s', (field, patch) => {
    const input = {
      imageBuild: 20348,
      hostBuild: 20348,
      isolation: 'process',
      ...patch,
    } as CompatibilityInput;
    try {
      checkCompatibility(input);
      throw new Error('expected a throw');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).field).toBe(field);
    }
  });
});

describe('oldestProcessIsolatedBuild', () => {
  it.each([
    [17763, 17763],
    [20348, 20348],
    [22631, 20348],
    [26100, 20348],
    [26200, 26100],
  ])('host %i → %i', (host, oldest) => {
    expect(oldestProcessIsolatedBuild(host)).toBe(oldest);
  });
});
