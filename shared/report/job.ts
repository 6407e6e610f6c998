/**
 * The compliance report job: reads the fleet, evaluates it, writes the report to S3 under a
 * dated key as JSON, CSV and HTML, publishes a short summary to SNS when any secret needs
 * attention, records the fleet metrics, and returns the summary.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type FleetCalls, readFleet } from '../fleet/index.js';
import { awsErrorText } from '../logging/aws-error.js';
import type { Logger } from '../logging/index.js';
import { type Metrics, recordFleetMetrics } from '../metrics/index.js';
import type { FleetSummary, PolicySettings } from '../policy/index.js';
import { alertMessage } from './alert.js';
import { renderCsv } from './csv.js';
import { ReportDeliveryError } from './errors.js';
import { renderHtml } from './html.js';
import { buildReport, type ComplianceReport, renderJson } from './model.js';

/** What the job is built from; the handler passes the deployed clients, tests their own. */
export interface ReportJobDependencies {
  /** A fleet client (`createFleetClient`): adaptive retry, quota limiter. */
  readonly secretsManager: SecretsManagerClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly settings: PolicySettings;
  readonly bucket: string;
  /** Key prefix, ending in `/`. */
  readonly prefix: string;
  readonly alertTopicArn: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => Date;
}

/** What the job returns to its caller (and logs). */
export interface ReportJobResult {
  readonly generatedAt: string;
  readonly environment: string;
  readonly summary: FleetSummary;
  /** `s3://bucket/key` of each file. */
  readonly reports: { readonly json: string; readonly csv: string; readonly html: string };
  /** True when the summary was published to the alert topic. */
  readonly alerted: boolean;
  readonly calls: FleetCalls;
}

/** The dated key of the report files without extension: `{prefix}YYYY-MM-DD/{environment}-HHMMSSZ`. */
export function reportKey(prefix: string, environment: string, generatedAt: Date): string {
  const iso = generatedAt.toISOString();
  return `${prefix}${iso.slice(0, 10)}/${environment}-${iso.slice(11, 19).replaceAll(':', '')}Z`;
}

/** Runs the report once. @throws {FleetReadError} or {ReportDeliveryError} */
export async function runComplianceReport(deps: ReportJobDependencies): Promise<ReportJobResult> {
  const { logger, settings } = deps;
  const now = deps.now?.() ?? new Date();
  const fleet = await readFleet(deps.secretsManager, settings, { now });
  logger.info('fleet read', { secrets: fleet.entries.length, calls: fleet.calls });
  const report: ComplianceReport = buildReport(fleet.entries, settings, now);

  const key = reportKey(deps.prefix, settings.environment, now);
  const files = [
    ['json', renderJson(report), 'application/json'],
    ['csv', renderCsv(report.secrets), 'text/csv; charset=utf-8'],
    ['html', renderHtml(report), 'text/html; charset=utf-8'],
  ] as const;
  await Promise.all(
    files.map(async ([extension, body, contentType]) => {
      try {
        await deps.s3.send(
          new PutObjectCommand({
            Bucket: deps.bucket,
            Key: `${key}.${extension}`,
            Body: body,
            ContentType: contentType,
          }),
        );
      } catch (error) {
        throw new ReportDeliveryError(
          `could not write s3://${deps.bucket}/${key}.${extension}: ${awsErrorText(error)}`,
          { cause: error },
        );
      }
    }),
  );
  const location = (extension: string) => `s3://${deps.bucket}/${key}.${extension}`;
  const reports = { json: location('json'), csv: location('csv'), html: location('html') };
  logger.info('report written', {
    ...reports,
    total: report.summary.total,
    needAttention: report.summary.needAttention,
  });

  const alert = alertMessage(report, reports.html);
  if (alert) {
    try {
      await deps.sns.send(
        new PublishCommand({ TopicArn: deps.alertTopicArn, Subject: alert.subject, Message: alert.message }),
      );
    } catch (error) {
      throw new ReportDeliveryError(
        `could not publish the report's alert to ${deps.alertTopicArn}: ${awsErrorText(error)}`,
        { cause: error },
      );
    }
    logger.info('alert published', {
      topicArn: deps.alertTopicArn,
      needAttention: report.summary.needAttention,
    });
  }
  if (deps.metrics) recordFleetMetrics(deps.metrics, report.summary);

  return {
    generatedAt: report.generatedAt,
    environment: report.environment,
    summary: report.summary,
    reports,
    alerted: alert !== undefined,
    calls: fleet.calls,
  };
}
