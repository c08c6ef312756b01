import { type FileHandle, open } from 'node:fs/promises';
import { InvalidArgumentError } from '../../internal/errors.js';
import { dependency } from '../../internal/lazy-dependency.js';
import { WimFormatError } from './build-errors.js';

/**
 * The images a WIM or ESD file holds, read from its header and its XML
 * description without decompressing anything.
 *
 * Layout (wimlib `include/wimlib/header.h` struct wim_header_disk and
 * `include/wimlib/resource.h` struct wim_reshdr_disk, ebiggers/wimlib):
 *
 * ```
 * +0x00  magic "MSWIM\0\0\0"            +0x2c  image_count u32
 * +0x08  hdr_size u32 (208)             +0x30  blob table reshdr (24 bytes)
 * +0x0c  wim_version u32                +0x48  XML data reshdr (24 bytes)
 * +0x10  wim_flags u32                  +0x60  boot metadata reshdr
 * +0x14  chunk_size u32                 +0x78  boot_idx u32
 * +0x18  guid [16]                      +0x7c  integrity table reshdr
 * +0x28  part_number u16, total_parts u16   (208 bytes in all)
 *
 * reshdr: size_in_wim u56 LE, flags u8, offset_in_wim u64, uncompressed_size u64
 * ```
 *
 * The XML resource is stored uncompressed (reshdr flag COMPRESSED 0x04 unset)
 * as UTF-16LE with a byte-order mark: `<WIM><IMAGE INDEX="n">...</IMAGE></WIM>`.
 */
export const WIM_HEADER_SIZE = 208;
const WIM_MAGIC = Buffer.from('MSWIM\0\0\0', 'latin1');
const PIPABLE_MAGIC = Buffer.from('WLPWM\0\0\0', 'latin1');
const XML_RESHDR_OFFSET = 0x48;
const IMAGE_COUNT_OFFSET = 0x2c;
const RESHDR_FLAG_COMPRESSED = 0x04;
/** Real install.wim/.esd descriptions are tens of kilobytes; more is not a Windows image. */
export const MAX_WIM_XML_BYTES = 4 * 2 ** 20;

/** `WINDOWS/ARCH` values (wimlib `xml_windows.c`, the PROCESSOR_ARCHITECTURE_* constants). */
const ARCHITECTURES: Record<string, string> = {
  '0': 'x86',
  '5': 'arm',
  '6': 'ia64',
  '9': 'amd64',
  '12': 'arm64',
};

export interface WimImage {
  /** 1-based, what DISM's `/Index:` takes. */
  index: number;
  name: string;
  displayName?: string;
  /** `WINDOWS/EDITIONID`, e.g. `Professional`, `ServerDatacenter`. */
  edition?: string;
  /** `WINDOWS/VERSION/BUILD`, e.g. 26100. */
  build?: number;
  /** `amd64`, `arm64`, `x86`... (or the raw number when unknown). */
  architecture?: string;
  /** Bytes of the applied image (`TOTALBYTES`). */
  sizeBytes?: number;
}

export interface WimInfo {
  path: string;
  imageCount: number;
  images: WimImage[];
}

export async function readWimInfo(path: string): Promise<WimInfo> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(WIM_HEADER_SIZE);
    const { bytesRead } = await file.read(header, 0, WIM_HEADER_SIZE, 0);
    if (bytesRead < WIM_HEADER_SIZE)
      throw new WimFormatError(path, `the file is ${size} bytes, shorter than a WIM header (208)`);
    checkHeader(path, header);
    return { path, ...(await readImages(path, header, size, file)) };
  } finally {
    await file.close();
  }
}

function checkHeader(path: string, header: Buffer): void {
  const magic = header.subarray(0, 8);
  if (magic.equals(PIPABLE_MAGIC))
    throw new WimFormatError(
      path,
      'a pipable WIM (wimlib --pipable) keeps its XML at the end; convert it with `wimlib-imagex optimize`',
    );
  if (!magic.equals(WIM_MAGIC))
    throw new WimFormatError(path, 'no "MSWIM" magic (an encrypted ESD, or not a WIM)');
  const headerSize = header.readUInt32LE(8);
  if (headerSize !== WIM_HEADER_SIZE) throw new WimFormatError(path, `header size ${headerSize}, not 208`);
}

async function readImages(
  path: string,
  header: Buffer,
  fileSize: number,
  file: FileHandle,
): Promise<{ imageCount: number; images: WimImage[] }> {
  const imageCount = header.readUInt32LE(IMAGE_COUNT_OFFSET);
  const reshdr = header.subarray(XML_RESHDR_OFFSET, XML_RESHDR_OFFSET + 24);
  const storedSize = reshdr.readUIntLE(0, 6) + reshdr[6]! * 2 ** 48;
  const flags = reshdr[7]!;
  const offset = Number(reshdr.readBigUInt64LE(8));
  if (flags & RESHDR_FLAG_COMPRESSED) throw new WimFormatError(path, 'its XML description is compressed');
  if (storedSize < 2 || storedSize % 2 !== 0)
    throw new WimFormatError(path, `XML description of ${storedSize} bytes is not UTF-16 text`);
  if (storedSize > MAX_WIM_XML_BYTES)
    throw new WimFormatError(
      path,
      `XML description of ${storedSize} bytes exceeds the ${MAX_WIM_XML_BYTES}-byte cap`,
    );
  if (offset < WIM_HEADER_SIZE || offset + storedSize > fileSize)
    throw new WimFormatError(
      path,
      `XML description at ${offset}+${storedSize} lies outside the ${fileSize}-byte file (truncated?)`,
    );
  const xml = Buffer.alloc(storedSize);
  const { bytesRead } = await file.read(xml, 0, storedSize, offset);
  if (bytesRead < storedSize) throw new WimFormatError(path, 'the XML description is truncated');
  const images = parseWimXml(path, xml.toString('utf16le').replace(/^\uFEFF/, ''));
  if (images.length !== imageCount)
    throw new WimFormatError(
      path,
      `the header counts ${imageCount} images, the XML describes ${images.length}`,
    );
  return { imageCount, images };
}

