// N sandboxes created, exec'd and removed concurrently from this one process.
// argv: count, tag. Each command echoes its own sandbox's name: nothing may cross.
import { main, product } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox } = product;
const count = Number(process.argv[2] ?? 20);
const tag = process.argv[3] ?? 'p';

await main(async () => {
  const image = await seedImage(process.env.HCS_SANDBOX_HOME, `local/base-${tag}:1`);
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `${tag}-${i}`;
      const sb = await Sandbox.create({ image, name });
      try {
        const out = await sb.commands.run(`cmd /c echo ${name}`);
        await sb.files.write('C:\\me.txt', name);
        return { name, echoed: out.stdout.trim(), file: await sb.files.read('C:\\me.txt') };
      } finally {
        await sb.remove();
      }
    }),
  );
  return {
    ms: Math.round(performance.now() - t0),
    crossed: results.filter((r) => r.echoed !== r.name || r.file !== r.name).map((r) => r.name),
    count: results.length,
    left: (await Sandbox.list()).filter((s) => s.name.startsWith(`${tag}-`)).length,
  };
});
