import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ProbeHost, probeSummary, runProbe } from '../../../src/probe/index.js';
import {
  basicSessionPipe,
  type VmBootSettings,
  vmBootItem,
  vmBootSettings,
} from '../../../src/probe/items/vm-boot.js';
import { useFakeSandboxHost } from '../../support/fake-sandbox-host.js';
import { verdictStatuses, WINDOWS_HOST } from './probe-host.js';

// The vm.boot probe item against the fake host: its skips, a whole run whose
// screen is a socket of the test's (answering X.224 as an RDP server does), and
// how what it saw maps to the rows of docs/windows-verification.md.
vi.mock('../../../src/schema/index.js', async (original) =>
  (await import('../../support/fake-sandbox-host.js')).schemaWithWindowsPaths(await original()),
);

const fake = useFakeSandboxHost();

/** TPKT + X.224 Connection Confirm + RDP_NEG_RSP (standard RDP security): what an RDP server answers. */
const CONNECTION_CONFIRM = Buffer.from('030000130ed000001234000200080000000000', 'hex');

/**
 * A VM's screen as the test serves it: one client at a time (a new one cuts
 * the last off), answers an X.224 request when `answers`, and is gone once
 * the VM's compute system has stopped.
 */
class FakeScreen {
  readonly path = join(
    tmpdir(),
    `hcs-probe-screen-${process.pid}-${Math.random().toString(36).slice(2)}.sock`,
  );
  readonly server: Server;
  current: Socket | undefined;
  systemId: string | undefined;
  readonly #watch: NodeJS.Timeout;

  constructor(readonly answers: boolean) {
    this.server = createServer((socket) => {
      this.current?.destroy();
      this.current = socket;
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        if (this.answers && chunk[0] === 0x03) socket.write(CONNECTION_CONFIRM);
      });
    });
    this.server.listen(this.path);
    this.#watch = setInterval(() => {
      const id = this.systemId;
      if (!id || !this.server.listening) return;
      const running = fake.hcs.fake.systemIds().includes(id) && fake.hcs.fake.system(id).state !== 'Stopped';
      if (!running && fake.hcs.fake.nativeCalls('HcsStartComputeSystem').length > 0) this.close();
    }, 5);
  }

  settings(extra: Partial<VmBootSettings> = {}): VmBootSettings {
    return {
      image: 'win',
      screenWaitMs: 1_000,
      bootWaitMs: 0,
      pipePathOf: (id) => {
        this.systemId = id;
        return this.path;
      },
      ...extra,
    };
  }

  close(): void {
    clearInterval(this.#watch);
    this.current?.destroy();
    if (this.server.listening) this.server.close();
  }
}

const screens: FakeScreen[] = [];
afterEach(() => {
  for (const s of screens.splice(0)) {
    s.close();
    rmSync(s.path, { force: true });
  }
});

function screen(answers = true): FakeScreen {
  const s = new FakeScreen(answers);
  screens.push(s);
  return s;
}

async function probe(settings: VmBootSettings, host: Partial<ProbeHost> = {}) {
  const report = await runProbe({
    host: { ...WINDOWS_HOST, ...host },
    home: fake.home,
    items: [vmBootItem(() => settings)],
  });
  return { report, item: report.items[0]! };
}

