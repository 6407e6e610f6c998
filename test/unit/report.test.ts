import { describe, expect, it } from 'vitest';
import {
  DAY_MS,
  defaultPolicySettings,
  type FleetEntry,
  type SecretMetadata,
} from '../../shared/policy/index.js';
import {
  alertMessage,
  assembleReport,
  buildReport,
  parseCsv,
  ReportFormatError,
  renderCsv,
  renderHtml,
  renderJson,
  renderTable,
} from '../../shared/report/index.js';

const NOW = new Date('2026-06-15T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const settings = defaultPolicySettings('production', {
  rotationFunctions: { 'production/database/': 'rotateDatabase', 'production/api-keys/': 'rotateApiKey' },
});

function entry(
  name: string,
  overrides: Partial<SecretMetadata>,
  rotatedAt?: Date | 'unreadable',
): FleetEntry {
  return {
    secret: {
      arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
      name,
      createdDate: daysAgo(20),
      lastAccessedDate: daysAgo(1),
      rotationEnabled: true,
      rotationLambdaArn: `arn:aws:lambda:us-east-1:123456789012:function:${name.includes('database') ? 'rotateDatabase' : 'rotateApiKey'}`,
      rotationRules: { automaticallyAfterDays: 75 },
      tags: {},
      versions: { v1: ['AWSCURRENT'] },
      ...overrides,
    },
    rotatedAt:
      rotatedAt === 'unreadable'
        ? {
            state: 'unreadable',
            errorCode: 'AccessDeniedException',
            message: 'User: arn:aws:sts::1:assumed-role/r is not authorized',
          }
        : rotatedAt
          ? { state: 'found', date: rotatedAt }
          : { state: 'absent', detail: 'the value has no rotated_at' },
  };
}

/** A fleet with every status, findings whose reasons hold commas and quotes, and hostile tag values. */
const FLEET: FleetEntry[] = [
  entry('production/api-keys/resend', {}, daysAgo(10)),
  entry('production/api-keys/aws', {}, daysAgo(80)),
  entry(
    'production/database/primary',
    { rotationEnabled: false, rotationLambdaArn: undefined, rotationRules: undefined },
    daysAgo(200),
  ),
  entry('production/api-keys/google', {}),
  entry('production/api-keys/clerk', { versions: { v1: ['AWSCURRENT'], v0: ['AWSPREVIOUS'] } }, 'unreadable'),
  entry(
    'production/database/replica',
    { tags: { 'rotation-window': '<script>alert("x")</script>, "quoted"' } },
    daysAgo(5),
  ),
];

describe('buildReport', () => {
  it('orders secrets worst first and counts them by status and control', () => {
    // Act
    const report = buildReport(FLEET, settings, NOW);

    // Assess
    expect(report.secrets.map((s) => s.status)).toEqual([
      'overdue',
      'never-rotated',
      'unknown',
      'due-soon',
      'compliant',
      'compliant',
    ]);
    expect(report.summary.byStatus).toEqual({
      overdue: 1,
      'never-rotated': 1,
      unknown: 1,
      'due-soon': 1,
      compliant: 2,
    });
    expect(report.controls.map((c) => [c.id, c.failing, c.parameter])).toEqual([
      ['SecretsManager.1', 1, 'maximumAllowedRotationFrequency=90'],
      ['SecretsManager.2', 0, null],
      ['SecretsManager.3', 0, 'unusedForDays=90'],
      ['SecretsManager.4', 0, 'maxDaysSinceRotation=90'],
    ]);
  });
});

describe('renderCsv and parseCsv', () => {
  it('parse back to the JSON report rows, and the rows add up to the same summary', () => {
    // Prepare
    const report = buildReport(FLEET, settings, NOW);

    // Act
    const rows = parseCsv(renderCsv(report.secrets));

    // Assess
    expect(rows).toEqual(JSON.parse(renderJson(report)).secrets);
    expect(assembleReport(rows, settings, NOW).summary).toEqual(report.summary);
  });

  it('quotes commas, quotes and line breaks, and defuses text a spreadsheet would run as a formula', () => {
    // Prepare
    const [row] = buildReport([entry('production/api-keys/resend', {}, daysAgo(10))], settings, NOW).secrets;
    const hostile = {
      ...(row as NonNullable<typeof row>),
      name: '=HYPERLINK("http://evil.example","click")',
      managedPrefix: "'quoted",
      rotationSchedule: '@SUM(1+1), "x"\nnext',
      owningService: '-2+3',
    };

    // Act
    const csv = renderCsv([hostile]);

    // Assess
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csv).not.toMatch(/(^|,)=HYPERLINK/m);
    expect(parseCsv(csv)).toEqual([hostile]);
  });

  it('refuses a CSV whose header or cells do not fit, naming where', () => {
    // Prepare
    const csv = renderCsv(buildReport(FLEET, settings, NOW).secrets);

    // Act / Assess
    expect(() => parseCsv(csv.replace('ageDays', 'age'))).toThrow(ReportFormatError);
    expect(() => parseCsv(csv.replace(',compliant,', ',fine,'))).toThrow(/row \d+, status: unknown status/);
    expect(() => parseCsv(`${csv}"unterminated`)).toThrow(/ends inside a quoted cell/);
  });
});

