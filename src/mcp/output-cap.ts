/** Text cut to fit a tool's result: its start and end, with a line saying how much is left out. */
export interface CappedText {
  text: string;
  truncated: boolean;
}

/**
 * A command's output as it streams, kept to its first `head` and last
 * `limit - head` characters: a command's first lines say what it is doing
 * and its last ones how it ended (errors, summaries). Memory stays within
 * about twice the limit however much the command writes.
 */
export class HeadTail {
  readonly #limit: number;
  readonly #headChars: number;
  #head = '';
  #tail = '';
  #total = 0;

  constructor(limit: number, head: number) {
    this.#limit = limit;
    this.#headChars = head;
  }

  /** Characters seen so far. */
  get total(): number {
    return this.#total;
  }

  append(chunk: string): void {
    this.#total += chunk.length;
    const room = this.#headChars - this.#head.length;
    if (room > 0) {
      this.#head += chunk.slice(0, room);
      chunk = chunk.slice(room);
    }
    this.#tail += chunk;
    // Trimmed once it is twice what is kept, so each character is copied a bounded number of times.
    const keep = this.#limit - this.#headChars;
    if (this.#tail.length > 2 * keep) this.#tail = this.#tail.slice(-keep);
  }

  result(): CappedText {
    if (this.#total <= this.#limit) return { text: this.#head + this.#tail, truncated: false };
    const tail = this.#tail.slice(-(this.#limit - this.#headChars));
    const omitted = this.#total - this.#limit;
    return { text: `${this.#head}\n[... ${omitted} characters left out ...]\n${tail}`, truncated: true };
  }
}
