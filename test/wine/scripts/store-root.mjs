// The store root's security descriptor through the real advapi32 under Wine
// (issue 13, findings 2 and 18): secureStoreRoot creates, accepts, tightens and
// refuses; a state store write goes through it. Wine keeps no descriptor of its
// own here: it answers from the Unix owner and mode and maps a DACL it is given
// onto the mode bits, which the Linux side of the test reads.
import { main, product } from './lib.mjs';

const [fresh, loose, foreign, records] = process.argv.slice(2);
const { secureStoreRoot } = product;
const { StateStore } = await import('../../../dist/sandbox/state-store.js');

async function outcome(fn) {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: { name: error?.name, code: error?.code, reason: error?.reason } };
  }
}

await main(async () => {
  const warnings = [];
  process.on('warning', (w) => warnings.push(w.code));
  const result = {
    created: await outcome(() => secureStoreRoot(fresh)),
    again: await outcome(() => secureStoreRoot(fresh)),
    loose: await outcome(() => secureStoreRoot(loose)),
    looseAgain: await outcome(() => secureStoreRoot(loose)),
    foreign: await outcome(() => secureStoreRoot(foreign)),
  };
  const store = new StateStore({ root: records });
  result.record = await outcome(async () => {
    const record = await store.createRecord({
      name: 'web',
      id: 'hcs-sandbox-web',
      options: { env: { TOKEN: 'secret' } },
      isolation: 'process',
      status: 'created',
      persistent: true,
    });
    return record.name;
  });
  await new Promise((resolve) => setImmediate(resolve));
  result.warnings = warnings;
  return result;
});