describe('renderHtml', () => {
  it('is self-contained: no script, no external reference, and a policy that forbids fetching', () => {
    // Act
    const html = renderHtml(buildReport(FLEET, settings, NOW));

    // Assess
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    expect(html).not.toMatch(/<script|\bsrc=|\bhref=|url\(|@import/i);
    expect(html.match(/https?:\/\/[^\s"'<]+/g)).toEqual(['http://www.w3.org/2000/svg']);
  });

  it('escapes every name and reason, so a tag value cannot inject markup', () => {
    // Act
    const html = renderHtml(buildReport(FLEET, settings, NOW));

    // Assess
    expect(html).toContain('&lt;script&gt;alert(\\&quot;x\\&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert');
  });

  it('draws one bar per secret of known age against the max-age and warning lines', () => {
    // Act
    const html = renderHtml(buildReport(FLEET, settings, NOW));

    // Assess
    const bars = [
      ...html.matchAll(/<rect class="bar status-([a-z-]+)" data-secret="([^"]+)" data-age-days="(\d+)"/g),
    ];
    expect(bars.map((b) => [b[2], Number(b[3]), b[1]])).toEqual([
      ['production/database/primary', 200, 'overdue'],
      ['production/api-keys/aws', 80, 'due-soon'],
      ['production/api-keys/google', 20, 'never-rotated'],
      ['production/api-keys/resend', 10, 'compliant'],
      ['production/database/replica', 5, 'compliant'],
    ]);
    expect(html).toMatch(/<line id="max-age-line" data-days="90"/);
    expect(html).toMatch(/<line id="warning-line" data-days="76"/);
    expect(html).toContain('1 secret of unknown age is not drawn.');
  });
});

describe('renderTable', () => {
  it('prints one line per secret, the totals, and every finding with its reason', () => {
    // Act
    const table = renderTable(buildReport(FLEET, settings, NOW));

    // Assess
    const lines = table.split('\n');
    expect(lines[3]).toMatch(/^STATUS\s+AGE\s+DUE\s+SECRET\s+ROTATION\s+FAILING\s+FINDINGS$/);
    expect(lines[4]).toMatch(
      /^overdue\s+200d\s+2026-02-25\s+production\/database\/primary\s+off\s+SM\.1\s+rotation-not-enabled$/,
    );
    expect(table).toContain(
      '6 secrets, 5 need attention: overdue 1, never-rotated 1, unknown 1, due-soon 1, compliant 2',
    );
    expect(table).toMatch(
      / {4}critical value-unreadable: AWSCURRENT could not be read .*AccessDeniedException/,
    );
  });
});

describe('alertMessage', () => {
  it('says nothing when every secret is compliant', () => {
    expect(
      alertMessage(
        buildReport([entry('production/api-keys/resend', {}, daysAgo(10))], settings, NOW),
        's3://b/k.html',
      ),
    ).toBeUndefined();
  });

  it('names the secrets that need attention, their first finding, and where the report is', () => {
    // Act
    const alert = alertMessage(
      buildReport(FLEET, settings, NOW),
      's3://reports/compliance-reports/2026-06-15/production-120000Z.html',
    );

    // Assess
    expect(alert?.subject).toBe('Secrets compliance (production): 5 of 6 secrets need attention');
    expect(alert?.message).toContain(
      '- production/database/primary: overdue, 200 days, fails SecretsManager.1; rotation-not-enabled: automatic rotation is off',
    );
    expect(alert?.message).toMatch(
      /Full report: s3:\/\/reports\/compliance-reports\/2026-06-15\/production-120000Z\.html$/,
    );
  });
});
