const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  italic: [3, 23],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type Style = keyof typeof CODES;
export type Palette = Record<Style, (text: string) => string>;

export function createPalette(enabled: boolean): Palette {
  const palette = {} as Palette;
  for (const [style, [open, close]] of Object.entries(CODES) as [Style, readonly [number, number]][]) {
    palette[style] = enabled ? (text) => `\u001b[${open}m${text}\u001b[${close}m` : (text) => text;
  }
  return palette;
}

export const PLAIN = createPalette(false);

// Rotates through colors that read well on dark and light terminals.
const PREFIX_STYLES: Style[] = ['cyan', 'magenta', 'blue', 'yellow', 'green', 'gray'];

export function prefixStyle(index: number): Style {
  return PREFIX_STYLES[index % PREFIX_STYLES.length] ?? 'cyan';
}
