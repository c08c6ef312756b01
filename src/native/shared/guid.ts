/** A `GUID` as koffi encodes and decodes the struct (Data1-3 little-endian fields, Data4 bytes). */
export interface GuidStruct {
  Data1: number;
  Data2: number;
  Data3: number;
  Data4: number[];
}

/** A GUID string as the `GUID` struct value; '' and `undefined` are GUID_NULL. */
export function guidStruct(guid: string | undefined): GuidStruct {
  const hex = (guid ?? '').replace(/[{}-]/g, '');
  if (!hex) return { Data1: 0, Data2: 0, Data3: 0, Data4: [0, 0, 0, 0, 0, 0, 0, 0] };
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a GUID: ${guid}`);
  const data4: number[] = [];
  for (let i = 16; i < 32; i += 2) data4.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return {
    Data1: Number.parseInt(hex.slice(0, 8), 16),
    Data2: Number.parseInt(hex.slice(8, 12), 16),
    Data3: Number.parseInt(hex.slice(12, 16), 16),
    Data4: data4,
  };
}

/** The struct back as a lower-case GUID string without braces. */
export function guidFromStruct(g: GuidStruct): string {
  const h = (n: number, w: number) => (n >>> 0).toString(16).padStart(w, '0');
  const d4 = Array.from(g.Data4, (b) => h(b, 2)).join('');
  return `${h(g.Data1, 8)}-${h(g.Data2, 4)}-${h(g.Data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}
