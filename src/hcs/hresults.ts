/**
 * Every HCS_E_* code from Microsoft's "HCS HRESULT" reference page, the
 * ERROR_VMCOMPUTE_* forms, and the Win32/COM codes that hcsshim special-cases,
 * with their names and meanings. Values are unsigned 32-bit here; HRESULTs from
 * the DLL are signed and must go through {@link toUnsigned} first.
 */
export interface HResultInfo {
  readonly name: string;
  readonly meaning: string;
}

export const HRESULTS: ReadonlyMap<number, HResultInfo> = new Map<number, HResultInfo>([
  [
    0x80370100,
    { name: 'HCS_E_TERMINATED_DURING_START', meaning: 'the system exited unexpectedly while starting' },
  ],
  [
    0x80370101,
    { name: 'HCS_E_IMAGE_MISMATCH', meaning: 'the container image does not match the host Windows build' },
  ],
  [0x80370102, { name: 'HCS_E_HYPERV_NOT_INSTALLED', meaning: 'Hyper-V is not installed or not enabled' }],
  [0x80370105, { name: 'HCS_E_INVALID_STATE', meaning: 'the operation is not valid in the current state' }],
  [0x80370106, { name: 'HCS_E_UNEXPECTED_EXIT', meaning: 'the system exited unexpectedly' }],
  [0x80370107, { name: 'HCS_E_TERMINATED', meaning: 'the system was forcefully terminated' }],
  [0x80370108, { name: 'HCS_E_CONNECT_FAILED', meaning: 'could not connect to the guest' }],
  [0x80370109, { name: 'HCS_E_CONNECTION_TIMEOUT', meaning: 'the guest did not answer in time' }],
  [0x8037010a, { name: 'HCS_E_CONNECTION_CLOSED', meaning: 'the connection to the guest was closed' }],
  [
    0x8037010b,
    { name: 'HCS_E_UNKNOWN_MESSAGE', meaning: 'a message was not understood by the host or guest' },
  ],
  [
    0x8037010c,
    { name: 'HCS_E_UNSUPPORTED_PROTOCOL_VERSION', meaning: 'host and guest share no protocol version' },
  ],
  [
    0x8037010d,
    {
      name: 'HCS_E_INVALID_JSON',
      meaning: 'the JSON document is invalid or uses a field this build does not know',
    },
  ],
  [0x8037010e, { name: 'HCS_E_SYSTEM_NOT_FOUND', meaning: 'no compute system has that id' }],
  [
    0x8037010f,
    { name: 'HCS_E_SYSTEM_ALREADY_EXISTS', meaning: 'a compute system with that id already exists' },
  ],
  [0x80370110, { name: 'HCS_E_SYSTEM_ALREADY_STOPPED', meaning: 'the compute system is not running' }],
  [0x80370111, { name: 'HCS_E_PROTOCOL_ERROR', meaning: 'protocol error between host and guest' }],
  [0x80370112, { name: 'HCS_E_INVALID_LAYER', meaning: 'an image layer has an unrecognised format' }],
  [
    0x80370113,
    { name: 'HCS_E_WINDOWS_INSIDER_REQUIRED', meaning: 'the image needs a Windows Insider build' },
  ],
  [
    0x80370114,
    { name: 'HCS_E_SERVICE_NOT_AVAILABLE', meaning: 'a required feature or service is not installed' },
  ],
  [0x80370115, { name: 'HCS_E_OPERATION_NOT_STARTED', meaning: 'the operation has not been started' }],
  [0x80370116, { name: 'HCS_E_OPERATION_ALREADY_STARTED', meaning: 'the operation is already in use' }],
  [0x80370117, { name: 'HCS_E_OPERATION_PENDING', meaning: 'the operation is still running' }],
  [0x80370118, { name: 'HCS_E_OPERATION_TIMEOUT', meaning: 'the operation did not complete in time' }],
  [
    0x80370119,
    {
      name: 'HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET',
      meaning: 'an event callback with operation callbacks is already set on the handle',
    },
  ],
  [
    0x8037011a,
    { name: 'HCS_E_OPERATION_RESULT_ALLOCATION_FAILED', meaning: 'not enough memory to return the result' },
  ],
  [
    0x8037011b,
    {
      name: 'HCS_E_ACCESS_DENIED',
      meaning: 'access denied: run elevated or as a member of Hyper-V Administrators',
    },
  ],
  [0x8037011c, { name: 'HCS_E_GUEST_CRITICAL_ERROR', meaning: 'the guest reported a critical error' }],
  [0x8037011d, { name: 'HCS_E_PROCESS_INFO_NOT_AVAILABLE', meaning: 'process information is not available' }],
  [
    0x8037011e,
    { name: 'HCS_E_SERVICE_DISCONNECT', meaning: 'the Host Compute Service disconnected unexpectedly' },
  ],
  [0x8037011f, { name: 'HCS_E_PROCESS_ALREADY_STOPPED', meaning: 'the process has already exited' }],
  [
    0x80370120,
    {
      name: 'HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION',
      meaning: 'the system is not configured for this operation',
    },
  ],
  [0x80370121, { name: 'HCS_E_OPERATION_ALREADY_CANCELLED', meaning: 'the operation was already cancelled' }],
  [
    0xc0370100,
    {
      name: 'ERROR_VMCOMPUTE_TERMINATED_DURING_START',
      meaning: 'the system exited unexpectedly while starting',
    },
  ],
  [
    0xc0370101,
    {
      name: 'ERROR_VMCOMPUTE_IMAGE_MISMATCH',
      meaning: 'the container image does not match the host Windows build',
    },
  ],
  [
    0xc0370102,
    { name: 'ERROR_VMCOMPUTE_HYPERV_NOT_INSTALLED', meaning: 'Hyper-V is not installed or not enabled' },
  ],
  [0xc0370103, { name: 'ERROR_VMCOMPUTE_OPERATION_PENDING', meaning: 'the operation is still pending' }],
  [
    0xc0370104,
    { name: 'ERROR_VMCOMPUTE_TOO_MANY_NOTIFICATIONS', meaning: 'too many notifications are registered' },
  ],
  [
    0xc0370105,
    { name: 'ERROR_VMCOMPUTE_INVALID_STATE', meaning: 'the operation is not valid in the current state' },
  ],
  [0xc0370106, { name: 'ERROR_VMCOMPUTE_UNEXPECTED_EXIT', meaning: 'the system exited unexpectedly' }],
  [0xc0370107, { name: 'ERROR_VMCOMPUTE_TERMINATED', meaning: 'the system was forcefully terminated' }],
  [0xc0370108, { name: 'ERROR_VMCOMPUTE_CONNECT_FAILED', meaning: 'could not connect to the guest' }],
  [0xc0370109, { name: 'ERROR_VMCOMPUTE_TIMEOUT', meaning: 'the operation timed out' }],
  [
    0xc037010a,
    { name: 'ERROR_VMCOMPUTE_CONNECTION_CLOSED', meaning: 'the connection to the guest was closed' },
  ],
  [0xc037010b, { name: 'ERROR_VMCOMPUTE_UNKNOWN_MESSAGE', meaning: 'a message was not understood' }],
  [
    0xc037010c,
    {
      name: 'ERROR_VMCOMPUTE_UNSUPPORTED_PROTOCOL_VERSION',
      meaning: 'no common protocol version with the guest',
    },
  ],
  [0xc037010d, { name: 'ERROR_VMCOMPUTE_INVALID_JSON', meaning: 'the JSON document is invalid' }],
  [0xc037010e, { name: 'ERROR_VMCOMPUTE_SYSTEM_NOT_FOUND', meaning: 'no compute system has that id' }],
  [
    0xc037010f,
    {
      name: 'ERROR_VMCOMPUTE_SYSTEM_ALREADY_EXISTS',
      meaning: 'a compute system with that id already exists',
    },
  ],
  [
    0xc0370110,
    { name: 'ERROR_VMCOMPUTE_SYSTEM_ALREADY_STOPPED', meaning: 'the compute system is not running' },
  ],
  [0xc0370111, { name: 'ERROR_VMCOMPUTE_PROTOCOL_ERROR', meaning: 'protocol error between host and guest' }],
  [
    0xc0370112,
    { name: 'ERROR_VMCOMPUTE_INVALID_LAYER', meaning: 'an image layer has an unrecognised format' },
  ],
  [
    0xc0370113,
    { name: 'ERROR_VMCOMPUTE_WINDOWS_INSIDER_REQUIRED', meaning: 'the image needs a Windows Insider build' },
  ],
  [0x80070002, { name: 'ERROR_FILE_NOT_FOUND', meaning: 'a file (disk, layer or state file) was not found' }],
  [0x80070005, { name: 'E_ACCESSDENIED', meaning: 'access denied' }],
  [0x80070006, { name: 'E_HANDLE', meaning: 'the handle is invalid (closed, or the system is stopping)' }],
  [0x8007000d, { name: 'ERROR_INVALID_DATA', meaning: 'the data is invalid' }],
  [0x8007000e, { name: 'E_OUTOFMEMORY', meaning: 'out of memory' }],
  [0x80070015, { name: 'ERROR_NOT_READY', meaning: 'the device is not ready' }],
  [0x80070020, { name: 'ERROR_SHARING_VIOLATION', meaning: 'the file is in use by another process' }],
  [0x80070032, { name: 'ERROR_NOT_SUPPORTED', meaning: 'the request is not supported' }],
  [0x80070057, { name: 'E_INVALIDARG', meaning: 'an argument is invalid' }],
  [0x8007007f, { name: 'ERROR_PROC_NOT_FOUND', meaning: 'the process or procedure was not found' }],
  [0x8007048f, { name: 'ERROR_DEVICE_NOT_CONNECTED', meaning: 'the device is not connected' }],
  [0x80070003, { name: 'ERROR_PATH_NOT_FOUND', meaning: 'a folder (layer, scratch or share) was not found' }],
  [0x80070091, { name: 'ERROR_DIR_NOT_EMPTY', meaning: 'the folder is not empty' }],
  [0x800700b7, { name: 'ERROR_ALREADY_EXISTS', meaning: 'the file or folder already exists' }],
  [0x80070490, { name: 'ERROR_NOT_FOUND', meaning: 'the element (often a process) was not found' }],
  [0x800704c7, { name: 'ERROR_CANCELLED', meaning: 'the operation was cancelled' }],
  [0x800705aa, { name: 'ERROR_NO_SYSTEM_RESOURCES', meaning: 'insufficient system resources' }],
  [0x800705b4, { name: 'ERROR_TIMEOUT', meaning: 'the operation timed out' }],
  [0x80004001, { name: 'E_NOTIMPL', meaning: 'not implemented' }],
  [0x80004004, { name: 'E_ABORT', meaning: 'the operation was aborted' }],
  [0x80004005, { name: 'E_FAIL', meaning: 'unspecified failure' }],
  [0x800401f6, { name: 'CO_E_APPSINGLEUSE', meaning: 'the application allows a single instance only' }],
]);

