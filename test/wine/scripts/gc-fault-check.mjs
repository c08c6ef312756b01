// After a killed create/rm (gc-fault-child.mjs): gc, then what is left. Every record must
// read back; nothing of ours may be left without a record; what a record still names must
// be a complete persistent sandbox, which rm then removes.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { main, product, sim } from './lib.mjs';

const { Sandbox, collectGarbage, enumerateComputeSystems } = product;
// The state store is not a public entry: this test of it reaches into the build.
const { StateStore } = await import(new URL('../../../dist/sandbox/index.js', import.meta.url).href);
const files = (dir) => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

await main(async () => {
  const home = process.env.HCS_SANDBOX_HOME;
  const store = new StateStore({ root: home });
  const ours = async () => (await enumerateComputeSystems({ Owners: ['hcs-sandbox'] })).map((s) => s.Id);
  // The simulated service ends a dead client's ShouldTerminateOnLastHandleClosed systems once it
  // sees the pipe break: wait for that (bounded), as gc keeps a record whose system still runs.
  const named = new Set((await store.listRecords({ skipCorrupt: true })).map((r) => r.id));
  for (let t = 0; t < 30 && (await ours()).some((id) => named.has(id)); t++) await sleep(100);

  const r = {};
  r.gc = (await collectGarbage({ cacheDir: join(home, 'blobs') })).map((a) => [
    a.kind,
    a.removed,
    a.error ?? null,
  ]);
  try {
    r.records = (await store.listRecords()).map((x) => ({
      name: x.name,
      status: x.status,
      persistent: x.persistent,
    }));
  } catch (error) {
    r.corrupt = `${error.name}: ${error.message}`;
    return r;
  }
  const recordIds = new Set((await store.listRecords()).map((x) => x.id));
  r.strayedSystems = (await ours()).filter((id) => !recordIds.has(id));
  const recordNames = new Set(r.records.map((x) => x.name));
  r.strayedScratch = files(join(home, 'scratch')).filter((n) => !recordNames.has(n));
  r.tempFiles = [home, join(home, 'sandboxes'), join(home, 'images')].flatMap((d) =>
    files(d).filter((n) => n.endsWith('.tmp')),
  );
  // What is left must be a complete persistent sandbox, and rm must remove it.
  r.removed = [];
  for (const { name } of r.records) {
    const sb = await Sandbox.open(name);
    await sb.remove();
    r.removed.push(name);
  }
  r.after = {
    records: (await store.listRecords()).length,
    scratch: files(join(home, 'scratch')),
    systems: await ours(),
  };
  r.audit = sim({ Op: 'Audit' });
  return r;
});
