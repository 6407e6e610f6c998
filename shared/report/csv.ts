/**
 * The report's rows as CSV (RFC 4180, CRLF, a header row), and back. One column per row
 * field; `failingControls` joined with `;`; `findings` one per line inside the cell as
 * `<severity> <kind>: <reason>`. Text that a spreadsheet would run as a formula (starting
 * with = + - @, a tab or a carriage return) is prefixed with `'`, which reading removes again.
 */
import { CONTROLS, type ControlId, FindingKind, Severity, STATUSES } from '../policy/index.js';
import { ReportFormatError } from './errors.js';
import type { ReportSecret } from './model.js';

type ColumnType = 'text' | 'number' | 'boolean' | 'controls' | 'findings';

/** The columns, in order: every field of {@link ReportSecret}. */
const COLUMNS: readonly (readonly [keyof ReportSecret, ColumnType])[] = [
  ['name', 'text'],
  ['arn', 'text'],
  ['managedPrefix', 'text'],
  ['status', 'text'],
  ['ageDays', 'number'],
  ['ageSource', 'text'],
  ['since', 'text'],
  ['lastRotatedDate', 'text'],
  ['rotatedAt', 'text'],
  ['createdDate', 'text'],
  ['lastAccessedDate', 'text'],
  ['nextRotationDate', 'text'],
  ['dueDate', 'text'],
  ['daysUntilDue', 'number'],
  ['maxAgeDays', 'number'],
  ['warningDays', 'number'],
  ['rotationEnabled', 'boolean'],
  ['rotationFunction', 'text'],
  ['rotationSchedule', 'text'],
  ['owningService', 'text'],
  ['pendingVersion', 'text'],
  ['failingControls', 'controls'],
  ['findings', 'findings'],
];

const FORMULA_START = /^[=+\-@\t\r']/;
const quote = (cell: string) => (/[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell);

function encode(value: ReportSecret[keyof ReportSecret], type: ColumnType): string {
  if (value === null) return '';
  switch (type) {
    case 'number':
    case 'boolean':
      return String(value);
    case 'controls':
      return (value as readonly ControlId[]).join(';');
    case 'findings':
      return (value as ReportSecret['findings'])
        .map((f) => `${f.severity} ${f.kind}: ${f.reason.replace(/[\r\n]+/g, ' ')}`)
        .join('\n');
    case 'text': {
      const text = String(value);
      return FORMULA_START.test(text) ? `'${text}` : text;
    }
  }
}

/** Renders the rows as CSV. */
export function renderCsv(secrets: readonly ReportSecret[]): string {
  const lines = [COLUMNS.map(([key]) => key).join(',')];
  for (const secret of secrets)
    lines.push(COLUMNS.map(([key, type]) => quote(encode(secret[key], type))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Splits CSV text into rows of cells (RFC 4180: quoted cells may hold commas, quotes and line breaks). */
function cells(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
    i++;
  }
  if (quoted) throw new ReportFormatError('the CSV ends inside a quoted cell');
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

const FINDING_LINE = /^(\w+) ([a-z-]+): (.*)$/;

function decode(cell: string, type: ColumnType, where: string): ReportSecret[keyof ReportSecret] {
  if (cell === '') return type === 'controls' || type === 'findings' ? [] : null;
  switch (type) {
    case 'number': {
      if (!/^-?\d+$/.test(cell)) throw new ReportFormatError(`${where}: not a whole number`);
      return Number(cell);
    }
    case 'boolean':
      if (cell !== 'true' && cell !== 'false') throw new ReportFormatError(`${where}: not true or false`);
      return cell === 'true';
    case 'controls': {
      const ids = cell.split(';');
      const known = CONTROLS.map((control) => control.id as string);
      if (ids.some((id) => !known.includes(id))) throw new ReportFormatError(`${where}: unknown control`);
      return ids as ControlId[];
    }
    case 'findings':
      return cell.split('\n').map((line) => {
        const match = FINDING_LINE.exec(line);
        const severity = match?.[1] as Severity;
        const kind = match?.[2] as FindingKind;
        if (
          !match ||
          !Object.values(Severity).includes(severity) ||
          !Object.values(FindingKind).includes(kind)
        )
          throw new ReportFormatError(`${where}: not "<severity> <kind>: <reason>"`);
        return { kind, severity, reason: match[3] ?? '' };
      });
    case 'text':
      return cell.startsWith("'") ? cell.slice(1) : cell;
  }
}

/**
 * Reads CSV written by {@link renderCsv} back into report rows.
 * @throws {ReportFormatError} naming the row and column that do not fit.
 */
export function parseCsv(text: string): ReportSecret[] {
  const [header, ...rows] = cells(text);
  const expected = COLUMNS.map(([key]) => key);
  if (!header || header.join(',') !== expected.join(','))
    throw new ReportFormatError(`the CSV header must be ${expected.join(',')}`);
  return rows.map((row, index) => {
    if (row.length !== COLUMNS.length)
      throw new ReportFormatError(`row ${index + 2}: ${row.length} cells, expected ${COLUMNS.length}`);
    const secret = Object.fromEntries(
      COLUMNS.map(([key, type], column) => [
        key,
        decode(row[column] ?? '', type, `row ${index + 2}, ${key}`),
      ]),
    ) as unknown as ReportSecret;
    if (!STATUSES.includes(secret.status))
      throw new ReportFormatError(`row ${index + 2}, status: unknown status`);
    return secret;
  });
}
