import type { Palette } from '../output/palette';
import type { DependenciesReport } from './dependency-check';

export function formatDependencyReport(report: DependenciesReport, palette: Palette): string[] {
  const lines: string[] = [];
  for (const status of report.statuses) {
    const icon = status.outcome === 'failed' ? palette.red('✗') : palette.green('✓');
    lines.push(`${icon} ${status.message}`);
    for (const detail of status.details) lines.push(palette.dim(`    ${detail}`));
  }
  for (const advice of report.advice) lines.push(palette.bold(`  ${advice}`));
  return lines;
}
