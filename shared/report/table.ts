/**
 * The report as plain text for a terminal: a header, one line per secret, the totals by
 * status and by control, and each finding's reason under its secret. No colour codes, so it
 * reads the same in a pipe or a log.
 */
import { STATUSES } from '../policy/index.js';
import type { ComplianceReport, ReportSecret } from './model.js';

const pad = (text: string, width: number, right = false) =>
  right ? text.padStart(width) : text.padEnd(width);
const shortControl = (id: string) => id.replace('SecretsManager.', 'SM.');
const rotation = (s: ReportSecret) =>
  s.owningService
    ? `managed by ${s.owningService}`
    : s.rotationEnabled
      ? `on ${s.rotationSchedule ?? '?'}`
      : 'off';

/** Renders the report as a text table. */
export function renderTable(report: ComplianceReport): string {
  const { summary, policy } = report;
  const columns: [string, (s: ReportSecret) => string, boolean][] = [
    ['STATUS', (s) => s.status, false],
    ['AGE', (s) => (s.ageDays === null ? '?' : `${s.ageDays}d`), true],
    ['DUE', (s) => s.dueDate?.slice(0, 10) ?? '-', false],
    ['SECRET', (s) => s.name, false],
    ['ROTATION', rotation, false],
    ['FAILING', (s) => s.failingControls.map(shortControl).join(' ') || '-', false],
    ['FINDINGS', (s) => [...new Set(s.findings.map((f) => f.kind))].join(', ') || '-', false],
  ];
  const widths = columns.map(([title, cell]) =>
    Math.max(title.length, ...report.secrets.map((s) => cell(s).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => pad(cell, widths[i] ?? 0, columns[i]?.[2]))
      .join('  ')
      .trimEnd();
  const out = [
    `Secrets rotation compliance: ${report.environment}, ${report.generatedAt}`,
    `Policy: max age ${policy.maxAgeDays} d, due soon in the last ${policy.warningDays} d, rotation every ${policy.scheduleDays} d; ` +
      `${report.managedPrefixes.join(', ')}`,
    '',
    line(columns.map(([title]) => title)),
    ...report.secrets.map((s) => line(columns.map(([, cell]) => cell(s)))),
    '',
    `${summary.total} secrets, ${summary.needAttention} need attention: ` +
      STATUSES.map((status) => `${status} ${summary.byStatus[status]}`).join(', '),
    `Controls failing: ${report.controls.map((c) => `${c.id} ${c.failing}`).join(', ')}`,
  ];
  if (summary.oldest) out.push(`Oldest: ${summary.oldest.name} (${summary.oldest.ageDays} days)`);
  const withFindings = report.secrets.filter((s) => s.findings.length > 0);
  if (withFindings.length > 0) {
    out.push('', 'Findings:');
    for (const s of withFindings) {
      out.push(`  ${s.name}`);
      for (const f of s.findings) out.push(`    ${f.severity} ${f.kind}: ${f.reason}`);
    }
  }
  return `${out.join('\n')}\n`;
}
