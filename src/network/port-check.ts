import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { PortConflictError } from './errors.js';
import { formatPortMapping, mappingsConflict, type PortMapping } from './ports.js';

/** Whether a host socket can be bound right now (it is closed again at once). */
export type PortProbe = (mapping: PortMapping) => Promise<boolean>;

/** Binds the port on the host: `net` for tcp, `dgram` for udp, on the mapping's address or 0.0.0.0. */
export const probeHostPort: PortProbe = (m) =>
  new Promise<boolean>((resolve) => {
    const host = m.hostAddress ?? '0.0.0.0';
    if (m.protocol === 'tcp') {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen({ port: m.hostPort, host, exclusive: true }, () => server.close(() => resolve(true)));
    } else {
      const socket = createSocket({ type: 'udp4', reuseAddr: false });
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind({ port: m.hostPort, address: host, exclusive: true }, () =>
        socket.close(() => resolve(true)),
      );
    }
  });

/**
 * Refuses mappings that cannot work, before anything is created: two in the
 * same request, one already published by another of our sandboxes, or a host
 * port some program already listens on.
 */
export async function checkPortsAvailable(
  wanted: readonly PortMapping[],
  published: readonly { mapping: PortMapping; by: string }[],
  probe: PortProbe = probeHostPort,
): Promise<void> {
  wanted.forEach((m, i) => {
    const twin = wanted.slice(0, i).find((o) => mappingsConflict(o, m));
    if (twin)
      throw new PortConflictError(
        m.hostPort,
        m.protocol,
        `requested twice: ${formatPortMapping(twin)} and ${formatPortMapping(m)}`,
      );
    const ours = published.find((p) => mappingsConflict(p.mapping, m));
    if (ours) throw new PortConflictError(m.hostPort, m.protocol, `published by ${ours.by}`);
  });
  for (const m of wanted) {
    if (!(await probe(m)))
      throw new PortConflictError(m.hostPort, m.protocol, 'another program is listening on it');
  }
}
