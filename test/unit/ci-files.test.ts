import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const repo = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

// The Windows workflow cannot run here; check at least that it parses and calls
// scripts that exist, so it is correct by construction.
describe('windows-e2e workflow', () => {
  const workflow = parse(readFileSync(join(repo, '.github/workflows/windows-e2e.yml'), 'utf8')) as {
    jobs: Record<
      string,
      {
        'runs-on': string;
        steps: {
          run?: string;
          uses?: string;
          if?: string;
          env?: Record<string, string>;
          with?: Record<string, string>;
        }[];
      }
    >;
  };
  const job = workflow.jobs.e2e!;

  it('runs on a Windows Server 2022 runner', () => {
    expect(job['runs-on']).toBe('windows-2022');
  });

  it('only calls npm scripts that exist', () => {
    for (const step of job.steps) {
      const m = step.run?.match(/^npm run ([\w:-]+)/);
      if (m) expect(pkg.scripts, `npm run ${m[1]}`).toHaveProperty(m[1]!);
    }
  });

  it('enables the real-Windows tier', () => {
    const e2e = job.steps.find((s) => s.run === 'npm run test:e2e');
    expect(e2e?.env?.HCS_SANDBOX_E2E).toBe('1');
  });

  it('runs the probe after the build and uploads the report it wrote', () => {
    const steps = job.steps;
    const build = steps.findIndex((s) => s.run === 'npm run build');
    const probe = steps.findIndex((s) => /^npm run probe\b/.test(s.run ?? ''));
    expect(build).toBeGreaterThanOrEqual(0);
    expect(probe).toBeGreaterThan(build);
    expect(pkg.scripts.probe).toMatch(/dist\/cli\/main\.js doctor --probe$/);
    const output = steps[probe]!.run!.match(/--output (\S+)/)?.[1];
    expect(output).toBeDefined();
    const upload = steps.slice(probe + 1).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload?.with?.path).toBe(output);
    // A failing probe item must not lose the report: both steps run unless the run was cancelled.
    expect(steps[probe]!.if).toContain('!cancelled()');
    expect(upload?.if).toContain('!cancelled()');
  });
});

describe('.ci/run', () => {
  it('is the README test command and nothing else', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const ci = readFileSync(join(repo, '.ci/run'), 'utf8');
    const command = ci
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('set ') && !l.startsWith('cd '))
      .join('\n');
    expect(command).toBe('npm ci && npm test');
    expect(readme).toContain(command);
  });
});
