// After a creator crashed: gc finds and removes what it left; foreign systems are never touched.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerDocument, main, product } from './lib.mjs';

const { Sandbox, ComputeSystem, collectGarbage, enumerateComputeSystems, NotOwnedError } = product;

await main(async () => {
  const home = process.env.HCS_SANDBOX_HOME;
  const r = {};
  // A foreign system (Docker's) and a leaked one of ours (our prefix and Owner, no record).
  const foreign = await ComputeSystem.create(
    'docker-4f2a',
    containerDocument({ Owner: 'docker', ShouldTerminateOnLastHandleClosed: false }),
  );
  await foreign.start();
  await foreign.close();
  // Ours: an id carrying this store's id (written by the crashed create before).
  const storeId = readFileSync(join(home, 'store-id'), 'utf8').trim();
  const leaked = await ComputeSystem.create(
    `hcssb-${storeId}-leaked-000001`,
    containerDocument({ Owner: 'hcs-sandbox', ShouldTerminateOnLastHandleClosed: false }),
  );
  await leaked.start();
  await leaked.close();

  r.listedBefore = (await Sandbox.list()).map((s) => [s.name, s.status]);
  r.dryRun = (await collectGarbage({ dryRun: true })).map((a) => [a.kind, a.removed]);
  r.gc = (await collectGarbage()).map((a) => [a.kind, a.removed, a.error ?? null]);
  r.again = (await collectGarbage()).length;
  r.recordsLeft = (await Sandbox.list()).length;
  r.scratchLeft = readdirSync(join(home, 'scratch'));
  r.systemsLeft = (await enumerateComputeSystems()).map((s) => s.Id).sort();

  // Ownership: a foreign system is refused without force.
  r.refused = await Sandbox.open('docker-4f2a').then(
    () => 'opened',
    (e) => (e instanceof NotOwnedError ? e.owner : String(e)),
  );
  const forced = await Sandbox.open('docker-4f2a', { force: true });
  await forced.kill();
  r.forcedKill = (await enumerateComputeSystems({ Ids: ['docker-4f2a'] })).map((s) => s.State);
  return r;
});
