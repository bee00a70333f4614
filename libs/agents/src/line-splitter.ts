import { StringDecoder } from 'node:string_decoder';
import { withoutNul } from '@hangar/contracts';

export interface OutputLine {
  // The line without its newline (and without a trailing CR), whole or its first `maxLineBytes`.
  text: string;
  // The line's full size in bytes, whatever was kept.
  bytes: number;
  truncated: boolean;
}

// One event's worth of a CLI's output: a longer line is kept truncated (the cap of one event).
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

// Splits a byte stream into lines in linear time: each chunk is scanned once, for its own
// newlines only, and at most `maxLineBytes` of an unfinished line are held, however long it
// grows (a CLI may print one line as large as the whole output cap).
export class LineSplitter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private lineBytes = 0;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_EVENT_BYTES) {}

  push(chunk: Buffer | string): OutputLine[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const lines: OutputLine[] = [];
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE); newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
      this.take(bytes.subarray(start, newline), false);
      lines.push(this.finish());
      start = newline + 1;
    }
    // What stays across pushes is copied: a subarray would pin the whole chunk.
    this.take(bytes.subarray(start), true);
    return lines;
  }

  // The last line, when the stream did not end with a newline.
  end(): OutputLine[] {
    return this.lineBytes > 0 ? [this.finish()] : [];
  }

  private take(part: Buffer, copy: boolean): void {
    this.lineBytes += part.length;
    const room = this.maxLineBytes - this.heldBytes;
    if (room <= 0 || part.length === 0) return;
    const kept = part.length > room ? part.subarray(0, room) : part;
    this.held.push(copy ? Buffer.from(kept) : kept);
    this.heldBytes += kept.length;
  }

  private finish(): OutputLine {
    const truncated = this.lineBytes > this.heldBytes;
    const joined = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes);
    // A cut line may end inside a UTF-8 sequence: the decoder leaves that partial character out.
    let text = truncated ? new StringDecoder('utf8').write(joined) : joined.toString('utf8');
    if (!truncated && text.endsWith('\r')) text = text.slice(0, -1);
    // A NUL byte (a program's raw output) is kept as U+FFFD: PostgreSQL's text cannot hold one.
    text = withoutNul(text);
    const line = { text, bytes: this.lineBytes, truncated };
    this.held = [];
    this.heldBytes = 0;
    this.lineBytes = 0;
    return line;
  }
}
