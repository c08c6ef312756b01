import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAY_HOST } from './relay.js';

/**
 * The `.rdp` file that points mstsc at the relay. The settings are the ones
 * the peers found the VM worker's console needs:
 * - it speaks standard RDP security only, so CredSSP must be off
 *   (`enablecredsspsupport:i:0`) "or mstsc is refused and quits", and the
 *   server cannot be authenticated (`authentication level:i:0`, connect
 *   without warning), with `negotiate security layer:i:1`
 *   (discobox-ai/vm pkg/machine/hcs/console_windows.go `openViewer`);
 *   NanaBox sets the same three on its RDP client: `AuthenticationLevel(0)`,
 *   `EnableCredSspSupport(false)`, `NegotiateSecurityLayer(true)`
 *   (M2Team/NanaBox NanaBox/MainWindow.cpp `RdpClientInitialize`);
 * - the console needs no Windows credentials (it shows the VM from power-on),
 *   so nothing prompts for them (`prompt for credentials:i:0`, NanaBox's
 *   `AllowPromptingForCredentials(false)`);
 * - "the session lives as long as the VM, so there is nothing to reconnect to
 *   after it" (`autoreconnection enabled:i:0`; NanaBox `EnableAutoReconnect(false)`);
 * - a window that scales the VM's fixed resolution (`smart sizing:i:1`).
 * Lines end with CRLF and the file has no BOM, as disco-vm writes it.
 */
export function rdpFileText(port: number): string {
  return `${[
    `full address:s:${RELAY_HOST}:${port}`,
    'screen mode id:i:1',
    'smart sizing:i:1',
    'enablecredsspsupport:i:0',
    'authentication level:i:0',
    'negotiate security layer:i:1',
    'prompt for credentials:i:0',
    'autoreconnection enabled:i:0',
  ].join('\r\n')}\r\n`;
}

/** mstsc titles its window after the file: keep the title readable and the name a plain file name. */
export function rdpFileName(title: string): string {
  const safe = title
    .replace(/[^A-Za-z0-9 ._-]/g, '_')
    .replace(/^[. ]+|[. ]+$/g, '')
    .slice(0, 80);
  return `${safe || 'sandbox'}.rdp`;
}

export interface RdpFile {
  /** The file to open with mstsc. */
  path: string;
  /** Removes the file and its folder; idempotent, never throws. */
  remove(): Promise<void>;
}

/**
 * Writes the `.rdp` file into a new folder of its own under the user's temp
 * folder (private to the user on Windows; mode 0700 elsewhere), readable by its
 * owner only.
 */
export async function writeRdpFile(port: number, title: string): Promise<RdpFile> {
  const dir = await mkdtemp(join(tmpdir(), 'hcs-sandbox-view-'));
  const remove = () => rm(dir, { recursive: true, force: true }).catch(() => undefined);
  const path = join(dir, rdpFileName(title));
  try {
    await writeFile(path, rdpFileText(port), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, remove };
}
