/** The short summary the report publishes to SNS when any secret needs attention. */
import { needsAttention, STATUSES } from '../policy/index.js';
import type { ComplianceReport } from './model.js';

/** How many secrets the alert names; the rest are counted. */
export const ALERT_SECRET_LIMIT = 20;

/** An SNS subject (at most 100 characters) and message, or undefined when everything is compliant. */
export function alertMessage(
  report: ComplianceReport,
  reportLocation: string,
): { subject: string; message: string } | undefined {
  const { summary } = report;
  if (summary.needAttention === 0) return undefined;
  const subject =
    `Secrets compliance (${report.environment}): ${summary.needAttention} of ${summary.total} secrets need attention`.slice(
      0,
      100,
    );
  const named = report.secrets.filter(needsAttention);
  const lines = [
    `${summary.needAttention} of ${summary.total} secrets under ${report.managedPrefixes.join(', ')} need attention (${report.generatedAt}).`,
    `By status: ${STATUSES.map((status) => `${status} ${summary.byStatus[status]}`).join(', ')}.`,
    `Failing controls: ${report.controls.map((c) => `${c.id} ${c.failing}`).join(', ')}.`,
    '',
    ...named.slice(0, ALERT_SECRET_LIMIT).map((s) => {
      const first = s.findings.find((f) => f.severity !== 'info');
      return `- ${s.name}: ${s.status}${s.ageDays === null ? '' : `, ${s.ageDays} days`}${
        s.failingControls.length > 0 ? `, fails ${s.failingControls.join(' ')}` : ''
      }${first ? `; ${first.kind}: ${first.reason}` : ''}`;
    }),
    ...(named.length > ALERT_SECRET_LIMIT ? [`… and ${named.length - ALERT_SECRET_LIMIT} more.`] : []),
    '',
    `Full report: ${reportLocation}`,
  ];
  return { subject, message: lines.join('\n') };
}