export const HR = {
  S_OK: 0,
  E_NOTIMPL: 0x80004001,
  E_ABORT: 0x80004004,
  E_INVALIDARG: 0x80070057,
  E_OUTOFMEMORY: 0x8007000e,
  E_ACCESSDENIED: 0x80070005,
  E_HANDLE: 0x80070006,
  ERROR_NOT_FOUND: 0x80070490,
  ERROR_CANCELLED: 0x800704c7,
  ERROR_TIMEOUT: 0x800705b4,
  HCS_E_INVALID_STATE: 0x80370105,
  HCS_E_SYSTEM_NOT_FOUND: 0x8037010e,
  HCS_E_SYSTEM_ALREADY_EXISTS: 0x8037010f,
  HCS_E_SYSTEM_ALREADY_STOPPED: 0x80370110,
  HCS_E_OPERATION_NOT_STARTED: 0x80370115,
  HCS_E_OPERATION_PENDING: 0x80370117,
  HCS_E_OPERATION_TIMEOUT: 0x80370118,
  HCS_E_ACCESS_DENIED: 0x8037011b,
  HCS_E_SERVICE_DISCONNECT: 0x8037011e,
  HCS_E_PROCESS_ALREADY_STOPPED: 0x8037011f,
  HCS_E_OPERATION_ALREADY_CANCELLED: 0x80370121,
} as const;

/** HRESULTs arrive as signed int32; compare them unsigned. */
export function toUnsigned(hr: number): number {
  return hr >>> 0;
}

export function isFailure(hr: number): boolean {
  return (hr | 0) < 0;
}

/** `0x8037010E`, the form people search for. */
export function hresultHex(hr: number): string {
  return `0x${toUnsigned(hr).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** The symbolic name, or the Win32 code for an unknown HRESULT_FROM_WIN32 value. */
export function hresultName(hr: number): string {
  const u = toUnsigned(hr);
  const known = HRESULTS.get(u);
  if (known) return known.name;
  if ((u & 0xffff0000) >>> 0 === 0x80070000) return `HRESULT_FROM_WIN32(${u & 0xffff})`;
  return 'UNKNOWN_HRESULT';
}

export function hresultMeaning(hr: number): string | undefined {
  return HRESULTS.get(toUnsigned(hr))?.meaning;
}
