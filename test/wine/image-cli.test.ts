import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, pushImage, SAMPLE_RAWSD, windowsLayer, winPax } from '../support/registry/push.js';
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
  // NTFS metadata, a symlink, a hard link into the base layer and a whiteout must reach the layer.
  const app = await windowsLayer('cli-app', {
    extra: [
      { name: 'Files/Windows/hidden.sys', content: 'h', pax: winPax(0x26) },
      {
        name: 'Files/Windows/link',
        type: 'symlink',
        linkname: 'C:\\Windows\\cli-app.txt',
        pax: winPax(0x420),
      },
      { name: 'Files/Windows/hard', type: 'link', linkname: 'Files/Windows/cli-base.txt' },
      { name: 'Files/Windows/.wh.gone.dll', content: '' },
    ],
  });
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

    // The simulated HcsImportLayer decoded the transport format (test-host/sim/transport.c) and kept
    // what plain files cannot hold in .hcssim-transport.json.
    const metas = readdirSync(join(home, 'layers'))
      .map((l) => join(home, 'layers', l))
      .filter((l) => existsSync(join(l, '.hcssim-transport.json')))
      .map((l) => ({ dir: l, meta: JSON.parse(readFileSync(join(l, '.hcssim-transport.json'), 'utf8')) }));
    const appLayer = metas.find((m) => m.meta.Entries['Files\\Windows\\hidden.sys']);
    expect(metas).toHaveLength(2);
    expect(appLayer?.meta.Entries['Files\\Windows\\hidden.sys']).toMatchObject({
      Attributes: 0x26,
      Data: true,
    });
    expect(appLayer?.meta.Entries['Files\\Windows\\hidden.sys'].Pre).toContain(
      Buffer.from(SAMPLE_RAWSD, 'base64').toString('hex'),
    );
    expect(appLayer?.meta.Entries['Files\\Windows\\link']).toMatchObject({
      Attributes: 0x420,
      Data: false,
      ReparseTarget: 'C:\\Windows\\cli-app.txt',
    });
    expect(readFileSync(join(appLayer?.dir ?? '', 'Files/Windows/hard'), 'utf8')).toBe('layer cli-base\n');
    expect(appLayer?.meta.Tombstones).toEqual(['\\Windows\\gone.dll']);

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

  it("run pulls a missing image first (docker run), with image pull's progress", async () => {
    const own = mkdtempSync(join(tmpdir(), 'hcs-home-'));
    try {
      const options = {
        instance: newInstance('img'),
        env: { HCS_SANDBOX_HOME: winePath(own), HCSSIM_STORAGE_ROOT: winePath(join(own, 'sim-storage')) },
        timeoutMs: 180_000,
      };
      const reference = `${registry.host}/demo/hello:1.0`;
      const never = await runCli(
        ['run', '--rm', '--pull', 'never', reference, '--', 'cmd /c echo x'],
        options,
      );
      expect([never.exitCode, never.stderr]).toEqual([
        125,
        `hcs-sandbox: No image ${reference}; pull it with: hcs-sandbox image pull ${reference}\n`,
      ]);
      const run = await runCli(['run', '--rm', reference, '--', 'cmd /c echo pulled and ran'], options);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toBe('pulled and ran\r\n');
      expect(run.stderr).toContain(`Unable to find image '${reference}' locally; pulling it\n`);
      // Not a terminal: a line per layer and phase, as image pull prints them.
      expect(run.stderr).toMatch(/^download\s+\w{12}/m);
      expect(readdirSync(join(own, 'layers'))).toHaveLength(2);
      // Present now: no pull the second time.
      const again = await runCli(['run', '--rm', reference, '--', 'cmd /c echo again'], options);
      expect([again.exitCode, again.stdout, again.stderr]).toEqual([0, 'again\r\n', '']);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it('an unreachable registry is one line naming it and the cause, no stack (JSON with --json)', async () => {
    const options = { instance: newInstance('img'), env: { HCS_SANDBOX_HOME: winePath(home) } };
    // A port nothing listens on (taken, then released).
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const reference = `127.0.0.1:${port}/demo/none:1`;
    const pull = await runCli(['image', 'pull', reference], options);
    expect(pull.exitCode).toBe(1);
    expect(pull.stderr).toContain(
      `\nhcs-sandbox: Cannot pull ${reference}: registry 127.0.0.1:${port}: fetch failed: connect ECONNREFUSED`,
    );
    expect(pull.stderr).not.toMatch(/\n\s+at /);
    const json = await runCli(['image', 'pull', '--json', reference], options);
    expect([json.exitCode, json.stderr]).toEqual([1, '']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: {
        code: 'REGISTRY_UNREACHABLE',
        kind: 'failure',
        message: expect.stringContaining(`registry 127.0.0.1:${port}`),
      },
    });
    const debug = await runCli(['image', 'pull', '--debug', reference], options);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
