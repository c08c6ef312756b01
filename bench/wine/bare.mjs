// The leanest direct koffi use of computecore.dll, for baselines: one registered
// completion callback, operations awaited through it, results freed with LocalFree.
import koffi from 'koffi';

const cc = koffi.load('computecore.dll');
const k32 = koffi.load('kernel32.dll');
const Completion = koffi.proto('void __stdcall BareCompletion(void *op, void *ctx)');
const HcsCreateOperation = cc.func('void *HcsCreateOperation(void *ctx, BareCompletion *cb)');
export const HcsCloseOperation = cc.func('void HcsCloseOperation(void *op)');
const HcsGetOperationResult = cc.func('int32 HcsGetOperationResult(void *op, _Out_ void **doc)');
export const HcsGetProperties = cc.func(
  'int32 HcsGetComputeSystemProperties(void *sys, void *op, const char16_t *q)',
);
export const HcsCreateComputeSystem = cc.func(
  'int32 HcsCreateComputeSystem(const char16_t *id, const char16_t *doc, void *op, void *sd, _Out_ void **sys)',
);
export const HcsStart = cc.func('int32 HcsStartComputeSystem(void *sys, void *op, const char16_t *o)');
export const HcsTerminate = cc.func(
  'int32 HcsTerminateComputeSystem(void *sys, void *op, const char16_t *o)',
);
export const HcsOpenComputeSystem = cc.func(
  'int32 HcsOpenComputeSystem(const char16_t *id, uint32 access, _Out_ void **sys)',
);
export const HcsCloseComputeSystem = cc.func('void HcsCloseComputeSystem(void *sys)');
const LocalFree = k32.func('void *LocalFree(void *p)');

const waiting = new Map();
let nextKey = 1;
const callback = koffi.register((op, ctx) => {
  const out = [null];
  const hr = HcsGetOperationResult(op, out);
  if (out[0]) {
    koffi.decode.string16(out[0]);
    LocalFree(out[0]);
  }
  const resolve = waiting.get(Number(ctx));
  waiting.delete(Number(ctx));
  setImmediate(() => {
    HcsCloseOperation(op);
    resolve?.(hr);
  });
}, koffi.pointer(Completion));
const keepAlive = setInterval(() => {}, 1 << 30);

/** Runs one operation: `call(op)` starts it; resolves with its HRESULT. */
export function bareOperation(call) {
  const key = nextKey++;
  const op = HcsCreateOperation(BigInt(key), callback);
  const done = new Promise((resolve) => waiting.set(key, resolve));
  call(op);
  return done;
}

export function closeAsync(fn, handle) {
  return new Promise((resolve) => fn.async(handle, () => resolve()));
}

export function stopBare() {
  clearInterval(keepAlive);
}
