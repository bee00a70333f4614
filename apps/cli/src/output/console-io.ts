import { createPalette, type Palette } from './palette';

// A terminal stdout: what may be drawn over in place (a live view), and how big it is.
export interface Terminal {
  columns(): number;
  rows(): number;
  write(text: string): void;
}

// Where a command writes: injected so tests read what a person would see.
export interface ConsoleIo {
  out(line: string): void;
  err(line: string): void;
  outPalette: Palette;
  errPalette: Palette;
  // Set only when stdout is a terminal: otherwise output is plain lines, one per change.
  terminal?: Terminal;
}

export function processConsoleIo(
  color: { stdout: boolean; stderr: boolean },
  interactive = false,
): ConsoleIo {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    outPalette: createPalette(color.stdout),
    errPalette: createPalette(color.stderr),
    ...(interactive
      ? {
          terminal: {
            columns: () => process.stdout.columns || 80,
            rows: () => process.stdout.rows || 24,
            write: (text: string) => void process.stdout.write(text),
          },
        }
      : {}),
  };
}
