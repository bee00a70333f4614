import type { Terminal } from './console-io';

// Lines drawn over themselves on a terminal: each update moves the cursor back up over the
// previous drawing and clears it. Lines are cut to the terminal's width by the caller (a wrapped
// line would take two rows and leave one behind).
export class LiveBlock {
  private drawn = 0;
  private last = '';

  constructor(private readonly terminal: Terminal) {}

  update(lines: string[]): void {
    if (this.drawn > 0 && lines.join('\n') === this.last) return;
    this.last = lines.join('\n');
    const erase = this.drawn > 0 ? `\u001b[${this.drawn}A\r\u001b[J` : '';
    this.terminal.write(erase + lines.map((line) => `${line}\n`).join(''));
    this.drawn = lines.length;
  }

  // Takes the drawing away (to print something else where it was); the next update draws anew.
  clear(): void {
    if (this.drawn > 0) this.terminal.write(`\u001b[${this.drawn}A\r\u001b[J`);
    this.drawn = 0;
  }
}
