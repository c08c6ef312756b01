import { performance } from 'node:perf_hooks';
import {
  ComputeSystem,
  enumerateComputeSystems,
  HcsError,
  hresultName,
  isFunctionAvailable,
  runOperation,
  serviceProperties,
} from '../../hcs/index.js';
import { hostFacts } from '../../native/index.js';
import { fail, type ProbeItem, pass } from '../types.js';

/** Functions bound lazily because older builds lack them (docs/windows-verification.md row 10). */
const OPTIONAL_FUNCTIONS = [
  'HcsCrashComputeSystem',
  'HcsWaitForComputeSystemExit',
  'HcsWaitForProcessExit',
  'HcsEnumerateComputeSystemsInNamespace',
  'HcsCreateComputeSystemInNamespace',
  'HcsOpenComputeSystemInNamespace',
  'HcsGrantVmGroupAccess',
  'HcsRevokeVmGroupAccess',
  'HcsGetProcessorCompatibilityFromSavedState',
];

const REPEATS = 300;
/** Working-set growth tolerated over the loop: allocator and JIT noise, far below a leak of every result. */
const RSS_SLACK_BYTES = 16 * 2 ** 20;
const HANDLE_SLACK = 32;

export const hcsItems: ProbeItem[] = [
  {
    id: 'hcs.service',
    title: 'computecore.dll answers: service properties, enumeration, optional exports',
    rows: ['1', '10'],
    async run() {
      const props = await serviceProperties();
      const systems = await enumerateComputeSystems();
      const exports = Object.fromEntries(OPTIONAL_FUNCTIONS.map((n) => [n, isFunctionAvailable(n)]));
      return pass(`${systems.length} compute system(s) listed`, {
        schemaVersions: props.supportedSchemaVersions,
        systems: systems.length,
        optionalExports: exports,
      });
    },
  },
  {
    id: 'hcs.errors',
    title: 'an unknown id and an invalid document fail with the documented HRESULTs',
    rows: ['11'],
    async run() {
      const found: Record<string, string> = {};
      const id = `hcs-sandbox-probe-missing-${process.pid}`;
      try {
        await (await ComputeSystem.open(id)).close();
        return fail(`opening ${id} succeeded`);
      } catch (error) {
        if (!(error instanceof HcsError)) throw error;
        found.unknownId = hresultName(error.hresult);
      }
      try {
        const system = await ComputeSystem.create(`${id}-doc`, { SchemaVersion: { Major: 2, Minor: 1 } });
        await system.terminate().catch(() => undefined);
        await system.close();
        return fail('a document with no Container or VirtualMachine was accepted', found);
      } catch (error) {
        if (!(error instanceof HcsError)) throw error;
        found.invalidDocument = hresultName(error.hresult);
        found.invalidDocumentHasResultError = String(error.resultError !== undefined);
      }
      const ok = /SYSTEM_NOT_FOUND/.test(found.unknownId ?? '');
      return ok
        ? pass('typed HcsError for both', found)
        : fail('unexpected HRESULT for an unknown id', found);
    },
  },
  {
    id: 'hcs.result-strings-freed',
    title: `result documents freed with LocalFree: ${REPEATS}x enumerate + properties, memory and handles flat`,
    rows: ['2'],
    timeoutMs: 300_000,
    async run(ctx) {
      const round = async () => {
        await enumerateComputeSystems(null, { signal: ctx.signal });
        await serviceProperties({ signal: ctx.signal });
      };
      for (let i = 0; i < 20; i++) await round(); // warm up: JIT, lazy bindings, HCS's own caches
      const before = { rss: process.memoryUsage().rss, handles: hostFacts().processHandleCount() };
      const started = performance.now();
      for (let i = 0; i < REPEATS; i++) await round();
      const ms = performance.now() - started;
      const after = { rss: process.memoryUsage().rss, handles: hostFacts().processHandleCount() };
      const rssGrowth = after.rss - before.rss;
      const handleGrowth =
        before.handles === null || after.handles === null ? null : after.handles - before.handles;
      const details = {
        iterations: REPEATS,
        callsPerIteration: 2,
        workingSetBefore: before.rss,
        workingSetAfter: after.rss,
        workingSetGrowthBytes: rssGrowth,
        handlesBefore: before.handles,
        handlesAfter: after.handles,
        handleGrowth,
        meanIterationMs: Math.round((ms / REPEATS) * 100) / 100,
      };
      if (rssGrowth > RSS_SLACK_BYTES) return fail(`working set grew ${rssGrowth} bytes`, details);
      if (handleGrowth !== null && handleGrowth > HANDLE_SLACK)
        return fail(`${handleGrowth} handles leaked`, details);
      return pass('working set and handle count stayed flat', details);
    },
  },
  {
    id: 'hcs.cancel',
    title: 'HcsCancelOperation on a pending operation: works, or says not implemented',
    rows: ['3', '4'],
    async run() {
      let cancelHr: number | undefined;
      let completion: string;
      const started = performance.now();
      try {
        await runOperation({
          name: 'HcsEnumerateComputeSystems',
          timeout: 'QUERY',
          call: (api, op) => {
            const hr = api.enumerateComputeSystems(null, op);
            // The operation is pending now: HCS completes it on its own threads.
            cancelHr = api.cancelOperation(op);
            return hr;
          },
        });
        completion = 'S_OK (completed before the cancel took effect)';
      } catch (error) {
        if (!(error instanceof HcsError)) throw error;
        completion = hresultName(error.hresult);
      }
      // runOperation closed the operation (HcsCloseOperation off the main thread): reaching here shows it returned.
      const details = {
        cancelHresult: cancelHr === undefined ? null : cancelHr === 0 ? 'S_OK' : hresultName(cancelHr),
        cancelHresultValue: cancelHr,
        completion,
        closedAfterMs: Math.round(performance.now() - started),
      };
      const name = details.cancelHresult ?? '';
      if (
        ['S_OK', 'E_NOTIMPL', 'HCS_E_OPERATION_ALREADY_CANCELLED'].includes(name) ||
        (cancelHr ?? -1) >= 0
      ) {
        return pass(
          `cancel returned ${name}; the operation completed with ${completion} and closed`,
          details,
        );
      }
      return fail(`cancel returned ${name}`, details);
    },
  },
  {
    id: 'hcs.callbacks',
    title: 'completion callbacks arrive from HCS threads while the JS thread waits without blocking',
    rows: ['5'],
    async run() {
      const count = 64;
      // Each call submits synchronously (the HCS function returns once the
      // operation is accepted); the wait for completions is what must leave the
      // JS thread free. A 5 ms ticker started after the submissions shows it: a
      // blocking wait would show as a late tick.
      const started = performance.now();
      const pending = Array.from({ length: count }, async () => {
        const t = performance.now();
        await enumerateComputeSystems();
        return Math.round(performance.now() - t);
      });
      const submitMs = Math.round(performance.now() - started);
      const tickMs = 5;
      let ticks = 0;
      let maxLateMs = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        maxLateMs = Math.max(maxLateMs, now - last - tickMs);
        last = now;
        ticks++;
      }, tickMs);
      let latencies: number[];
      try {
        latencies = await Promise.all(pending);
      } finally {
        clearInterval(ticker);
      }
      const lateMs = Math.round(maxLateMs);
      return pass(
        `${count} concurrent completions arrived; a ${tickMs} ms timer ticked ${ticks} times while they were awaited (max ${lateMs} ms late)`,
        {
          operations: count,
          submitMs,
          totalMs: Math.round(performance.now() - started),
          latencyMsMax: Math.max(...latencies),
          latencyMsMin: Math.min(...latencies),
          timerTicks: ticks,
          timerMaxLatenessMs: lateMs,
          nativeThreadIds:
            'not recorded: koffi relays a foreign-thread callback to the JS thread, so its HCS thread id is not visible from JavaScript',
        },
      );
    },
  },
];
