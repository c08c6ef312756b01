/** A `WINAPI` function declared in an SDK header. */
export interface CFunction {
  name: string;
  returns: string;
  params: { type: string; name: string }[];
}

/**
 * The `WINAPI` function declarations of a C header (MinGW-w64's copies of the
 * Windows SDK headers), with types normalised to `T *` spacing, for comparing
 * our koffi prototypes against the authority.
 */
export function parseWinapiHeader(text: string): CFunction[] {
  const out: CFunction[] = [];
  const re = /^\s*([A-Za-z_][\w\s*]*?)\s+WINAPI\s+(\w+)\s*\(([^)]*)\)\s*;/gm;
  for (const m of text.matchAll(re)) {
    const params = m[3]!
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p && p !== 'void')
      .map((p) => {
        const pm = /^(.*?)(\w+)$/.exec(p.replace(/\s+/g, ' '))!;
        // One space between the type and its pointer stars: `T*`, `T *` and `T  **` read alike.
        const type = pm[1]!
          .replace(/\s+/g, ' ')
          .replace(/\s*(\*+)\s*$/, ' $1')
          .trim();
        return { type, name: pm[2]! };
      });
    out.push({ name: m[2]!, returns: m[1]!.trim(), params });
  }
  return out;
}
