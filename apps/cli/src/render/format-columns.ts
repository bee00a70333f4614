import { truncate } from './format-values';

// Columns padded to their widest cell; the last one cut to stay readable.
export function formatColumns(header: string[], rows: string[][], dim: (text: string) => string): string[] {
  const widths = header.map((title, index) =>
    Math.max(
      title.length,
      ...rows.map((row) => (index === header.length - 1 ? 0 : (row[index] ?? '').length)),
    ),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) =>
        index === cells.length - 1 ? truncate(cell, 100) : cell.padEnd(widths[index] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [dim(line(header)), ...rows.map(line)];
}
