// The files API through the no-follow opener (ntdll NtCreateFile relative to
// each parent's handle), in two runs around a link the Linux side plants in the
// mounted volume. `setup`: a persistent sandbox, plain moves, its volume path.
// `attack`: copyOut of a tree holding the planted link, then remove.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, product } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox } = product;
const [phase, hostDir] = process.argv.slice(2);

const outcome = (promise) =>
  promise.then(
    (value) => ({ ok: true, value: value instanceof Uint8Array ? [...value] : value }),
    (e) => ({ name: e.name, code: e.code, path: e.path }),
  );

await main(async () => {
  const home = process.env.HCS_SANDBOX_HOME;
  const r = {};
  if (phase === 'setup') {
    const image = await seedImage(home);
    const sb = await Sandbox.create({ image, name: 'files', persistent: true });
    await sb.files.write('C:\\work\\deep\\a.txt', 'plain');
    r.read = await sb.files.read('C:\\work\\deep\\a.txt');
    await sb.files.write('C:\\work\\deep\\a.txt', new Uint8Array([0, 255]));
    r.bytes = [...(await sb.files.read('C:\\work\\deep\\a.txt', { encoding: 'bytes' }))];
    mkdirSync(join(hostDir, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(hostDir, 'tree', 'sub', 'b.txt'), 'tree file');
    await sb.files.copyIn(join(hostDir, 'tree'), 'C:\\in');
    await sb.files.copyOut('C:\\in', join(hostDir, 'back'));
    r.copiedBack = readFileSync(join(hostDir, 'back', 'sub', 'b.txt'), 'utf8');
    r.missing = await outcome(sb.files.read('C:\\work\\nope.txt'));
    r.listed = (await sb.files.list('C:\\in')).map((e) => [e.name, e.type]);
    r.listedSub = (await sb.files.list('C:\\in\\sub')).map((e) => [
      e.name,
      e.type,
      e.size,
      e.modified instanceof Date,
    ]);
    r.notEmpty = await outcome(sb.files.remove('C:\\in'));
    await sb.files.remove('C:\\in', { recursive: true });
    r.inGone = !(await sb.files.list('C:\\')).some((e) => e.name === 'in');
    const record = JSON.parse(readFileSync(join(home, 'sandboxes', 'files.json'), 'utf8'));
    r.volumePath = record.record.volumePath;
    await sb.close();
  } else {
    const sb = await Sandbox.open('files');
    r.copyOutTree = await outcome(sb.files.copyOut('C:\\work', join(hostDir, 'out')));
    await sb.remove();
  }
  return r;
});
