// A prepared sandbox becomes the base of others: stop, commit, create from the new image.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main, product } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, listImages } = product;

await main(async () => {
  const base = await seedImage(process.env.HCS_SANDBOX_HOME);
  const r = {};
  const prep = await Sandbox.create({ image: base, name: 'prep', persistent: true, network: 'none' });
  await prep.files.write('C:\\app\\config.txt', 'prepared');
  r.running = await prep.commit('local/app:1').then(
    () => 'committed',
    (e) => [e.name, e.code, e.kind],
  );
  await prep.stop();
  const image = await prep.commit('local/app:1');
  r.image = { reference: image.reference, layers: image.layers.length, build: image.build };
  r.layerHasFile = readFileSync(join(image.layers[0].path, 'Files', 'app', 'config.txt'), 'utf8');
  r.listed = (await listImages())
    .filter((i) => i.source === 'hcs-sandbox')
    .map((i) => [i.reference, i.layers.length]);
  const child = await Sandbox.create({ image: 'local/app:1', network: 'none' });
  r.child = (await child.commands.run('cmd /c echo from the child')).stdout.trim();
  r.childLayers = (await child.info()).image;
  await child.remove();
  await prep.remove();
  r.tmpLeft = existsSync(join(process.env.HCS_SANDBOX_HOME, 'tmp'))
    ? (await import('node:fs')).readdirSync(join(process.env.HCS_SANDBOX_HOME, 'tmp'))
    : [];
  return r;
});
