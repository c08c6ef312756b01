// Stats, top, update and ip of a running sandbox through the SDK, with a known process inside.
import { main, product, sim } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, LimitUpdateUnsupportedError } = product;

await main(async () => {
  const image = await seedImage(process.env.HCS_SANDBOX_HOME);
  const sb = await Sandbox.create({ image, name: 'busy', memoryMB: 512 });
  const ping = await sb.commands.spawn('ping -n 30 127.0.0.1');
  const readings = [];
  for await (const s of sb.stats({ intervalMs: 200 })) {
    readings.push(s);
    if (readings.length === 3) break;
  }
  const top = await sb.top();
  await sb.update({ memoryMB: 1024 });
  const info = await sb.info();
  const badUpdate = await sb.update({ cpus: 1, cpuLimit: 50 }).then(
    () => 'ok',
    (e) => [e.name, e.field],
  );
  await ping.kill();
  await sb.remove();
  // Limits land in the container document HCS receives.
  const qos = await Sandbox.create({
    image,
    name: 'qos',
    cpuWeight: 300,
    ioMaxIops: 1000,
    ioMaxBandwidth: 5_000_000,
    network: 'none',
  });
  const doc = sim({ Op: 'ServiceState' }).Systems.find((s) => s.Id === qos.id)?.Document?.Container;
  await qos.remove();
  return {
    readings: readings.map((r) => ({
      name: r.name,
      processes: r.processes,
      cpu: r.cpuPercent >= 0 && r.cpuPercent <= 100,
      uptime: r.uptimeMs >= 0,
    })),
    workingSet: readings.at(-1).memory.workingSetBytes,
    top: top.map((p) => p.ImageName?.toLowerCase()),
    memoryAfterUpdate: info.memoryMB,
    badUpdate,
    unsupportedClass: typeof LimitUpdateUnsupportedError,
    processor: doc?.Processor,
    storageQoS: doc?.Storage?.QoS,
  };
});
