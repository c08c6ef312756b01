#!/usr/bin/env node
// Builds the guest agent and the host relay (agent/, C) into dist/agent with
// MinGW-w64, so the package ships them: `vm image build` stages agent.exe into
// images, and VM sandboxes reach it through hvsock-relay.exe.
//
//   node scripts/build-agent.mjs             (part of `npm run build`)
//   node scripts/build-agent.mjs --required  (publishing: a package without the agent fails)
//
// Without MinGW-w64 (an `npm install <git url>` on Windows, say) it says so and
// builds nothing: VM sandboxes then need the binaries from a published package.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..');
const out = join(repo, 'dist', 'agent');
const compiler = 'x86_64-w64-mingw32-gcc';
const required = process.argv.includes('--required');

const found = spawnSync(compiler, ['--version'], { stdio: 'ignore' });
if (found.error || found.status !== 0) {
  const message =
    `${compiler} (MinGW-w64) was not found, so the guest agent was not built into dist/agent; ` +
    'VM sandboxes need it (docs/vm.md, "The guest agent").';
  if (required) {
    console.error(`build-agent: ${message}`);
    process.exit(1);
  }
  console.error(`build-agent: note: ${message}`);
  process.exit(0);
}
const made = spawnSync(
  'make',
  ['-s', '-C', join(repo, 'agent'), `BUILD=${out}`, join(out, 'agent.exe'), join(out, 'hvsock-relay.exe')],
  { stdio: 'inherit' },
);
process.exit(made.status ?? 1);
