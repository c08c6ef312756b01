// koffi's sizeof/alignof/offsetof for every struct the jobs layer declares,
// inside node.exe with koffi's Windows binary (compared with test-host/layout).
import { main } from './lib.mjs';

const native = await import('../../../dist/native/index.js');
await main(() => native.jobStructLayouts());
