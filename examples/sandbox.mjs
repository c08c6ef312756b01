// A sandbox from an image, the way E2B's SDK reads: create it, run a command,
// write a file and read it back, remove it.
//   node examples/sandbox.mjs
// The image comes from SANDBOX_IMAGE (default: Nano Server; pull it first with
// `hcs-sandbox image pull mcr.microsoft.com/windows/nanoserver:ltsc2022`).
// With HCS_SANDBOX_HOST (and HCS_SANDBOX_TOKEN) set, the same code runs against a
// remote `hcs-sandbox serve`, from Linux or macOS too (docs/remote.md).
import { Sandbox } from 'hcs-sandbox';

const image = process.env.SANDBOX_IMAGE ?? 'mcr.microsoft.com/windows/nanoserver:ltsc2022';

// The one line that differs: this machine, or a remote host. Both have create/open/list.
const host = process.env.HCS_SANDBOX_HOST
  ? await Sandbox.connect({ url: process.env.HCS_SANDBOX_HOST, token: process.env.HCS_SANDBOX_TOKEN })
  : Sandbox;

// In TypeScript, or on Node 24+, `await using sb = await host.create(...)` removes
// the sandbox at the end of the block; Node 20 does not parse `using` in plain .mjs.
const sb = await host.create({ image, memoryMB: 2048, cpus: 2 });
try {
  const result = await sb.commands.run('cmd /c echo hello from a sandbox');
  console.log(`${result.stdout.trim()} (exit code ${result.exitCode})`);

  await sb.files.write('C:\\work\\note.txt', 'written from the host');
  console.log(await sb.files.read('C:\\work\\note.txt'));
} finally {
  await sb.remove(); // its compute system, scratch layer and record
}
