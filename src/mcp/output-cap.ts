/** Text cut to fit a tool's result: its start and end, with a line saying how much is left out. */
export interface CappedText {
  text: string;
  truncated: boolean;
}

/**
 * Keeps the first `head` and the last `limit - head` characters of `text`
 * when it is longer than `limit`: a command's first lines say what it is
 * doing and its last ones how it ended (errors, summaries).
 */
export function capText(text: string, limit: number, head: number): CappedText {
  if (text.length <= limit) return { text, truncated: false };
  const tail = limit - head;
  const omitted = text.length - limit;
  return {
    text: `${text.slice(0, head)}\n[... ${omitted} characters left out ...]\n${text.slice(text.length - tail)}`,
    truncated: true,
  };
}
