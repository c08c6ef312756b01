// Another process: lists, opens and (optionally) terminates a system by id.
import { main, product } from './lib.mjs';

const { ComputeSystem, enumerateComputeSystems, HcsError } = product;

await main(async () => {
  const [id, action] = process.argv.slice(2);
  const listed = await enumerateComputeSystems({ Owners: ['hcs-sandbox-tests'] });
  let opened;
  try {
    opened = await ComputeSystem.open(id);
  } catch (error) {
    if (error instanceof HcsError) {
      return {
        listed: listed.map((s) => s.Id),
        open: { hresultName: error.hresultName, notFound: error.isNotFound() },
      };
    }
    throw error;
  }
  const state = (await opened.properties()).State;
  let exitStatus;
  if (action === 'terminate') exitStatus = await opened.terminate();
  await opened.close();
  return { listed: listed.map((s) => s.Id), open: { state }, exitStatus };
});
