// Opens the running VM sandbox argv[2] (HCS_SANDBOX_HOME) and uses its files through the
// guest agent (issue 15): write, read back as text and bytes, a missing file, a folder
// copied in and back out, list, remove (refused when not empty, then recursive).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from 'hcs-sandbox';
import { main } from './lib.mjs';

const failure = (promise) =>
  promise.then(
    () => undefined,
    (error) => ({ name: error.constructor.name, code: error.code }),
  );

await main(async () => {
  const [name, dir, hostDir] = process.argv.slice(2);
  const sandbox = await Sandbox.open(name);
  try {
    const path = `${dir}\\sdk.bin`;
    await sandbox.files.write(path, new Uint8Array([0, 1, 2, 255]));
    const bytes = Array.from(await sandbox.files.read(path, { encoding: 'bytes' }));
    await sandbox.files.write(`${dir}\\sdk.txt`, 'héllo');
    const text = await sandbox.files.read(`${dir}\\sdk.txt`);
    const missing = await failure(sandbox.files.read(`${dir}\\none.txt`));

    mkdirSync(join(hostDir, 'tree', 'sub', 'empty'), { recursive: true });
    writeFileSync(join(hostDir, 'tree', 'top.txt'), 'top');
    writeFileSync(join(hostDir, 'tree', 'sub', 'deep.txt'), 'deep');
    await sandbox.files.copyIn(join(hostDir, 'tree'), `${dir}\\tree`);
    await sandbox.files.copyOut(`${dir}\\tree`, join(hostDir, 'back'));
    const copiedBack = {
      top: readFileSync(join(hostDir, 'back', 'top.txt'), 'utf8'),
      deep: readFileSync(join(hostDir, 'back', 'sub', 'deep.txt'), 'utf8'),
    };
    const listed = (await sandbox.files.list(`${dir}\\tree`))
      .map((e) => [e.name, e.type, e.size])
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    const notEmpty = await failure(sandbox.files.remove(`${dir}\\tree`));
    await sandbox.files.remove(`${dir}\\tree`, { recursive: true });
    const afterRemove = (await sandbox.files.list(dir)).map((e) => e.name).sort();
    return { bytes, text, missing, copiedBack, listed, notEmpty, afterRemove };
  } finally {
    await sandbox.close();
  }
});
