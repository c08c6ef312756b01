import { describe, expect, it } from 'vitest';
import {
  alternateStreamName,
  attributeWord,
  BackupStreamId,
  encodeExtendedAttributes,
  encodeReparsePoint,
  encodeStream,
  streamHeader,
} from '../../../../src/storage/images/backup-stream.js';

const hex = (b: Buffer) => b.toString('hex');
const u16 = (s: string) => Buffer.from(s, 'utf16le').toString('hex');

// Vectors computed by hand from the layouts in go-winio backup.go / reparse.go / ea.go.
describe('backup stream encoding', () => {
  it('uses go-winio’s stream ids (security 3, reparse 8, not 8 and 3)', () => {
    expect(BackupStreamId).toMatchObject({
      Data: 1,
      EaData: 2,
      Security: 3,
      AlternateData: 4,
      ReparseData: 8,
    });
  });

  it('writes a WIN32_STREAM_ID header: id, attributes, 64-bit size, name bytes, then the name', () => {
    expect(hex(streamHeader(1, 5))).toBe(`01000000${'00000000'}0500000000000000${'00000000'}`);
    expect(hex(streamHeader(1, 0x1_0000_0002))).toBe('01000000000000000200000001000000' + '00000000');
    expect(hex(encodeStream(4, Buffer.from('ab'), alternateStreamName('zone')))).toBe(
      `04000000000000000200000000000000${'16000000'}${u16(':zone:$DATA')}6162`,
    );
    expect(hex(encodeStream(3, Buffer.from([1, 0, 4, 0x80])))).toBe(
      '03000000000000000400000000000000000000000100' + '0480',
    );
  });

  it('writes the attribute word little endian', () => {
    expect(hex(attributeWord(0x26))).toBe('26000000');
    expect(hex(attributeWord(0x80000010))).toBe('10000080');
  });

  it('encodes a junction: NT substitute name, print name, no flags', () => {
    const b = encodeReparsePoint('C:\\W', true);
    expect(hex(b)).toBe(
      // `\??\C:\W` + NUL is 9 UTF-16 units (18 bytes), `C:\W` + NUL 5 (10): length 8 + 18 + 10 = 0x24
      `030000a0${'2400'}0000${'0000'}1000${'1200'}0800${u16('\\??\\C:\\W\0')}${u16('C:\\W\0')}`,
    );
  });

  it('encodes a symlink, flagging a relative target and turning / into \\', () => {
    expect(hex(encodeReparsePoint('a/b', false))).toBe(
      `0c0000a0${'1c00'}0000${'0000'}0600${'0800'}0600${'01000000'}${u16('a\\b\0')}${u16('a\\b\0')}`,
    );
    const abs = encodeReparsePoint('C:\\x', false);
    expect(abs.readUInt32LE(16)).toBe(0);
    expect(abs.subarray(20, 20 + 18).toString('utf16le')).toBe('\\??\\C:\\x\0');
    expect(hex(encodeReparsePoint('\\\\srv\\s', false).subarray(20, 36))).toBe(u16('\\??\\UNC\\'));
  });

  it('encodes FILE_FULL_EA_INFORMATION entries, each padded to 4 bytes', () => {
    expect(hex(encodeExtendedAttributes([{ name: 'A', value: Buffer.from('xy') }]))).toBe(
      `00000000${'00'}01${'0200'}41${'00'}7879`,
    );
    expect(
      hex(
        encodeExtendedAttributes([
          { name: 'A', value: Buffer.from('x') },
          { name: 'BC', value: Buffer.alloc(0), flags: 0x80 },
        ]),
      ),
    ).toBe(`0c000000${'00'}01${'0100'}41${'00'}78${'00'}00000000${'80'}02${'0000'}4243${'00'}00`);
  });
});
