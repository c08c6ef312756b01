import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/internal/errors.js';
import {
  CidrParseError,
  checkPortMapping,
  cidrsOverlap,
  formatPortMapping,
  mappingsConflict,
  PortMappingParseError,
  parseCidr,
  parseIpv4,
  parsePortMapping,
} from '../../../src/network/index.js';

describe('parseCidr', () => {
  it('parses canonical CIDRs', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ network: 0x0a000000, prefixLength: 8, text: '10.0.0.0/8' });
    expect(parseCidr('192.168.1.7').text).toBe('192.168.1.7/32');
    expect(parseCidr('0.0.0.0/0').prefixLength).toBe(0);
    expect(parseCidr(' 172.16.0.0/12 ').text).toBe('172.16.0.0/12');
  });
  it('clears host bits only when loose', () => {
    expect(() => parseCidr('10.0.0.1/8')).toThrow(/did you mean 10\.0\.0\.0\/8/);
    expect(parseCidr('10.0.0.1/8', 'x', { loose: true }).text).toBe('10.0.0.0/8');
  });
  it.each([
    ['', 'empty'],
    ['10.0.0/8', 'not an IPv4'],
    ['256.0.0.0/8', 'not an IPv4'],
    ['10.0.0.0/33', 'prefix length'],
    ['10.0.0.0/-1', 'prefix length'],
    ['10.0.0.0/', 'prefix length'],
    ['01.0.0.0/8', 'not an IPv4'],
    ['a.b.c.d/8', 'not an IPv4'],
    ['10.0.0.0/8/9', 'prefix length'],
    ['::1/128', 'not an IPv4'],
  ])('rejects %j (%s)', (text, why) => {
    const e = (() => {
      try {
        parseCidr(text, 'subnet');
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(CidrParseError);
    expect((e as CidrParseError).field).toBe('subnet');
    expect((e as Error).message).toContain(why);
  });
  it('overlap', () => {
    expect(cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('10.200.0.0/16'))).toBe(true);
    expect(cidrsOverlap(parseCidr('172.20.0.0/16'), parseCidr('172.21.0.0/16'))).toBe(false);
  });
  it('parseIpv4', () => {
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('1.2.3')).toBeUndefined();
  });
});

describe('parsePortMapping', () => {
  it('parses host:sandbox/proto', () => {
    expect(parsePortMapping('8080:80/tcp')).toEqual({ hostPort: 8080, sandboxPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('53:53/udp')).toEqual({ hostPort: 53, sandboxPort: 53, protocol: 'udp' });
    expect(parsePortMapping('8080:80')).toEqual({ hostPort: 8080, sandboxPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('3389')).toEqual({ hostPort: 3389, sandboxPort: 3389, protocol: 'tcp' });
    expect(parsePortMapping('127.0.0.1:8080:80/UDP')).toEqual({
      hostPort: 8080,
      sandboxPort: 80,
      protocol: 'udp',
      hostAddress: '127.0.0.1',
    });
    expect(parsePortMapping('1:65535').sandboxPort).toBe(65535);
  });
  it.each([
    ['', 'empty'],
    ['0:80', 'outside 1-65535'],
    ['65536:80', 'outside 1-65535'],
    ['80:0', 'outside 1-65535'],
    ['8080:80/sctp', 'not tcp or udp'],
    ['8080:80/', 'not tcp or udp'],
    ['http:80', 'not a number'],
    ['-1:80', 'not a number'],
    ['80.5:80', 'not a number'],
    ['host:8080:80', 'not an IPv4 host address'],
    ['1.2.3.4:5:6:7', 'too many'],
    ['8080:', 'not a number'],
  ])('rejects %j (%s)', (text, why) => {
    expect(() => parsePortMapping(text, 'ports[0]')).toThrow(PortMappingParseError);
    expect(() => parsePortMapping(text, 'ports[0]')).toThrow(why);
  });
  it('checks an object mapping, keeping and validating its host address', () => {
    expect(
      checkPortMapping({ hostAddress: '127.0.0.1', hostPort: 8080, sandboxPort: 80 } as never, 'ports[0]'),
    ).toEqual({
      hostAddress: '127.0.0.1',
      hostPort: 8080,
      sandboxPort: 80,
      protocol: 'tcp',
    });
    expect(checkPortMapping({ hostPort: 53, sandboxPort: 53, protocol: 'udp' }, 'ports[0]')).toEqual({
      hostPort: 53,
      sandboxPort: 53,
      protocol: 'udp',
    });
    for (const bad of ['localhost', '', '1.2.3.256', '::1', 7]) {
      const mapping = { hostAddress: bad, hostPort: 8080, sandboxPort: 80, protocol: 'tcp' } as never;
      expect(() => checkPortMapping(mapping, 'ports[2]')).toThrow(InvalidArgumentError);
      expect(() => checkPortMapping(mapping, 'ports[2]')).toThrow('ports[2].hostAddress');
    }
    expect(() => checkPortMapping({ hostPort: 0, sandboxPort: 80, protocol: 'tcp' }, 'ports[0]')).toThrow(
      PortMappingParseError,
    );
  });
  it('formats and detects conflicts', () => {
    const a = parsePortMapping('8080:80');
    expect(formatPortMapping(a)).toBe('8080:80/tcp');
    expect(mappingsConflict(a, parsePortMapping('8080:81'))).toBe(true);
    expect(mappingsConflict(a, parsePortMapping('8080:80/udp'))).toBe(false);
    expect(
      mappingsConflict(parsePortMapping('127.0.0.1:8080:80'), parsePortMapping('10.0.0.1:8080:80')),
    ).toBe(false);
    expect(mappingsConflict(parsePortMapping('127.0.0.1:8080:80'), a)).toBe(true);
  });
});
