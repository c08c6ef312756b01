// Sandbox network modes: nat with an address and a published port, none, isolated; a port
// conflict is refused before anything is created; remove deletes endpoint and namespace.
import net from 'node:net';
import { main, product } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, listNetworks } = product;

await main(async () => {
  const image = await seedImage(process.env.HCS_SANDBOX_HOME);
  const r = {};
  const nat = await Sandbox.create({ image, name: 'web', ports: ['18480:80'] });
  const info = await nat.info();
  r.nat = {
    network: info.network,
    ports: info.ports,
    ip: /^\d+\.\d+\.\d+\.\d+$/.test((await nat.ip()) ?? ''),
    inspectIp: info.ip === (await nat.ip()),
  };
  const none = await Sandbox.create({ image, name: 'offline', network: 'none' });
  r.none = { network: (await none.info()).network, ip: (await none.ip()) ?? null };
  const iso = await Sandbox.create({ image, name: 'iso', network: 'isolated', allow: ['10.1.0.0/16'] });
  r.isolated = (await iso.info()).network;
  // A host port already in use: refused with nothing created.
  const busy = net.createServer().listen(18481, '0.0.0.0');
  await new Promise((resolve) => busy.once('listening', resolve));
  r.conflict = await Sandbox.create({ image, name: 'clash', ports: ['18481:80'] }).then(
    () => 'created',
    (e) => e.name,
  );
  busy.close();
  r.afterConflict = (await Sandbox.list()).map((s) => s.name).sort();
  r.badPort = await Sandbox.create({ image, ports: ['99999:80'] }).then(
    () => 'created',
    (e) => [e.name, e.field],
  );
  r.badAllow = await Sandbox.create({ image, allow: ['10.0.0.0/8'] }).then(
    () => 'created',
    (e) => [e.name, e.field],
  );
  r.networks = (await listNetworks()).map((n) => n.name);
  for (const sb of [nat, none, iso]) await sb.remove();
  r.endpointsLeft = await nat.ip();
  return r;
});
