import { createRequire } from 'node:module';
import { arch, release, version } from 'node:os';
import { serviceProperties } from '../hcs/index.js';
import { hostFacts } from '../native/index.js';
import type { ProbeHost } from './types.js';

/** Reads what the report's header records about this host. Never throws. */
export async function describeHost(): Promise<ProbeHost> {
  const windows = process.platform === 'win32';
  const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
  let schema: ProbeHost['hcsSchemaVersions'];
  try {
    const props = await serviceProperties();
    schema = props.supportedSchemaVersions.map((v) => `${v.Major}.${v.Minor}`);
  } catch (error) {
    schema = { error: (error as Error).message };
  }
  return {
    platform: process.platform,
    arch: arch(),
    release: release(),
    build: Number(release().split('.')[2] ?? 0),
    edition: version(),
    elevated: windows ? safe(() => hostFacts().tokenElevated()) : null,
    wine: windows ? safe(() => hostFacts().wineVersion()) : null,
    hcsSandboxVersion: pkg.version,
    nodeVersion: process.version,
    hcsSchemaVersions: schema,
  };
}

function safe<T>(read: () => T | null): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
