import { isIP } from 'node:net';
import { InvalidArgumentError } from '../../internal/errors.js';
import { InsecureListenError } from './errors.js';

export interface ListenAddress {
  host: string;
  port: number;
  /** Only this machine can connect (127.0.0.0/8, ::1, localhost). */
  loopback: boolean;
}

/** `host:port`, `[v6]:port` or `:port` (loopback). */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  const host = m?.[1] ?? (m?.[2] || '127.0.0.1');
  if (!m || port > 65535 || (m[1] !== undefined && isIP(host) !== 6))
    throw new InvalidArgumentError('listen', 'host:port (127.0.0.1:7400, [::1]:7400, 0.0.0.0:7400)', text);
  const loopback = host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
  return { host, port, loopback };
}

/**
 * Refuses an address others can reach unless requests are both encrypted
 * (TLS) and authenticated by tokens someone chose (a token file): a bearer
 * token sent in clear on a network is a token given away.
 *
 * @throws InsecureListenError naming what to add
 */
export function checkListenSecurity(
  text: string,
  address: ListenAddress,
  given: { tls: boolean; tokenFile: boolean },
): void {
  if (address.loopback) return;
  const missing = [
    ...(given.tls ? [] : ['--tls-cert/--tls-key']),
    ...(given.tokenFile ? [] : ['--token-file']),
  ];
  if (missing.length > 0) throw new InsecureListenError(text, missing);
}
