/**
 * `hcs-sandbox serve`: the authenticated HTTP API over the Sandbox API
 * (docs/remote.md). The CLI loads this entry only for `serve`.
 */
export {
  addNewToken,
  checkTokenFile,
  loadTokenFile,
  sha256Hex,
  type TokenEntry,
  type TokenFile,
  type TokenQuotas,
} from './auth.js';
export type { ImageCatalog, ServeBackend } from './backend.js';
export {
  BodyTooLargeError,
  InsecureListenError,
  MalformedBodyError,
  MethodNotAllowedError,
  OutputTooLargeError,
  QuotaExceededError,
  RequestTimeoutError,
  RouteNotFoundError,
  UnauthorizedError,
} from './errors.js';
export { checkListenSecurity, type ListenAddress, parseListen } from './listen.js';
export { localBackend } from './local-backend.js';
export { LOCAL_TOKEN_NAME, type LocalToken, localToken, writeOwnerOnly } from './local-token.js';
export { openApiDocument } from './openapi.js';
export { type ApiServer, type ApiServerOptions, startApiServer } from './server.js';
