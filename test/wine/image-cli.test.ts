import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage, windowsLayer } from '../support/registry/push.js';
import { startRegistry, type TestRegistry } from '../support/registry/server.js';
import { newInstance, runCli, winePath } from './harness.js';

// The CLI end to end under Wine: pull from a real registry server on loopback
// (Debian's docker-registry) through the simulated HcsImportLayer into
// hcs-sandbox's own store, list, remove. Wine's node.exe reports build 18362.
const WINE_BUILD = '10.0.18362.1';

let registry: TestRegistry;
let home: string;

beforeAll(async () => {
  registry = await startRegistry();
  const base = await windowsLayer('cli-base');
  const app = await windowsLayer('cli-app');
  await pushImage(registry.url, 'demo/hello', buildImage([base, app], WINE_BUILD), '1.0');
  await pushImage(registry.url, 'demo/old', buildImage([base], '10.0.17763.1'), '1.0');
  home = mkdtempSync(join(tmpdir(), 'hcs-home-'));
});

afterAll(async () => {
  await registry?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('hcs-sandbox image (CLI under Wine)', () => {
  it('pulls, lists and removes an image without Docker', async () => {
    const options = { instance: newInstance('img'), env: { HCS_SANDBOX_HOME: winePath(home) } };
    const reference = `${registry.host}/demo/hello:1.0`;

    const pull = await runCli(['image', 'pull', reference], options);
    expect(pull.stderr).not.toMatch(/error/i);
    expect(pull.exitCode).toBe(0);
    expect(pull.stdout).toContain(`pulled ${reference} (${WINE_BUILD})`);
    // Two layers imported into the store, nothing left in its work folder.
    expect(readdirSync(join(home, 'layers'))).toHaveLength(2);
    expect(readdirSync(join(home, 'tmp'))).toEqual([]);

    const ls = await runCli(['image', 'ls', '--json'], options);
    expect(ls.exitCode).toBe(0);
    const images = JSON.parse(ls.stdout) as {
      reference: string;
      source: string;
      build: number;
      layers: unknown[];
    }[];
    const ours = images.filter((i) => i.source === 'hcs-sandbox');
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({ reference, build: 18362 });
    expect(ours[0]?.layers).toHaveLength(2);

    const table = await runCli(['image', 'ls'], options);
    expect(table.stdout).toMatch(/^REFERENCE\s+BUILD\s+SIZE\s+SOURCE/m);

    const rm = await runCli(['image', 'rm', reference], options);
    expect(rm.exitCode).toBe(0);
    expect(rm.stdout).toContain(`removed ${reference}`);
    expect(readdirSync(join(home, 'layers'))).toEqual([]);
  });

  it('refuses an image built for another Windows build, naming both, and stores nothing', async () => {
    const options = { instance: newInstance('img'), env: { HCS_SANDBOX_HOME: winePath(home) } };
    const pull = await runCli(['image', 'pull', `${registry.host}/demo/old:1.0`], options);
    expect(pull.exitCode).not.toBe(0);
    expect(pull.stderr).toMatch(/18362/);
    expect(pull.stderr).toMatch(/17763/);
    expect(readdirSync(join(home, 'layers'))).toEqual([]);
  });
});
