import { describe, expect, it } from 'vitest';
import { PRIORITY_CLASS_NAMES } from '../../../src/cli/commands/job.js';
import { parsePlan, readPlan } from '../../../src/cli/plan.js';
import { SdkNotLoaded, sdkIfLoaded } from '../../../src/cli/sdk.js';

// This file never loads the SDK itself: each test file has its own modules, so
// these show what a fresh `hcs-sandbox` process does.
describe('the CLI loads the SDK only when a verb needs it', () => {
  it('parses help, version and ls without the SDK', () => {
    expect(parsePlan(['--help']).kind).toBe('help');
    expect(parsePlan(['--version']).kind).toBe('help');
    expect(parsePlan(['ls', '-a']).kind).toBe('sandbox-ls');
    expect(sdkIfLoaded()).toBeUndefined();
  });

  it('every flag parser that needs the SDK lets SdkNotLoaded through (none wraps it as a usage error)', () => {
    const needSdk = [
      ['run', '--memory', '512MiB', 'img', '--', 'cmd'],
      ['network', 'create', 'lab', '--subnet', '10.60.0.0/16'],
      ['job', 'run', '--memory', '64MiB', '--', 'cmd'],
      ['job', 'run', '--cpu-rate', '50', '--', 'cmd'],
    ];
    for (const argv of needSdk) expect(() => parsePlan(argv), argv.join(' ')).toThrow(SdkNotLoaded);
    expect(sdkIfLoaded()).toBeUndefined();
  });

  it('asks for the SDK when a flag parser needs it, and readPlan loads it and parses again', async () => {
    expect(() => parsePlan(['run', '--memory', '512MiB', 'img', '--', 'cmd'])).toThrow(SdkNotLoaded);
    const plan = await readPlan(['run', '--memory', '512MiB', 'img', '--', 'cmd']);
    expect(plan).toMatchObject({ kind: 'sandbox-run' });
    expect(JSON.stringify(plan)).toContain('"memoryMB":512');
    expect(sdkIfLoaded()).toBeDefined();
    expect(await readPlan(['network', 'create', 'lab', '--subnet', '10.60.0.0/16'])).toMatchObject({
      kind: 'network-create',
      subnet: '10.60.0.0/16',
    });
  });

  it("job run's help lists the SDK's priority classes", async () => {
    const { PRIORITY_CLASSES } = await import('../../../src/jobs/index.js');
    expect(PRIORITY_CLASS_NAMES).toBe(PRIORITY_CLASSES.join(', '));
  });
});
