// Creates and removes sandboxes in a loop until it kills itself (TerminateProcess, at a
// moment gc-faults.test.ts drew): ephemeral ones started (some with a NAT
// endpoint), persistent ones left created, each removed again.
import { product } from './lib.mjs';

const { Sandbox } = product;
const [tag, image, killAfterMs] = process.argv.slice(2);
// A crash at a random await of the loop: TerminateProcess on itself, no cleanup of any kind.
setTimeout(() => process.kill(process.pid, 'SIGKILL'), Number(killAfterMs));
process.stderr.write(`loop starts, killed in ${killAfterMs} ms\n`);
for (let i = 0; ; i++) {
  const persistent = i % 2 === 1;
  const sb = await Sandbox.create({
    image,
    name: `${tag}-${i}`,
    persistent,
    start: !persistent,
    network: i % 4 === 0 ? 'nat' : 'none',
  });
  process.stderr.write(`${tag}-${i} created\n`);
  await sb.remove();
  process.stderr.write(`${tag}-${i} removed\n`);
}
