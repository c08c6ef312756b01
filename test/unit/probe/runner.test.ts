import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../../src/cli/plan.js';
import { HcsError, HcsUnavailableError } from '../../../src/index.js';
import {
  defaultReportPath,
  type ProbeHost,
  type ProbeItem,
  probeItems,
  probeSummary,
  runProbe,
} from '../../../src/probe/index.js';
import { skip } from '../../../src/probe/types.js';

const host: ProbeHost = {
  platform: 'win32',
  arch: 'x64',
  release: '10.0.20348',
  build: 20348,
  edition: 'Windows Server 2022 Datacenter',
  elevated: false,
  wine: null,
  hcsSandboxVersion: '0.0.0-test',
  nodeVersion: process.version,
  hcsSchemaVersions: ['2.1'],
};

function item(id: string, run: ProbeItem['run'], timeoutMs?: number): ProbeItem {
  return { id, title: id, rows: ['1'], run, ...(timeoutMs && { timeoutMs }) };
}

describe('runProbe', () => {
  it('turns missing prerequisites into skips, never failures', async () => {
    const report = await runProbe({
      host,
      items: [
        item('skip', async () => skip('no image')),
        item('feature-off', async () => {
          throw new HcsUnavailableError('dll-missing', 'vmcompute.dll', 'Cannot load vmcompute.dll');
        }),
        item('denied', async () => {
          throw new HcsError({ hresult: 0x80070005, operation: 'HcsImportLayer' });
        }),
        item('broken', async () => {
          throw new HcsError({ hresult: 0x80004005, operation: 'HcsImportLayer' });
        }),
      ],
    });
    expect(report.items.map((i) => [i.id, i.outcome])).toEqual([
      ['skip', 'skipped'],
      ['feature-off', 'skipped'],
      ['denied', 'skipped'],
      ['broken', 'fail'],
    ]);
    expect(report.items[1]!.reason).toMatch(/vmcompute\.dll/);
    expect(report.items[2]!.reason).toMatch(/elevated/);
    expect(report.items[3]!.details).toMatchObject({ hresult: '0x80004005', hresultName: 'E_FAIL' });
    expect(report.summary).toEqual({ pass: 0, fail: 1, skipped: 3 });
  });

  it('runs every undo, newest first, after a failure and after a timeout', async () => {
    const undone: string[] = [];
    const report = await runProbe({
      host,
      items: [
        item('throws', async (ctx) => {
          ctx.defer('a', () => undone.push('throws:a'));
          ctx.defer('b', () => undone.push('throws:b'));
          throw new Error('boom');
        }),
        item(
          'hangs',
          async (ctx) => {
            ctx.defer('c', () => undone.push('hangs:c'));
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
            return { outcome: 'pass', reason: 'too late' };
          },
          50,
        ),
      ],
    });
    expect(undone).toEqual(['throws:b', 'throws:a', 'hangs:c']);
    expect(report.items.map((i) => [i.id, i.outcome, i.reason])).toEqual([
      ['throws', 'fail', 'boom'],
      ['hangs', 'fail', 'did not finish within 50 ms'],
    ]);
  });

  it('reports a failed undo, and does not call such an item a pass', async () => {
    const report = await runProbe({
      host,
      items: [
        item('leaky', async (ctx) => {
          ctx.defer('remove the thing', () => {
            throw new Error('still in use');
          });
          return { outcome: 'pass', reason: 'ok' };
        }),
      ],
    });
    expect(report.items[0]).toMatchObject({
      outcome: 'fail',
      cleanupErrors: ['remove the thing: still in use'],
    });
  });

  it('skips everything off Windows', async () => {
    const report = await runProbe({ host: { ...host, platform: 'linux' } });
    expect(report.items.length).toBe(probeItems.length);
    expect(report.items.every((i) => i.outcome === 'skipped' && i.reason === 'not Windows (linux)')).toBe(
      true,
    );
  });

  it('summarises for a person and names the default report file', async () => {
    const report = await runProbe({
      host: { ...host, wine: '9.0' },
      items: [item('x', async () => skip('why'))],
    });
    const text = probeSummary(report);
    expect(text).toMatch(/^host: Windows Server 2022 Datacenter build 10\.0\.20348, not elevated/);
    expect(text).toMatch(/NOTE: running under Wine 9\.0/);
    expect(text).toMatch(/^skipped x \(rows 1\): why$/m);
    expect(text).toMatch(/0 passed, 0 failed, 1 skipped\n$/);
    expect(defaultReportPath(host, '/tmp', new Date('2026-12-06T10:00:00Z'))).toBe(
      '/tmp/hcs-sandbox-probe-20348-2026-12-06.json',
    );
  });
});

describe('probe items', () => {
  it('have unique ids and each names the verification rows it confirms', () => {
    const ids = probeItems.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const i of probeItems) expect(i.rows.length, i.id).toBeGreaterThan(0);
  });
});

describe('doctor --probe plan', () => {
  it.each([
    [['doctor', '--probe'], { kind: 'doctor', json: false, probe: true }],
    [
      ['doctor', '--probe', '--output', 'r.json'],
      { kind: 'doctor', json: false, probe: true, output: 'r.json' },
    ],
  ])('%j', (argv, expected) => {
    expect(parsePlan(argv)).toEqual(expected);
  });

  it('refuses --output without --probe', () => {
    expect(() => parsePlan(['doctor', '--output', 'r.json'])).toThrow(/--output needs --probe/);
  });
});
