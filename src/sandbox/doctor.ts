import { access, constants } from 'node:fs/promises';
import { release } from 'node:os';
import { enumerateComputeSystems, HcsError, HcsUnavailableError, serviceProperties } from '../hcs/index.js';
import { listNetworks } from '../network/index.js';
import {
  checkStorageLibraries,
  findHostBaseImage,
  listImages,
  processTokenStatus,
  secureStoreRoot,
} from '../storage/index.js';
import { StateStore } from './state-store.js';

/** One finding of `doctor`: what was checked, whether it is fine, and what to do if not. */
export interface DoctorCheck {
  check: string;
  ok: boolean;
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
  /** Not needed for container sandboxes: a failure here is a warning. */
  optional?: boolean;
}

/**
 * The oldest build hcs-sandbox supports. Not 17763 (1809 / Server 2019): there
 * HcsFormatWritableLayerVhd takes a CreateFile handle on the VHD instead of a
 * virtdisk handle (hcsshim computestorage/format.go, a comment only: hcsshim has
 * no code for that build, and nothing proven shows how to open that handle), so
 * every writable layer would fail to format.
 */
const MIN_BUILD = 18362;

/** Checks this host for what hcs-sandbox needs: Windows build, features, privileges, images, state folder. */
export async function runDoctor(options: { home?: string } = {}): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const windows = process.platform === 'win32';
  const build = Number(release().split('.')[2] ?? 0);
  checks.push(
    !windows
      ? {
          check: 'Windows',
          ok: false,
          detail: `this is ${process.platform}`,
          fix: 'run hcs-sandbox on Windows 10 1903 / Server 2022 or newer',
        }
      : build < MIN_BUILD
        ? {
            check: 'Windows build',
            ok: false,
            detail: build === 17763 ? 'build 17763 (Server 2019 / 1809) is not supported' : `build ${build}`,
            fix: `update to build ${MIN_BUILD} (Windows 10 1903) or newer; on servers, Server 2022 (20348)`,
          }
        : { check: 'Windows build', ok: true, detail: `build ${build} (${release()})` },
  );
  if (!windows) return checks;

  try {
    const props = await serviceProperties();
    checks.push({
      check: 'Host Compute Service',
      ok: true,
      detail: `computecore.dll loaded; schema versions ${props.supportedSchemaVersions.map((v) => `${v.Major}.${v.Minor}`).join(', ')}`,
    });
  } catch (error) {
    checks.push({
      check: 'Host Compute Service',
      ok: false,
      detail: (error as Error).message,
      fix:
        error instanceof HcsUnavailableError
          ? 'Enable-WindowsOptionalFeature -Online -FeatureName Containers,Microsoft-Hyper-V -All (elevated), then restart'
          : 'check that the vmcompute service runs: Get-Service vmcompute',
    });
  }

  try {
    await enumerateComputeSystems();
    checks.push({ check: 'Privileges', ok: true, detail: 'compute systems can be listed' });
  } catch (error) {
    const denied = error instanceof HcsError && error.isAccessDenied();
    checks.push({
      check: 'Privileges',
      ok: false,
      detail: (error as Error).message,
      fix: denied
        ? 'run from an elevated shell, or join the Hyper-V Administrators group'
        : 'see the error above',
    });
  }

  checks.push(...tokenChecks());

  for (const library of checkStorageLibraries()) {
    checks.push({
      check: library.library,
      ok: library.ok,
      detail: library.ok ? 'loaded' : (library.error ?? 'not loadable'),
      ...(library.ok
        ? {}
        : { fix: 'Enable-WindowsOptionalFeature -Online -FeatureName Containers -All, then restart' }),
    });
  }

  try {
    const networks = await listNetworks();
    checks.push({ check: 'Host Network Service', ok: true, detail: `${networks.length} network(s)` });
  } catch (error) {
    checks.push({
      check: 'Host Network Service',
      ok: false,
      detail: (error as Error).message,
      fix: 'Start-Service hns (elevated); sandboxes with network "none" still work',
    });
  }

  const images = await listImages({ onSourceError: () => {} }).catch(() => []);
  checks.push({
    check: 'Images',
    ok: images.length > 0,
    detail: images.length
      ? `${images.length} image(s): ${images
          .slice(0, 3)
          .map((i) => i.reference)
          .join(', ')}${images.length > 3 ? ', ...' : ''}`
      : 'none found',
    ...(images.length ? {} : { fix: 'hcs-sandbox image pull mcr.microsoft.com/windows/nanoserver:ltsc2022' }),
  });
  const base = await findHostBaseImage({ hostBuild: build }).catch(() => undefined);
  if (base) {
    checks.push({
      check: 'Windows Sandbox base image',
      ok: base.state === 'ready',
      optional: true,
      detail: base.reason,
      ...(base.state === 'ready'
        ? {}
        : {
            fix: 'optional: Enable-WindowsOptionalFeature -Online -FeatureName Containers-DisposableClientVM',
          }),
    });
  }

  const store = new StateStore(options.home === undefined ? {} : { root: options.home });
  try {
    await secureStoreRoot(store.root);
    await access(store.root, constants.W_OK);
    checks.push({
      check: 'State folder',
      ok: true,
      detail: `${store.root} is writable, by administrators and its owner only`,
    });
  } catch (error) {
    checks.push({
      check: 'State folder',
      ok: false,
      detail: (error as Error).message,
      fix: `make ${store.root} writable, or set HCS_SANDBOX_HOME`,
    });
  }
  return checks;
}

const ELEVATE = 'run hcs-sandbox from an elevated shell (Run as administrator)';

/**
 * What HCS storage asks of the process token (measured: hcsctl
 * docs/findings.md, "Elevation"): an elevated token with BUILTIN\Administrators
 * enabled (layer import, PrepareLayer, formatting a scratch disk),
 * SeManageVolumePrivilege (scratch disks), and SeBackupPrivilege +
 * SeRestorePrivilege held (layer import, export, destroy; enabled when used).
 */
function tokenChecks(): DoctorCheck[] {
  let token: ReturnType<typeof processTokenStatus>;
  try {
    token = processTokenStatus();
  } catch (error) {
    return [{ check: 'Elevation', ok: false, detail: (error as Error).message, fix: 'see the error above' }];
  }
  const held = (name: string) => token.privileges[name]?.held === true;
  const elevated = token.elevated && token.administrators;
  const backupRestore = ['SeBackupPrivilege', 'SeRestorePrivilege'].filter((p) => !held(p));
  return [
    {
      check: 'Elevation',
      ok: elevated,
      detail: elevated
        ? 'elevated, BUILTIN\\Administrators enabled'
        : `${token.elevated ? 'elevated' : 'not elevated'}, BUILTIN\\Administrators ${token.administrators ? 'enabled' : 'not enabled'}`,
      ...(elevated ? {} : { fix: ELEVATE }),
    },
    {
      check: 'SeManageVolumePrivilege',
      ok: held('SeManageVolumePrivilege'),
      detail: held('SeManageVolumePrivilege')
        ? 'held (scratch disks)'
        : 'not held: scratch disks cannot be created',
      ...(held('SeManageVolumePrivilege') ? {} : { fix: ELEVATE }),
    },
    {
      check: 'Backup and restore privileges',
      ok: backupRestore.length === 0,
      detail:
        backupRestore.length === 0
          ? 'SeBackupPrivilege and SeRestorePrivilege held (enabled for layer import, export, destroy)'
          : `not held: ${backupRestore.join(', ')}`,
      ...(backupRestore.length === 0 ? {} : { fix: ELEVATE }),
    },
  ];
}