describe('vm.boot', () => {
  it.each([
    [{ image: undefined }, {}, /HCS_PROBE_VM_IMAGE is not set/],
    [
      { invalid: 'HCS_PROBE_VM_BOOT_SECONDS must be a whole number of seconds (0-99999), not "soon"' },
      {},
      /BOOT_SECONDS must be a whole number/,
    ],
    [{}, { elevated: false }, /needs an elevated shell/],
    [{ image: 'nope' }, {}, /HCS_PROBE_VM_IMAGE=nope names no ready VM image/],
  ])('is skipped, saying why, before anything is created: %j %j', async (settings, host, why) => {
    await fake.seedVmImage();
    const { item } = await probe({ ...screen().settings(), ...settings }, host);
    expect(item).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(why) });
    expect(fake.hcs.fake.nativeCalls('HcsCreateComputeSystem')).toEqual([]);
  });

  it('reads its settings from the environment, refusing a number it cannot read', () => {
    expect(vmBootSettings({ HCS_PROBE_VM_IMAGE: 'win' })).toMatchObject({
      image: 'win',
      bootWaitMs: 300_000,
      screenWaitMs: 120_000,
    });
    expect(
      vmBootSettings({ HCS_PROBE_VM_SCREEN_SECONDS: '2', HCS_PROBE_VM_BOOT_SECONDS: '0' }),
    ).toMatchObject({
      image: undefined,
      bootWaitMs: 0,
      screenWaitMs: 2_000,
    });
    expect(vmBootSettings({ HCS_PROBE_VM_BOOT_SECONDS: 'soon' }).invalid).toMatch(/not "soon"/);
    expect(vmBootSettings({}).pipePathOf('hcssb-x')).toBe('\\\\.\\pipe\\hcssb-x.BasicSession');
    expect(basicSessionPipe('a')).toBe('\\\\.\\pipe\\a.BasicSession');
  });

  it('a whole run: every row confirmed, both sandboxes removed, the verdicts in the summary', async () => {
    await fake.seedVmImage();
    const s = screen();
    const { report, item } = await probe(s.settings());
    expect(verdictStatuses(item.verdicts)).toEqual({
      VD1: 'confirmed',
      VD2: 'confirmed',
      VD3: 'confirmed',
      VD4: 'confirmed',
      VD5: 'confirmed',
      VD7: 'confirmed',
      VS5: 'confirmed',
      VV1: 'confirmed',
      VV3: 'confirmed',
      VV4: 'confirmed',
      VV5: 'confirmed',
    });
    expect(item.outcome, item.reason).toBe('pass');
    expect(item.verdicts?.VV1?.observed).toMatch(
      /answered in \d+ ms \(TPKT, X\.224 Connection Confirm: 030000130ed0/,
    );
    expect(item.verdicts?.VD7?.observed).toMatch(/accepted/);
    expect(item.details).toMatchObject({ image: 'win', leftovers: [], stop: { exitType: 'GracefulExit' } });
    // Two sandboxes over the image: the first started, the second started after the first was removed.
    expect(fake.hcs.fake.nativeCalls('HcsCreateComputeSystem')).toHaveLength(2);
    expect(item.cleanupErrors).toBeUndefined();
    fake.expectNothingLeft(`hcs-sandbox-probe-vm-${process.pid}`);
    fake.expectNothingLeft(`hcs-sandbox-probe-vm2-${process.pid}`);
    expect(probeSummary(report)).toMatch(/^ {8}VD3 confirmed: .*second sandbox over the same base started/m);
  });

  it('a screen that accepts and never answers: VV1 and VV3 not reached within the wait, the rest goes on', async () => {
    await fake.seedVmImage();
    const started = performance.now();
    const { item } = await probe(screen(false).settings({ screenWaitMs: 300 }));
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(item.verdicts?.VV1).toEqual({
      status: 'not reached',
      observed: expect.stringMatching(
        /no answer to the X\.224 request \(the worker's RDP server did not answer in time\)/,
      ),
    });
    expect(item.verdicts?.VV3?.status).toBe('not reached');
    expect(item.verdicts?.VV4?.status).toBe('confirmed');
    expect(item.outcome).toBe('pass');
  });

  it('a start HCS refuses: VD1 refuted with the HRESULT, the other rows not reached, nothing left', async () => {
    await fake.seedVmImage();
    fake.hcs.fake.onNext('HcsStartComputeSystem', { kind: 'fail', hresult: 0x80370110 });
    const { item } = await probe(screen().settings());
    expect(item.outcome).toBe('fail');
    expect(item.verdicts?.VD1).toEqual({
      status: 'refuted',
      observed: expect.stringMatching(/then start failed: .*0x80370110/),
    });
    expect(item.verdicts?.VV1).toEqual({
      status: 'not reached',
      observed: expect.stringMatching(/^the item stopped on an error before this row: /),
    });
    expect(item.cleanupErrors).toBeUndefined();
    fake.expectNothingLeft(`hcs-sandbox-probe-vm-${process.pid}`);
  });

  it('no Hyper-V: skipped, not failed, and what was made is removed', async () => {
    await fake.seedVmImage();
    fake.hcs.fake.onNext('HcsCreateComputeSystem', { kind: 'fail', hresult: 0x80370102 });
    const { item } = await probe(screen().settings());
    expect(item).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/Hyper-V is not installed/),
    });
    expect(item.cleanupErrors).toBeUndefined();
    fake.expectNothingLeft(`hcs-sandbox-probe-vm2-${process.pid}`);
  });
});
