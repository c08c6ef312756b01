import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../../src/index.js';
import { buildPlan, renderUnattend } from '../../../../src/storage/index.js';
import { checkUnattendOptions, escapeXml } from '../../../../src/storage/vm-images/unattend.js';

const WORK = 'C:\\ProgramData\\hcs-sandbox\\vm-images\\win11\\work';
const INPUTS = {
  vhdxPath: 'C:\\ProgramData\\hcs-sandbox\\vm-images\\win11\\base.vhdx',
  sizeBytes: 40 * 2 ** 30,
  wimPath: 'E:\\sources\\install.wim',
  wimIndex: 6,
  diskNumber: 3,
  espLetter: 'S',
  workDir: WORK,
  system32: 'C:\\Windows\\System32',
  unattendXml: '<unattend/>',
  credentialsPath: 'C:\\ProgramData\\hcs-sandbox\\vm-images\\win11\\credentials.json',
  stage: [{ from: 'C:\\build\\agent.exe', to: 'agent.exe' }],
};
const GOLDEN = '../__golden__';

/** The plan as text: one block per step, scripts and file contents inline. */
function renderPlan(steps: ReturnType<typeof buildPlan>): string {
  return steps
    .map((step) => {
      const flags = [
        step.session ? 'every session' : 'once',
        step.guard ? `guarded: ${JSON.stringify(step.guard)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      const { script, ...run } = step.run as { script?: { path: string; text: string } };
      const lines = [`## ${step.name} (${flags}): ${step.title}`, JSON.stringify(run, null, 2)];
      if (script) lines.push(`script ${script.path}:`, script.text.replace(/\r\n/g, '\n'));
      return lines.join('\n');
    })
    .join('\n\n');
}

describe('buildPlan', () => {
  it('is the golden plan: fixed VHDX, GPT, DISM, host bcdboot, BCD asserted, unattend, agent, detach', async () => {
    await expect(`${renderPlan(buildPlan(INPUTS))}\n`).toMatchFileSnapshot(`${GOLDEN}/vm-image-plan.txt`);
  });

  it('writes the diskpart scripts with CRLF and the ESP/MSR/Windows layout', async () => {
    const partition = buildPlan(INPUTS).find((s) => s.name === 'partition')!.run as {
      script: { text: string };
    };
    expect(partition.script.text).toMatch(/\r\n/);
    await expect(partition.script.text).toMatchFileSnapshot(`${GOLDEN}/vm-image-partition.diskpart.txt`);
  });

  it("guards every destructive step and targets this build's disk or volumes", () => {
    const guarded = Object.fromEntries(
      buildPlan(INPUTS)
        .filter((s) => s.guard)
        .map((s) => [s.name, s.guard]),
    );
    expect(guarded).toEqual({
      partition: { disk: 3 },
      'mount-volumes': { disk: 3 },
      'apply-image': { path: `${WORK}\\win` },
      bcdboot: { path: 'S:\\' },
      'unmount-volumes': { disk: 3 },
    });
  });

  it("uses the host's bcdboot and installs the agent only when agent.exe is staged", () => {
    const steps = buildPlan({ ...INPUTS, stage: [] });
    const bcdboot = steps.find((s) => s.name === 'bcdboot')!.run as { argv: string[] };
    expect(bcdboot.argv[0]).toBe('C:\\Windows\\System32\\bcdboot.exe');
    const setup = steps.find((s) => s.name === 'write-setupcomplete')!.run as { text: string };
    expect(setup.text).not.toMatch(/agent\.exe"? --install/);
    expect(setup.text).toMatch(/No agent\.exe was staged/);
    const withAgent = buildPlan(INPUTS).find((s) => s.name === 'write-setupcomplete')!.run as {
      text: string;
    };
    expect(withAgent.text).toMatch(/"%ProgramFiles%\\hcs-sandbox\\agent\\agent\.exe" --install/);
  });

  it.each([
    [
      'a staged path escaping the agent folder',
      { stage: [{ from: 'C:\\a.exe', to: '..\\..\\Windows\\a.exe' }] },
      'stage[0].to',
    ],
    ['an absolute staged path', { stage: [{ from: 'C:\\a.exe', to: 'C:\\a.exe' }] }, 'stage[0].to'],
    [
      'a staged path with an alternate data stream',
      { stage: [{ from: 'C:\\a.exe', to: 'a.exe:evil' }] },
      'stage[0].to',
    ],
    ['a newline in the work dir (diskpart command injection)', { workDir: 'C:\\w\r\nclean' }, 'workDir'],
    ['a quote in the WIM path', { wimPath: 'C:\\a" /x' }, 'wimPath'],
    ['a relative VHDX path', { vhdxPath: 'base.vhdx' }, 'vhdxPath'],
    ['the system drive as ESP letter', { espLetter: 'C' }, 'espLetter'],
    ['a negative disk number', { diskNumber: -1 }, 'diskNumber'],
  ])('refuses %s', (_, change, field) => {
    const error = (() => {
      try {
        buildPlan({ ...INPUTS, ...change });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
  });
});

describe('renderUnattend', () => {
  it('is the golden answer file', async () => {
    const xml = renderUnattend({ userName: 'sandbox', password: 'Pa55&<word>"\'' });
    await expect(xml.replace(/\r\n/g, '\n')).toMatchFileSnapshot(`${GOLDEN}/vm-image-unattend.xml`);
    expect(xml).toContain('<Value>Pa55&amp;&lt;word&gt;&quot;&apos;</Value>');
  });

  it('escapes values so a password cannot add elements', () => {
    const xml = renderUnattend({ userName: 'u', password: '</Value><PlainText>false</PlainText>' });
    expect(xml).not.toContain('</Value><PlainText>false');
    expect(xml.match(/<PlainText>/g)).toHaveLength(2);
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });

  it.each([
    ['a control character in the user name', { userName: 'a\nb', password: 'x' }, 'userName'],
    ['markup in the user name', { userName: 'a</Name><Group>', password: 'x' }, 'userName'],
    ['a user name over 20 characters', { userName: 'a'.repeat(21), password: 'x' }, 'userName'],
    ['a control character in the password', { userName: 'u', password: 'a\u0000b' }, 'password'],
    ['a C1 control character in the password', { userName: 'u', password: 'a\u0085b' }, 'password'],
    ['an empty password', { userName: 'u', password: '' }, 'password'],
    ['markup in the computer name', { userName: 'u', password: 'x', computerName: 'pc<x>' }, 'computerName'],
    ['an all-digit computer name', { userName: 'u', password: 'x', computerName: '1234' }, 'computerName'],
    ['a bad locale', { userName: 'u', password: 'x', locale: 'en-US"/><x' }, 'locale'],
  ])('refuses %s with InvalidArgumentError', (_, options, field) => {
    expect(() => checkUnattendOptions(options)).toThrow(InvalidArgumentError);
    try {
      renderUnattend(options);
    } catch (e) {
      expect((e as InvalidArgumentError).field).toBe(field);
      expect((e as Error).message).not.toContain('a\u0000b');
    }
  });
});
