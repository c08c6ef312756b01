import { dependency } from '../../internal/lazy-dependency.js';
import { WsbError } from '../errors.js';

/**
 * A minimal element tree built with saxes (a conforming, non-validating XML
 * parser), each element with the 1-based line and column of its `<`.
 * `.wsb` files are tiny, so a tree is simpler to validate than events.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Text and CDATA directly inside the element, concatenated, entities decoded. */
  text: string;
  line: number;
  column: number;
}

/**
 * Offsets (UTF-16 code units) to 1-based line and column (column counted in
 * code points). Queries come in document order, so each one counts on from
 * the last instead of from its line's start: a one-line file of many
 * elements would otherwise cost time quadratic in its length.
 */
class LineIndex {
  private readonly starts: number[] = [0];
  /** The last answer: its line (0-based), offset and column. */
  private last = { line: 0, offset: 0, column: 1 };

  constructor(private readonly source: string) {
    for (let i = 0; i < source.length; i++) {
      const c = source.charCodeAt(i);
      if (c === 0x0a) this.starts.push(i + 1);
      else if (c === 0x0d) {
        if (source.charCodeAt(i + 1) === 0x0a) i++;
        this.starts.push(i + 1);
      }
    }
  }

  at(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = this.starts[lo]!;
    const end = Math.max(start, offset);
    const resume = this.last.line === lo && this.last.offset <= end;
    const from = resume ? this.last.offset : start;
    const column = (resume ? this.last.column : 1) + this.codePoints(start, from, end);
    this.last = { line: lo, offset: end, column };
    return { line: lo + 1, column };
  }

  /** Code points in [from, end), a surrogate pair counted once (as `[...s]` does); `lineStart` <= `from`. */
  private codePoints(lineStart: number, from: number, end: number): number {
    let count = 0;
    for (let i = from; i < end; i++) {
      const c = this.source.charCodeAt(i);
      const pairsWithPrevious =
        c >= 0xdc00 && c <= 0xdfff && i > lineStart && isHighSurrogate(this.source.charCodeAt(i - 1));
      if (!pairsWithPrevious) count++;
    }
    return count;
  }
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

export function parseXmlTree(source: string, fileName: string): XmlElement {
  const index = new LineIndex(source);
  const { SaxesParser } = dependency('saxes');
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  const fail = (problem: string, line: number, column: number, allowed?: string): never => {
    throw new WsbError({ fileName, line, column, problem, ...(allowed ? { allowed } : {}) });
  };

  parser.on('error', (err) => {
    // A bare `&` (`cmd /c a & b`) is the commonest mistake in a command
    // line, and saxes reports it only where the document ends: name it.
    const amp = bareAmpersand(source, parser.position);
    if (amp !== undefined) {
      const where = index.at(amp);
      fail('malformed XML: a bare "&" (write &amp; for a literal ampersand)', where.line, where.column);
    }
    // saxes prefixes "line:column: "; we report our own position.
    const problem = `malformed XML: ${err.message.replace(/^(?:.*?:)?\d+:\d+: /, '')}`;
    fail(problem, parser.line, Math.max(1, parser.column));
  });
  parser.on('doctype', () => {
    fail('a DOCTYPE is not allowed in a .wsb file', parser.line, Math.max(1, parser.column));
  });
  parser.on('opentagstart', (tag) => {
    // `position` is just past the character that ended the name.
    const where = index.at(parser.position - tag.name.length - 2);
    const element: XmlElement = {
      name: tag.name,
      attributes: {},
      children: [],
      text: '',
      line: where.line,
      column: where.column,
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('opentag', (tag) => {
    const element = stack[stack.length - 1]!;
    for (const [name, value] of Object.entries(tag.attributes)) {
      element.attributes[name] = typeof value === 'string' ? value : value.value;
    }
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const addText = (text: string) => {
    const element = stack[stack.length - 1];
    if (element) element.text += text;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);

  parser.write(source).close();
  if (!root) return fail('the file has no root element', 1, 1, '<Configuration> ... </Configuration>');
  return root;
}

const MARKUP_OR_AMP =
  /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|&(?:#[0-9]+;|#x[0-9a-fA-F]+;|[A-Za-z_:][\w.:-]*;)?/g;

/** The offset of the first `&` before `limit` that starts no reference (outside comments, CDATA, PIs). */
function bareAmpersand(source: string, limit: number): number | undefined {
  MARKUP_OR_AMP.lastIndex = 0;
  for (let m = MARKUP_OR_AMP.exec(source); m && m.index < limit; m = MARKUP_OR_AMP.exec(source)) {
    if (m[0] === '&') return m.index;
  }
  return undefined;
}
