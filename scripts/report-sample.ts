/**
 * Renders the README's sample of the HTML compliance report (docs/report-sample.png): the
 * real renderer on a small fleet, one secret per status, opened in headless Chromium.
 * `npx tsx scripts/report-sample.ts` (needs Debian's chromium, or CHROMIUM_PATH).
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY_MS, defaultPolicySettings, type FleetEntry } from '../shared/policy/index.js';
import { buildReport, renderHtml } from '../shared/report/index.js';
import { findChromium, openInChromium } from '../test/support/chromium.js';

const NOW = new Date('2026-11-30T06:00:00Z');
const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const ours = (fn: string) =>
  `arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-${fn}`;

const fleet: FleetEntry[] = [
  {
    secret: {
      arn: arn('production/database/primary'),
      name: 'production/database/primary',
      createdDate: ago(400),
      lastAccessedDate: ago(1),
      rotationEnabled: false,
      tags: {},
      versions: { v1: ['AWSCURRENT'] },
    },
    rotatedAt: { state: 'found', date: ago(200) },
  },
  {
    secret: {
      arn: arn('production/api-keys/google'),
      name: 'production/api-keys/google',
      createdDate: ago(95),
      lastAccessedDate: ago(1),
      rotationEnabled: true,
      rotationLambdaArn: ours('rotateApiKey'),
      rotationRules: { automaticallyAfterDays: 75 },
      nextRotationDate: ago(20),
      tags: { 'rotation-provider': 'google' },
      versions: { v1: ['AWSCURRENT'] },
    },
    rotatedAt: { state: 'absent', detail: 'no rotated_at field' },
  },
  {
    secret: {
      arn: arn('production/api-keys/aws'),
      name: 'production/api-keys/aws',
      createdDate: ago(300),
      lastRotatedDate: ago(80),
      lastAccessedDate: ago(1),
      rotationEnabled: true,
      rotationLambdaArn: ours('rotateApiKey'),
      rotationRules: { automaticallyAfterDays: 90 },
      nextRotationDate: ago(-10),
      tags: { 'rotation-provider': 'aws' },
      versions: { v1: ['AWSCURRENT'] },
    },
    rotatedAt: { state: 'found', date: ago(80) },
  },
  {
    secret: {
      arn: arn('production/api-keys/resend'),
      name: 'production/api-keys/resend',
      createdDate: ago(300),
      lastRotatedDate: ago(10),
      lastAccessedDate: ago(1),
      rotationEnabled: true,
      rotationLambdaArn: ours('rotateApiKey'),
      rotationRules: { automaticallyAfterDays: 75 },
      nextRotationDate: ago(-65),
      tags: { 'rotation-provider': 'resend' },
      versions: { v1: ['AWSCURRENT'] },
    },
    rotatedAt: { state: 'found', date: ago(10) },
  },
  {
    secret: {
      arn: arn('production/api-keys/clerk'),
      name: 'production/api-keys/clerk',
      createdDate: ago(120),
      lastRotatedDate: ago(100),
      lastAccessedDate: ago(1),
      rotationEnabled: true,
      rotationLambdaArn: ours('rotateApiKey'),
      rotationRules: { automaticallyAfterDays: 75 },
      nextRotationDate: ago(25),
      tags: { 'rotation-provider': 'clerk' },
      versions: { v1: ['AWSCURRENT'] },
    },
    rotatedAt: {
      state: 'unreadable',
      errorCode: 'AccessDeniedException',
      message: 'not authorized to perform secretsmanager:GetSecretValue',
    },
  },
];

const chromium = findChromium();
if (!chromium) throw new Error('Chromium is required: apt-get install chromium');
const dir = await mkdtemp(join(tmpdir(), 'report-sample-'));
try {
  const html = join(dir, 'report.html');
  await writeFile(html, renderHtml(buildReport(fleet, defaultPolicySettings('production'), NOW)));
  const { screenshot } = await openInChromium(chromium, html, { width: 1280, height: 1100 });
  await copyFile(screenshot, 'docs/report-sample.png');
  process.stdout.write('docs/report-sample.png\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
