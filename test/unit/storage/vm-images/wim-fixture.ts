/**
 * Handmade WIM files: a 208-byte header (wimlib include/wimlib/header.h,
 * struct wim_header_disk) followed by the XML data resource (UTF-16LE with a
 * BOM), uncompressed, as WIMGAPI and wimlib store it.
 */
export interface FixtureImage {
  name: string;
  displayName?: string;
  edition?: string;
  build?: number;
  arch?: number;
  totalBytes?: number;
}

export function wimXml(images: FixtureImage[]): string {
  const body = images
    .map(
      (image, i) =>
        `<IMAGE INDEX="${i + 1}"><TOTALBYTES>${image.totalBytes ?? 1000}</TOTALBYTES>` +
        `<WINDOWS><ARCH>${image.arch ?? 9}</ARCH>${image.edition ? `<EDITIONID>${image.edition}</EDITIONID>` : ''}` +
        `<VERSION><MAJOR>10</MAJOR><MINOR>0</MINOR>${image.build ? `<BUILD>${image.build}</BUILD>` : ''}<SPBUILD>1</SPBUILD></VERSION></WINDOWS>` +
        `<NAME>${image.name}</NAME>${image.displayName ? `<DISPLAYNAME>${image.displayName}</DISPLAYNAME>` : ''}</IMAGE>`,
    )
    .join('');
  return `<WIM><TOTALBYTES>1</TOTALBYTES>${body}</WIM>`;
}

export interface WimFixtureOptions {
  imageCount?: number;
  magic?: string;
  headerSize?: number;
  flags?: number;
  /** Overrides the XML resource's stored size / offset. */
  xmlSize?: number;
  xmlOffset?: number;
  /** Raw XML text instead of the images'. */
  xml?: string;
}

export function wimFile(images: FixtureImage[], options: WimFixtureOptions = {}): Buffer {
  const xml = Buffer.concat([
    Buffer.from([0xff, 0xfe]),
    Buffer.from(options.xml ?? wimXml(images), 'utf16le'),
  ]);
  const header = Buffer.alloc(208);
  header.write(options.magic ?? 'MSWIM\0\0\0', 0, 'latin1');
  header.writeUInt32LE(options.headerSize ?? 208, 8);
  header.writeUInt32LE(0x10d00, 12);
  header.writeUInt16LE(1, 40);
  header.writeUInt16LE(1, 42);
  header.writeUInt32LE(options.imageCount ?? images.length, 44);
  const size = options.xmlSize ?? xml.length;
  header.writeUIntLE(size % 2 ** 48, 0x48, 6);
  header[0x48 + 6] = Math.floor(size / 2 ** 48);
  header[0x48 + 7] = options.flags ?? 0;
  header.writeBigUInt64LE(BigInt(options.xmlOffset ?? 208), 0x48 + 8);
  header.writeBigUInt64LE(BigInt(xml.length), 0x48 + 16);
  return Buffer.concat([header, xml]);
}

export const WINDOWS_11: FixtureImage[] = [
  { name: 'Windows 11 Home', displayName: 'Windows 11 Home', edition: 'Core', build: 26100 },
  {
    name: 'Windows 11 Pro',
    displayName: 'Windows 11 Pro',
    edition: 'Professional',
    build: 26100,
    totalBytes: 19_000_000_000,
  },
];
