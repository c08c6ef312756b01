import { Readable } from 'node:stream';
import { fromFiletime, toFiletime } from '../../internal/filetime.js';
import { type Frame, PayloadReader, PayloadWriter } from './codec.js';
import { type AgentConnection, parseError } from './connection.js';
import { ReceiveCredit, SendCredit } from './credit.js';
import { AgentProtocolError } from './errors.js';
import { Channel, DATA_CHUNK_BYTES, FileAttribute, FrameType, PutFlag, RemoveFlag } from './protocol.js';

/** A guest file's facts (FILE_INFO / LIST_ENTRIES). */
export interface AgentFileInfo {
  /** Windows attribute bits (FileAttribute). */
  attributes: number;
  size: number;
  /** Last write time; undefined when the guest reported none. */
  modified: Date | undefined;
  isDirectory: boolean;
}

export interface AgentDirEntry extends AgentFileInfo {
  name: string;
}

function readInfo(r: PayloadReader): AgentFileInfo {
  const attributes = r.u32();
  const size = Number(r.u64());
  const modified = fromFiletime(r.u64());
  return { attributes, size, modified, isDirectory: (attributes & FileAttribute.directory) !== 0 };
}

/**
 * Runs one request stream to its terminal frame: `onFrame` sees the frames
 * before it and returns the result when given the terminal one (DONE, or
 * FILE_INFO for STAT); an ERROR frame rejects with the agent's error.
 */
export function request<T>(
  connection: AgentConnection,
  type: number,
  payload: Buffer,
  onFrame: (frame: Frame, id: number) => { result: T } | undefined,
  onOpen?: (id: number, fail: (error: Error) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined, value?: T) => {
      if (settled) return;
      settled = true;
      connection.closeStream(id);
      if (error) reject(error);
      else resolve(value as T);
    };
    const id = connection.openStream({
      onFrame: (frame) => {
        if (frame.type === FrameType.error) return settle(parseError(frame.payload));
        const done = onFrame(frame, id);
        if (done) settle(undefined, done.result);
      },
      onClose: (error) => settle(error),
    });
    connection.send(type, id, payload);
    onOpen?.(id, (error) => settle(error));
  });
}

function doneValue(frame: Frame): number {
  if (frame.type !== FrameType.done)
    throw new AgentProtocolError(`frame type ${frame.type} where DONE was due`);
  const r = new PayloadReader(frame.payload, 'DONE');
  const value = r.u64();
  r.done();
  return Number(value);
}

export interface PutOptions {
  attributes?: number;
  modified?: Date;
  /** Create missing parent directories. */
  mkdirs?: boolean;
}

/** Writes a guest file from bytes or a stream; resolves with the bytes written. */
export async function putFile(
  connection: AgentConnection,
  path: string,
  source: Uint8Array | AsyncIterable<Uint8Array>,
  options: PutOptions = {},
): Promise<number> {
  const credit = new SendCredit(connection.info.window);
  const payload = new PayloadWriter()
    .u32(options.attributes ?? 0)
    .u64(options.modified ? toFiletime(options.modified) : 0n)
    .u32(options.mkdirs ? PutFlag.mkdirs : 0)
    .str(path)
    .build();
  const isDirectory = ((options.attributes ?? 0) & FileAttribute.directory) !== 0;
  return request(
    connection,
    FrameType.filePut,
    payload,
    (frame) => {
      if (frame.type === FrameType.window) {
        const r = new PayloadReader(frame.payload, 'WINDOW');
        if (r.u8() !== Channel.in) throw new AgentProtocolError('WINDOW for a put on a channel other than 0');
        credit.give(r.u32());
        r.done();
        return undefined;
      }
      credit.fail(new AgentProtocolError('the put ended'));
      return { result: doneValue(frame) };
    },
    (id, fail) => {
      if (isDirectory) return;
      void (async () => {
        const chunks = source instanceof Uint8Array ? [source] : source;
        for await (const chunk of chunks) {
          for (let at = 0; at < chunk.length; ) {
            const n = await credit.take(Math.min(DATA_CHUNK_BYTES, chunk.length - at));
            connection.send(FrameType.fileData, id, chunk.subarray(at, at + n));
            at += n;
          }
        }
        connection.send(FrameType.fileEof, id);
      })().catch((error: Error) => {
        // The source failed: cancel so the agent drops its partial file.
        if (!connection.closedBecause)
          connection.send(FrameType.kill, id, new PayloadWriter().u32(0).build());
        fail(error);
      });
    },
  );
}

/** Reads a guest file as a stream; `info` resolves first, the stream ends at the agent's DONE. */
export function getFile(
  connection: AgentConnection,
  path: string,
): { info: Promise<AgentFileInfo>; data: Readable } {
  let credit: ReceiveCredit | undefined;
  const data = new Readable({ highWaterMark: 256 * 1024, read: () => credit?.drained() });
  let resolveInfo!: (info: AgentFileInfo) => void;
  const info = new Promise<AgentFileInfo>((resolve) => {
    resolveInfo = resolve;
  });
  const finished = request(
    connection,
    FrameType.fileGet,
    new PayloadWriter().str(path).build(),
    (frame, id) => {
      credit ??= new ReceiveCredit(connection, id, Channel.out);
      if (frame.type === FrameType.fileInfo) {
        const r = new PayloadReader(frame.payload, 'FILE_INFO');
        resolveInfo(readInfo(r));
        r.done();
        return undefined;
      }
      if (frame.type === FrameType.fileData) {
        credit.received(frame.payload.length, !data.push(frame.payload));
        return undefined;
      }
      return { result: doneValue(frame) };
    },
  );
  const settled = finished.then(
    () => data.push(null),
    (error: Error) => data.destroy(error),
  );
  void settled;
  const infoOrError = Promise.race([info, finished.then(() => info)]);
  infoOrError.catch(() => {}); // a caller reading only `data` sees the error there
  return { info: infoOrError, data };
}

/** Reads a whole guest file into memory. */
export async function readFile(
  connection: AgentConnection,
  path: string,
): Promise<{ info: AgentFileInfo; data: Buffer }> {
  const { info, data } = getFile(connection, path);
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk as Buffer);
  return { info: await info, data: Buffer.concat(chunks) };
}

export function stat(connection: AgentConnection, path: string): Promise<AgentFileInfo> {
  return request(connection, FrameType.stat, new PayloadWriter().str(path).build(), (frame) => {
    if (frame.type !== FrameType.fileInfo)
      throw new AgentProtocolError(`frame type ${frame.type} answering STAT`);
    const r = new PayloadReader(frame.payload, 'FILE_INFO');
    const info = readInfo(r);
    r.done();
    return { result: info };
  });
}

export function list(connection: AgentConnection, path: string): Promise<AgentDirEntry[]> {
  const entries: AgentDirEntry[] = [];
  return request(connection, FrameType.list, new PayloadWriter().str(path).build(), (frame) => {
    if (frame.type !== FrameType.listEntries) {
      doneValue(frame);
      return { result: entries };
    }
    const r = new PayloadReader(frame.payload, 'LIST_ENTRIES');
    for (let n = r.u32(); n > 0; n--) {
      const info = readInfo(r);
      entries.push({ ...info, name: r.str() });
    }
    r.done();
    return undefined;
  });
}

export async function remove(
  connection: AgentConnection,
  path: string,
  options: { recursive?: boolean } = {},
): Promise<void> {
  const payload = new PayloadWriter()
    .u32(options.recursive ? RemoveFlag.recursive : 0)
    .str(path)
    .build();
  await request(connection, FrameType.remove, payload, (frame) => ({ result: doneValue(frame) }));
}
