export { ALERT_SECRET_LIMIT, alertMessage } from './alert.js';
export { parseCsv, renderCsv } from './csv.js';
export { ensureLocalDestinations, topicArnFor } from './destinations.js';
export { ReportDeliveryError, ReportFormatError } from './errors.js';
export { CHART_LIMIT, escapeHtml, renderHtml } from './html.js';
export { type ReportJobDependencies, type ReportJobResult, reportKey, runComplianceReport } from './job.js';
export {
  assembleReport,
  buildReport,
  type ComplianceReport,
  compareRows,
  REPORT_SCHEMA_VERSION,
  type ReportControl,
  type ReportSecret,
  renderJson,
} from './model.js';
export { InvalidReportRequestError, parseReportRequest } from './request.js';
export { renderTable } from './table.js';