interface Node {
  name: string;
  attributes: Record<string, string>;
  children: Node[];
  text: string;
}

function parseWimXml(path: string, xml: string): WimImage[] {
  const { SaxesParser } = dependency('saxes');
  const parser = new SaxesParser();
  const stack: Node[] = [];
  let root: Node | undefined;
  parser.on('opentag', (tag) => {
    const node: Node = {
      name: tag.name,
      attributes: tag.attributes as Record<string, string>,
      children: [],
      text: '',
    };
    if (stack.length > 0) stack[stack.length - 1]!.children.push(node);
    else root = node;
    stack.push(node);
  });
  parser.on('text', (text) => {
    if (stack.length > 0) stack[stack.length - 1]!.text += text;
  });
  parser.on('closetag', () => void stack.pop());
  try {
    parser.write(xml).close();
  } catch (err) {
    throw new WimFormatError(path, `its XML description does not parse (${(err as Error).message})`, {
      cause: err,
    });
  }
  if (root?.name !== 'WIM') throw new WimFormatError(path, 'its XML description has no <WIM> root');
  return root.children.filter((n) => n.name === 'IMAGE').map((n) => imageOf(path, n));
}

function child(node: Node | undefined, ...names: string[]): Node | undefined {
  let current = node;
  for (const name of names) current = current?.children.find((c) => c.name === name);
  return current;
}

function textOf(node: Node | undefined, ...names: string[]): string | undefined {
  const value = child(node, ...names)?.text.trim();
  return value === undefined || value === '' ? undefined : value;
}

function numberOf(node: Node, ...names: string[]): number | undefined {
  const text = textOf(node, ...names);
  if (text === undefined) return undefined;
  const value = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

function imageOf(path: string, node: Node): WimImage {
  const index = Number(node.attributes.INDEX);
  if (!Number.isSafeInteger(index) || index < 1)
    throw new WimFormatError(path, `an <IMAGE> has INDEX ${JSON.stringify(node.attributes.INDEX)}`);
  const arch = textOf(node, 'WINDOWS', 'ARCH');
  const image: WimImage = { index, name: textOf(node, 'NAME') ?? `image ${index}` };
  const displayName = textOf(node, 'DISPLAYNAME');
  const edition = textOf(node, 'WINDOWS', 'EDITIONID');
  const build = numberOf(node, 'WINDOWS', 'VERSION', 'BUILD');
  const sizeBytes = numberOf(node, 'TOTALBYTES');
  if (displayName !== undefined) image.displayName = displayName;
  if (edition !== undefined) image.edition = edition;
  if (build !== undefined) image.build = build;
  if (arch !== undefined) image.architecture = ARCHITECTURES[arch] ?? arch;
  if (sizeBytes !== undefined) image.sizeBytes = sizeBytes;
  return image;
}

/** One line per image, for error messages and `--help`-style listings. */
export function describeWimImages(images: readonly WimImage[]): string {
  return images
    .map((i) => `${i.index}: ${i.displayName ?? i.name}${i.edition ? ` (${i.edition})` : ''}`)
    .join('; ');
}

/**
 * The image a build applies: `index`, else the one whose edition id or
 * display name (or name) is `edition` (case-insensitive), else the only one.
 */
export function selectWimImage(info: WimInfo, choice: { index?: number; edition?: string }): WimImage {
  const listed = describeWimImages(info.images);
  if (choice.index !== undefined) {
    const image = info.images.find((i) => i.index === choice.index);
    if (!image)
      throw new InvalidArgumentError('index', `an image index of ${info.path} (${listed})`, choice.index);
    return image;
  }
  if (choice.edition !== undefined) {
    const wanted = choice.edition.toLowerCase();
    const matches = info.images.filter((i) =>
      [i.edition, i.displayName, i.name].some((v) => v?.toLowerCase() === wanted),
    );
    if (matches.length === 1) return matches[0]!;
    throw new InvalidArgumentError(
      'edition',
      `an edition id or display name of exactly one image of ${info.path} (${listed})`,
      choice.edition,
      matches.length > 1 ? 'several images match: use --index' : undefined,
    );
  }
  if (info.images.length === 1) return info.images[0]!;
  throw new InvalidArgumentError(
    'index',
    `one of the images of ${info.path}, chosen with --index or --edition (${listed})`,
    undefined,
    info.images.length === 0 ? 'the file holds no image' : `it holds ${info.images.length} images`,
  );
}
