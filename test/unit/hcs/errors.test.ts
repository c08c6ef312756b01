import { describe, expect, it } from 'vitest';
import {
  HandleClosedError,
  HcsError,
  HR,
  HRESULTS,
  hresultHex,
  hresultMeaning,
  hresultName,
} from '../../../src/hcs/index.js';
import { HcsSandboxError } from '../../../src/internal/errors.js';

const error = (hresult: number, extra: Partial<ConstructorParameters<typeof HcsError>[0]> = {}) =>
  new HcsError({ hresult, operation: 'HcsTest', ...extra });

type Predicate =
  | 'isNotFound'
  | 'isAlreadyExists'
  | 'isInvalidState'
  | 'isAlreadyStopped'
  | 'isTimeout'
  | 'isCanceled'
  | 'isServiceDisconnected'
  | 'isAccessDenied'
  | 'isNotSupported';

const PREDICATES: Predicate[] = [
  'isNotFound',
  'isAlreadyExists',
  'isInvalidState',
  'isAlreadyStopped',
  'isTimeout',
  'isCanceled',
  'isServiceDisconnected',
  'isAccessDenied',
  'isNotSupported',
];

/** HRESULT → every predicate that must hold for it (all others must not). */
const CASES: Array<[number, Predicate[]]> = [
  [0x8037010e, ['isNotFound']],
  [0xc037010e, ['isNotFound']],
  [0x80070490, ['isNotFound', 'isAlreadyStopped']],
  [0x8037010f, ['isAlreadyExists']],
  [0xc037010f, ['isAlreadyExists']],
  [0x80370105, ['isInvalidState']],
  [0xc0370105, ['isInvalidState']],
  [0x80370110, ['isAlreadyStopped']],
  [0xc0370110, ['isAlreadyStopped']],
  [0x8037011f, ['isAlreadyStopped']],
  [0x80370118, ['isTimeout']],
  [0x80370109, ['isTimeout']],
  [0xc0370109, ['isTimeout']],
  [0x800705b4, ['isTimeout']],
  [0x800704c7, ['isCanceled']],
  [0x80370121, ['isCanceled']],
  [0x80004004, ['isCanceled']],
  [0x8037011e, ['isServiceDisconnected']],
  [0x80070005, ['isAccessDenied']],
  [0x8037011b, ['isAccessDenied']],
  [0x8037010d, ['isNotSupported']],
  [0xc037010d, ['isNotSupported']],
  [0x8037010b, ['isNotSupported']],
  [0xc037010b, ['isNotSupported']],
  [0x8007000d, ['isNotSupported']],
  [0x80070032, ['isNotSupported']],
  [0x80004001, ['isNotSupported']],
  [0x80004005, []],
  [0x80370100, []],
];

describe('HcsError predicates', () => {
  it.each(CASES)('0x%s', (hresult, expected) => {
    // Signed (as the DLL returns it) and unsigned inputs classify the same.
    for (const input of [hresult, hresult | 0]) {
      const e = error(input);
      expect(e.hresult).toBe(hresult >>> 0);
      for (const predicate of PREDICATES)
        expect(e[predicate](), `${hresultHex(hresult)} ${predicate}`).toBe(expected.includes(predicate));
    }
  });

  it('isTimeout and isCanceled also follow the flags set by hcs-sandbox', () => {
    expect(error(0x80004005, { timedOut: true }).isTimeout()).toBe(true);
    expect(error(0x80004005, { canceled: true }).isCanceled()).toBe(true);
    expect(error(0x80004005).isTimeout()).toBe(false);
  });
});

describe('HcsError', () => {
  it('carries hresult, hex, name, operation, ids, cause and a readable message', () => {
    const cause = new Error('root');
    const e = new HcsError({
      hresult: 0x8037010e | 0,
      operation: 'HcsOpenProcess',
      systemId: 'box',
      processId: 42,
      cause,
    });
    expect(e).toBeInstanceOf(HcsSandboxError);
    expect(e.name).toBe('HcsError');
    expect(e.code).toBe('HCS_ERROR');
    expect(e.hresult).toBe(0x8037010e);
    expect(e.hresultHex).toBe('0x8037010E');
    expect(e.hresultName).toBe('HCS_E_SYSTEM_NOT_FOUND');
    expect(e.operation).toBe('HcsOpenProcess');
    expect(e.systemId).toBe('box');
    expect(e.processId).toBe(42);
    expect(e.cause).toBe(cause);
    expect(e.timedOut).toBe(false);
    expect(e.canceled).toBe(false);
    expect(e.message).toBe(
      'HcsOpenProcess failed for system "box", process 42: no compute system has that id (HCS_E_SYSTEM_NOT_FOUND, 0x8037010E)',
    );
  });

  it('names unknown codes', () => {
    expect(error(0x80071234).message).toBe(
      'HcsTest failed: unknown error (HRESULT_FROM_WIN32(4660), 0x80071234)',
    );
    expect(error(0x87654321).hresultName).toBe('UNKNOWN_HRESULT');
  });

  it('says timed out / canceled in the message head', () => {
    expect(error(HR.HCS_E_OPERATION_TIMEOUT, { timedOut: true }).message).toMatch(/^HcsTest timed out: /);
    expect(error(HR.ERROR_CANCELLED, { canceled: true }).message).toMatch(/^HcsTest was canceled: /);
  });

  it('parses the ResultError document; ignores one that is not an object', () => {
    const doc = {
      Error: -1070137075,
      ErrorMessage: 'The JSON document is invalid.',
      ErrorEvents: [{ Message: 'field Foo unknown', EventId: 11010, Provider: 'p' }],
    };
    const e = error(0xc037010d, { document: JSON.stringify(doc) });
    expect(e.resultError).toEqual(doc);
    expect(e.message).toBe(
      'HcsTest failed: The JSON document is invalid. (ERROR_VMCOMPUTE_INVALID_JSON, 0xC037010D). field Foo unknown',
    );
    for (const document of ['[1,2]', '"text"', 'null', '{broken', '', null]) {
      const plain = error(0xc037010d, { document });
      expect(plain.resultError).toBeUndefined();
      expect(plain.message).toBe(
        'HcsTest failed: the JSON document is invalid (ERROR_VMCOMPUTE_INVALID_JSON, 0xC037010D)',
      );
    }
  });
});

describe('HandleClosedError', () => {
  it('is a typed error with a code', () => {
    const e = new HandleClosedError('Process 7');
    expect(e).toBeInstanceOf(HcsSandboxError);
    expect(e.name).toBe('HandleClosedError');
    expect(e.code).toBe('HANDLE_CLOSED');
    expect(e.message).toBe('Process 7 has been closed; open it again to use it.');
  });
});

describe('hresults table', () => {
  it('formats and names', () => {
    expect(hresultHex(-2143878907)).toBe('0x80370105');
    expect(hresultHex(5)).toBe('0x00000005');
    expect(hresultName(-2143878907)).toBe('HCS_E_INVALID_STATE');
    expect(hresultMeaning(0x80370105)).toBe('the operation is not valid in the current state');
    expect(hresultMeaning(0x12345678)).toBeUndefined();
  });

  it('has both forms of the HCS codes that hcsshim treats as equivalent', () => {
    for (const suffix of [0x105, 0x10d, 0x10e, 0x10f, 0x110])
      for (const base of [0x80370000, 0xc0370000]) expect(HRESULTS.has(base + suffix)).toBe(true);
  });
});
