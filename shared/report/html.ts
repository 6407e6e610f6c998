/**
 * The report as one self-contained HTML page: inline CSS and an inline SVG chart of each
 * secret's age against the max-age line, a summary by status and by control, and a table of
 * every secret with its findings. No script, no external asset, and a Content-Security-Policy
 * that forbids fetching anything, so the page makes no network request when opened.
 */
import { STATUSES, type Status } from '../policy/index.js';
import type { ComplianceReport, ReportSecret } from './model.js';

/** The chart draws at most this many bars (the oldest). */
export const CHART_LIMIT = 300;

const STATUS_COLOURS: Record<Status, string> = {
  overdue: '#c62828',
  'never-rotated': '#6a1b9a',
  unknown: '#546e7a',
  'due-soon': '#ef6c00',
  compliant: '#2e7d32',
};
const STATUS_LABELS: Record<Status, string> = {
  overdue: 'Overdue',
  'never-rotated': 'Never rotated',
  unknown: 'Unknown',
  'due-soon': 'Due soon',
  compliant: 'Compliant',
};

/** Escapes text for HTML and SVG content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
const e = escapeHtml;
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');
const shortFunction = (arn: string | null) => (arn ? (/:function:([^:]+)/.exec(arn)?.[1] ?? arn) : 'none');

function chart(report: ComplianceReport): string {
  const drawable = report.secrets
    .filter((s): s is ReportSecret & { ageDays: number } => s.ageDays !== null)
    .sort((a, b) => b.ageDays - a.ageDays || a.name.localeCompare(b.name));
  const rows = drawable.slice(0, CHART_LIMIT);
  const unknown = report.secrets.length - drawable.length;
  const { maxAgeDays, warningDays } = report.policy;
  const oldest = rows[0]?.ageDays ?? 0;
  const axisMax = Math.ceil(Math.min(Math.max(maxAgeDays * (4 / 3), oldest), maxAgeDays * 3) / 30) * 30;
  const [labelWidth, barWidth, rowHeight, top] = [320, 560, 22, 34];
  const width = labelWidth + barWidth + 90;
  const height = top + rows.length * rowHeight + 36;
  const x = (days: number) => labelWidth + (Math.min(days, axisMax) / axisMax) * barWidth;
  const ticks: string[] = [];
  for (let d = 0; d <= axisMax; d += 30)
    ticks.push(
      `<line class="tick" x1="${x(d)}" x2="${x(d)}" y1="${top - 6}" y2="${height - 30}" />` +
        `<text class="tick-label" x="${x(d)}" y="${height - 14}" text-anchor="middle">${d}</text>`,
    );
  const bars = rows.map((secret, i) => {
    const y = top + i * rowHeight;
    const clipped = secret.ageDays > axisMax;
    return (
      `<g class="bar-row">` +
      `<text class="bar-label" x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${e(secret.name)}</text>` +
      `<rect class="bar status-${secret.status}" data-secret="${e(secret.name)}" data-age-days="${secret.ageDays}" data-status="${secret.status}" ` +
      `x="${labelWidth}" y="${y + 3}" width="${(x(secret.ageDays) - labelWidth).toFixed(1)}" height="${rowHeight - 6}" fill="${STATUS_COLOURS[secret.status]}">` +
      `<title>${e(secret.name)}: ${secret.ageDays} days (${e(STATUS_LABELS[secret.status])})</title></rect>` +
      `<text class="bar-value" x="${x(secret.ageDays) + 6}" y="${y + 14}">${secret.ageDays} d${clipped ? ' ›' : ''}</text>` +
      `</g>`
    );
  });
  // The warning line's label sits left of it, the max-age line's right of it, so they never overlap.
  const line = (id: string, days: number, colour: string, label: string, side: 'left' | 'right') =>
    `<line id="${id}" data-days="${days}" x1="${x(days)}" x2="${x(days)}" y1="${top - 14}" y2="${height - 30}" stroke="${colour}" stroke-width="2" stroke-dasharray="6 4" />` +
    `<text class="line-label" x="${x(days) + (side === 'left' ? -4 : 4)}" y="${top - 18}" fill="${colour}" text-anchor="${side === 'left' ? 'end' : 'start'}">${e(label)}</text>`;
  const caption =
    (drawable.length > rows.length
      ? `The ${rows.length} oldest of ${drawable.length} secrets are drawn. `
      : '') +
    (unknown > 0
      ? `${unknown} secret${unknown > 1 ? 's' : ''} of unknown age ${unknown > 1 ? 'are' : 'is'} not drawn. `
      : '') +
    `Ages in days; bars past ${axisMax} days are cut short (›).`;
  return (
    `<figure>` +
    `<svg id="age-chart" xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `data-axis-max="${axisMax}" aria-label="Age of each secret in days against the ${maxAgeDays}-day maximum">` +
    ticks.join('') +
    bars.join('') +
    line(
      'warning-line',
      maxAgeDays - warningDays,
      '#ef6c00',
      `due soon (${maxAgeDays - warningDays} d)`,
      'left',
    ) +
    line('max-age-line', maxAgeDays, '#c62828', `max age (${maxAgeDays} d)`, 'right') +
    `</svg><figcaption>${e(caption)}</figcaption></figure>`
  );
}

function summary(report: ComplianceReport): string {
  const { summary: totals } = report;
  const cards = STATUSES.map(
    (status) =>
      `<div class="card" data-status="${status}" style="border-color:${STATUS_COLOURS[status]}">` +
      `<span class="count">${totals.byStatus[status]}</span><span class="label">${STATUS_LABELS[status]}</span></div>`,
  ).join('');
  const controls = report.controls
    .map(
      (control) =>
        `<tr data-control="${control.id}"><td>${control.id}</td><td>${e(control.title)}</td><td><code>${e(control.configRule)}</code>` +
        `${control.parameter ? ` <code>${e(control.parameter)}</code>` : ''}</td>` +
        `<td class="num ${control.failing > 0 ? 'failing' : ''}">${control.failing}</td></tr>`,
    )
    .join('');
  const findings = Object.entries(totals.findings)
    .filter(([, count]) => count > 0)
    .map(([kind, count]) => `<tr><td>${e(kind)}</td><td class="num">${count}</td></tr>`)
    .join('');
  return (
    `<section id="summary"><h2>Summary</h2><div class="cards">${cards}</div>` +
    `<p>${totals.total} secrets, <strong>${totals.needAttention} need attention</strong>` +
    `${totals.oldest ? `; the oldest credential is <code>${e(totals.oldest.name)}</code> at ${totals.oldest.ageDays} days` : ''}.</p>` +
    `<h3>Controls an auditor would fail</h3><table id="controls-table"><thead><tr><th>Control</th><th>Check</th><th>AWS Config rule</th><th>Secrets failing</th></tr></thead><tbody>${controls}</tbody></table>` +
    (findings
      ? `<h3>Findings</h3><table id="findings-table"><thead><tr><th>Finding</th><th>Secrets</th></tr></thead><tbody>${findings}</tbody></table>`
      : '') +
    `</section>`
  );
}

function table(report: ComplianceReport): string {
  const rows = report.secrets
    .map((s) => {
      const findings = s.findings
        .map((f) => `<li class="severity-${f.severity}"><strong>${e(f.kind)}</strong>: ${e(f.reason)}</li>`)
        .join('');
      return (
        `<tr data-secret="${e(s.name)}" data-status="${s.status}">` +
        `<td><span class="badge" style="background:${STATUS_COLOURS[s.status]}">${STATUS_LABELS[s.status]}</span></td>` +
        `<td class="name" title="${e(s.arn)}">${e(s.name)}</td>` +
        `<td class="num">${s.ageDays ?? '—'}</td><td>${e(s.ageSource ?? '—')}</td><td class="date">${day(s.dueDate)}</td>` +
        `<td class="rotation">${s.owningService ? `managed by ${e(s.owningService)}` : s.rotationEnabled ? `on<br>${e(s.rotationSchedule ?? '?')}<br>${e(shortFunction(s.rotationFunction))}` : 'off'}</td>` +
        `<td>${s.failingControls.map((id) => e(id)).join('<br>') || '—'}</td>` +
        `<td class="findings">${findings ? `<ul>${findings}</ul>` : '—'}</td></tr>`
      );
    })
    .join('');
  return (
    `<section id="secrets"><h2>Secrets</h2><table id="secrets-table"><thead><tr>` +
    `<th>Status</th><th>Secret</th><th>Age (days)</th><th>Age from</th><th>Due</th><th>Rotation</th><th>Failing controls</th><th>Findings</th>` +
    `</tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1c2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}h3{font-size:15px;margin:18px 0 8px}
.meta{color:#5b6675;margin:0}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border-left:6px solid;padding:8px 14px;background:#f5f7fa;min-width:120px}
.card .count{display:block;font-size:24px;font-weight:600}.card .label{color:#5b6675}
table{border-collapse:collapse;width:100%;margin-top:6px}th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e3e7ee}
th{background:#f5f7fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}td.failing{color:#c62828;font-weight:600}
td.name{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;white-space:nowrap}td.date{white-space:nowrap}td.findings{min-width:20em}td.rotation{min-width:12em;max-width:16em;overflow-wrap:anywhere}
.badge{color:#fff;border-radius:3px;padding:1px 6px;white-space:nowrap;font-size:12px}
ul{margin:0;padding-left:18px}li.severity-critical strong{color:#c62828}li.severity-warning strong{color:#ef6c00}li.severity-info strong{color:#546e7a}
figure{margin:0;overflow-x:auto}figcaption{color:#5b6675;font-size:12px}
svg text{font:12px system-ui,sans-serif;fill:#1c2430}svg .tick{stroke:#e3e7ee}svg .tick-label{fill:#5b6675}svg .line-label{font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
`;

/** Renders the report as a self-contained HTML page. */
export function renderHtml(report: ComplianceReport): string {
  const title = `Secrets rotation compliance: ${report.environment}, ${report.generatedAt.slice(0, 10)}`;
  const { policy } = report;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${e(title)}</h1>
<p class="meta">Generated ${e(report.generatedAt)} for ${report.managedPrefixes.map((p) => `<code>${e(p)}</code>`).join(', ')}.
Policy: max age ${policy.maxAgeDays} days, due soon in the last ${policy.warningDays}, rotation every ${policy.scheduleDays} days, unused after ${policy.unusedDays} days.</p></header>
${summary(report)}
<section id="chart"><h2>Age of each credential</h2>${chart(report)}</section>
${table(report)}
</body>
</html>
`;
}
