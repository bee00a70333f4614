import type { ConsoleIo } from '../../src/output/console-io';
import { createPalette } from '../../src/output/palette';

export interface CapturedIo extends ConsoleIo {
  stdout: string[];
  stderr: string[];
}

export function captureIo(): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    outPalette: createPalette(false),
    errPalette: createPalette(false),
  };
}
