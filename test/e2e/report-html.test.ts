import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, defaultPolicySettings, type FleetEntry } from '../../shared/policy/index.js';
import { buildReport, renderHtml } from '../../shared/report/index.js';
import { findChromium, openInChromium } from '../support/chromium.js';
import { countColour, readPng } from '../support/png.js';

const chromium = findChromium();
const runs = chromium !== undefined || Boolean(process.env.CI);
if (!runs)
  console.warn(
    'report-html.test.ts: SKIPPED: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH); on CI this test runs and fails instead',
  );

const NOW = new Date('2026-06-15T12:00:00Z');
const settings = defaultPolicySettings('production');
const fleet: FleetEntry[] = [
  ['production/database/primary', 200],
  ['production/api-keys/aws', 80],
  ['production/api-keys/resend', 40],
  ['production/api-keys/google', 10],
].map(([name, days]) => ({
  secret: {
    arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`,
    name: name as string,
    createdDate: new Date(NOW.getTime() - 30 * DAY_MS),
    lastAccessedDate: NOW,
    rotationEnabled: false,
    tags: {},
    versions: { v1: ['AWSCURRENT'] },
  },
  rotatedAt: { state: 'found', date: new Date(NOW.getTime() - (days as number) * DAY_MS) },
}));

describe.skipIf(!runs)('the HTML report in headless Chromium', () => {
  let dir: string;
  let dom: string;
  let screenshot: string;
  let unpainted: string;

  beforeAll(async () => {
    if (!chromium) throw new Error('Chromium is required on CI: apt-get install chromium');
    dir = await mkdtemp(join(tmpdir(), 'report-html-'));
    const html = renderHtml(buildReport(fleet, settings, NOW));
    await writeFile(join(dir, 'report.html'), html);
    ({ dom, screenshot } = await openInChromium(chromium, join(dir, 'report.html')));
    // The same page with the bars left unpainted: what the badges, cards and lines alone hold.
    await writeFile(
      join(dir, 'control.html'),
      html.replace(/(<rect class="bar[^>]*) fill="#[0-9a-f]{6}"/g, '$1 fill="none"'),
    );
    ({ screenshot: unpainted } = await openInChromium(chromium, join(dir, 'control.html')));
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('parses the chart as SVG: one bar per secret, in proportion to its age, and the 90-day line', () => {
    // Assess
    const svg = /<svg id="age-chart"[^>]*data-axis-max="(\d+)"[^>]*>([\s\S]*?)<\/svg>/.exec(dom);
    expect(svg).not.toBeNull();
    const axisMax = Number(svg?.[1]);
    const bars = [
      ...(svg?.[2] ?? '').matchAll(
        /<rect class="bar[^"]*" data-secret="([^"]+)" data-age-days="(\d+)"[^>]* x="(\d+)"[^>]* width="([\d.]+)"/g,
      ),
    ];
    expect(bars.map((b) => [b[1], Number(b[2])])).toEqual([
      ['production/database/primary', 200],
      ['production/api-keys/aws', 80],
      ['production/api-keys/resend', 40],
      ['production/api-keys/google', 10],
    ]);
    for (const bar of bars) expect(Number(bar[4])).toBeCloseTo((Number(bar[2]) / axisMax) * 560, 0);
    const left = Number(bars[0]?.[3]);
    const maxAgeLine = /<line id="max-age-line" data-days="90" x1="([\d.]+)"/.exec(svg?.[2] ?? '');
    expect(Number(maxAgeLine?.[1])).toBeCloseTo(left + (90 / axisMax) * 560, 0);
  });

  it('parses the table: one row per secret, worst first, with its status', () => {
    // Assess
    const rows = [...dom.matchAll(/<tr data-secret="([^"]+)" data-status="([^"]+)">/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(rows).toEqual([
      ['production/database/primary', 'overdue'],
      ['production/api-keys/aws', 'due-soon'],
      ['production/api-keys/resend', 'compliant'],
      ['production/api-keys/google', 'compliant'],
    ]);
    expect(dom).toMatch(
      /<tr data-control="SecretsManager.1"><td>SecretsManager.1<\/td>[\s\S]*?<td class="num failing">4<\/td>/,
    );
  });

  it('paints the bars: the overdue bar red, the due-soon bar orange, the compliant ones green, each its full size', () => {
    // Prepare
    const [painted, control] = [readPng(screenshot), readPng(unpainted)];
    const barArea = (secrets: string[]) =>
      [...dom.matchAll(/<rect class="bar[^"]*" data-secret="([^"]+)"[^>]* width="([\d.]+)" height="(\d+)"/g)]
        .filter((bar) => secrets.includes(bar[1] ?? ''))
        .reduce((sum, bar) => sum + Number(bar[2]) * Number(bar[3]), 0);
    const added = (hex: string) => countColour(painted, hex) - countColour(control, hex);

    // Assess
    expect(painted.width).toBe(1280);
    expect(added('#c62828')).toBeGreaterThan(0.9 * barArea(['production/database/primary']));
    expect(added('#ef6c00')).toBeGreaterThan(0.9 * barArea(['production/api-keys/aws']));
    expect(added('#2e7d32')).toBeGreaterThan(
      0.9 * barArea(['production/api-keys/resend', 'production/api-keys/google']),
    );
  });
});
