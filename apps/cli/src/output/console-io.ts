import { createPalette, type Palette } from './palette';

// Where a command writes: injected so tests read what a person would see.
export interface ConsoleIo {
  out(line: string): void;
  err(line: string): void;
  outPalette: Palette;
  errPalette: Palette;
}

export function processConsoleIo(color: { stdout: boolean; stderr: boolean }): ConsoleIo {
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    outPalette: createPalette(color.stdout),
    errPalette: createPalette(color.stderr),
  };
}
