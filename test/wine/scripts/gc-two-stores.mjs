// Two hcs-sandbox stores on one host (argv: their homes), each with a running persistent
// sandbox: gc in the first must leave the second's compute system running.
import { main, product } from './lib.mjs';
import { seedImage } from './sandbox-lib.mjs';

const { Sandbox, collectGarbage, enumerateComputeSystems } = product;
const [homeA, homeB] = process.argv.slice(2);

await main(async () => {
  const boxes = [];
  for (const [home, name] of [
    [homeA, 'mine'],
    [homeB, 'theirs'],
  ]) {
    const image = await seedImage(home);
    boxes.push(await Sandbox.create({ image, name, home, persistent: true, network: 'none' }));
  }
  const [mine, theirs] = boxes;
  const r = { ids: [mine.id, theirs.id] };
  r.gc = (await collectGarbage({ home: homeA })).map((a) => [
    a.kind,
    a.target,
    a.removed,
    a.leftAlone ?? false,
  ]);
  const state = new Map((await enumerateComputeSystems()).map((s) => [s.Id, s.State]));
  r.states = [state.get(mine.id) ?? 'gone', state.get(theirs.id) ?? 'gone'];
  r.gcOther = (await collectGarbage({ home: homeB })).length;
  for (const sb of boxes) await sb.remove().catch(() => undefined);
  r.left = (await enumerateComputeSystems({ Owners: ['hcs-sandbox'] })).length;
  return r;
});
