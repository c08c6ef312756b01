// The product API end to end: Sandbox.create/list/open, commands, files, stop/start, remove.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main, product, sim } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, CommandExitError, SandboxNotFoundError } = product;

await main(async () => {
  const home = process.env.HCS_SANDBOX_HOME;
  const image = await seedImage(home);
  const r = {};

  // Ephemeral sandbox: create, run, files, dispose (removed).
  const sb = await Sandbox.create({ image, memoryMB: 512, cpus: 1, env: { GREETING: 'hi' } });
  r.created = { name: sb.name, idPrefix: sb.id.startsWith('hcssb-') };
  const run = await sb.commands.run('cmd /c echo %GREETING% from the sandbox');
  r.run = { exitCode: run.exitCode, stdout: run.stdout.trim() };
  try {
    await sb.commands.run('cmd /c exit 5');
  } catch (error) {
    r.exitError = error instanceof CommandExitError ? error.exitCode : String(error);
  }
  await sb.files.write('C:\\work\\a.txt', 'hello files');
  r.fileBack = await sb.files.read('C:\\work\\a.txt');
  const info = await sb.info();
  r.info = { status: info.status, isolation: info.isolation, image: info.image, memoryMB: info.memoryMB };
  r.listed = (await Sandbox.list()).map((s) => [s.name, s.status]);
  await sb[Symbol.asyncDispose]();
  r.afterDispose = (await Sandbox.list()).length;
  r.openGone = await Sandbox.open(sb.name).then(
    () => 'opened',
    (e) => e instanceof SandboxNotFoundError,
  );

  // Persistent sandbox: files survive stop and start.
  const p = await Sandbox.create({ image, name: 'keeper', persistent: true });
  await p.files.write('C:\\data\\state.txt', 'kept');
  await p.stop();
  r.stoppedStatus = (await Sandbox.list()).find((s) => s.name === 'keeper')?.status;
  const reopened = await Sandbox.open('keeper');
  await reopened.start();
  r.kept = await reopened.files.read('C:\\data\\state.txt');
  r.reopenedRun = (await reopened.commands.run('cmd /c echo again')).stdout.trim();
  await reopened.remove();
  r.scratchLeft = readdirSync(join(home, 'scratch'));
  r.recordsLeft = (await Sandbox.list()).length;

  // Bad input is refused before anything is created.
  r.badMemory = await Sandbox.create({ image, memoryMB: 12 }).then(
    () => 'created',
    (e) => [e.name, e.field],
  );
  r.badIsolation = await Sandbox.create({ image, isolation: 'kvm' }).then(
    () => 'created',
    (e) => [e.name, e.field],
  );
  r.missingImage = await Sandbox.create({ image: 'local/nope:1' }).then(
    () => 'created',
    (e) => e.name,
  );

  r.audit = sim({ Op: 'Audit' });
  return r;
});
