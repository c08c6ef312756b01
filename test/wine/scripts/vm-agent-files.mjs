// Opens the running VM sandbox argv[2] (HCS_SANDBOX_HOME) and uses its files through the
// guest agent (issue 15): write, read back as text and bytes, a missing file, a folder copy.
import { Sandbox } from 'hcs-sandbox';
import { main } from './lib.mjs';

await main(async () => {
  const [name, dir] = process.argv.slice(2);
  const sandbox = await Sandbox.open(name);
  try {
    const path = `${dir}\\sdk.bin`;
    await sandbox.files.write(path, new Uint8Array([0, 1, 2, 255]));
    const bytes = Array.from(await sandbox.files.read(path, { encoding: 'bytes' }));
    await sandbox.files.write(`${dir}\\sdk.txt`, 'héllo');
    const text = await sandbox.files.read(`${dir}\\sdk.txt`);
    const missing = await sandbox.files.read(`${dir}\\none.txt`).then(
      () => undefined,
      (error) => ({ name: error.constructor.name, code: error.code }),
    );
    const folder = await sandbox.files.copyOut(dir, process.env.TEMP ?? 'C:\\').then(
      () => undefined,
      (error) => ({ name: error.constructor.name, code: error.code, feature: error.feature }),
    );
    return { bytes, text, missing, folder };
  } finally {
    await sandbox.close();
  }
});
