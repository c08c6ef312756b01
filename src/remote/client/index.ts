/**
 * hcs-sandbox/remote: the client of a remote `hcs-sandbox serve` (wire API v1,
 * docs/remote.md). It imports no layer that loads koffi or a Windows DLL, so
 * it runs on Linux and macOS; `Sandbox.connect()` from the root entry returns
 * the same `RemoteHost`.
 */
export {
  errorFromServer,
  RemoteAuthError,
  RemoteConflictError,
  RemoteError,
  RemoteInvalidRequestError,
  RemoteInvalidStateError,
  RemoteNotFoundError,
  RemoteProtocolError,
  RemoteQuotaError,
  RemoteUnavailableError,
  RemoteUnreachableError,
  RemoteUnsupportedError,
} from './errors.js';
export { RemoteFiles } from './remote-files.js';
export {
  connectRemote,
  type RemoteHealth,
  RemoteHost,
  type RemoteImage,
  type RemotePullProgress,
  type RemoteSandboxOptions,
} from './remote-host.js';
export { RemoteSandbox } from './remote-sandbox.js';
export type { ConnectOptions } from './transport.js';
