import { createHash } from 'node:crypto';

/**
 * The GUID HCS knows a layer folder by (`Layer.Id` in `Container.Storage.Layers`
 * and `LayerData.Layers`).
 *
 * hcsshim derives it with `wclayer.LayerID(path)` = `NameToGuid(basename(path))`,
 * which calls the undocumented `vmcompute.dll!NameToGuid`; its algorithm is not
 * public. Until it is confirmed on Windows, this computes a name-based UUID
 * (RFC 4122 version 5, SHA-1) of the folder's basename in a fixed namespace:
 * deterministic and the same for every caller of hcs-sandbox, but NOT known to
 * equal `NameToGuid`. HCS-NOTES §6.1 records that HCS is not known to check the
 * id against the folder; anything that must match ids Docker or containerd
 * passed to HCS should call `NameToGuid` itself (inject it as `layerId`).
 */
export function layerIdFromFolderName(name: string): string {
  return uuidV5(LAYER_ID_NAMESPACE, name);
}

/** `layerIdFromFolderName` of the last path component (either separator). */
export function defaultLayerId(path: string): string {
  return layerIdFromFolderName(baseName(path));
}

/** The namespace of `layerIdFromFolderName`: uuidV5(URL namespace, "urn:hcs-sandbox:layer"). */
export const LAYER_ID_NAMESPACE = '796fd9b1-fbc7-5aa4-a6af-88fd04ec2e3e';

/** Last component of a Windows or POSIX path, trailing separators ignored. */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const i = Math.max(trimmed.lastIndexOf('\\'), trimmed.lastIndexOf('/'));
  return trimmed.slice(i + 1);
}

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1), name encoded as UTF-8. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new TypeError(`uuidV5: namespace ${JSON.stringify(namespace)} is not a UUID`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
