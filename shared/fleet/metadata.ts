import type {
  DescribeSecretCommandOutput,
  RotationRulesType,
  SecretListEntry,
} from '@aws-sdk/client-secrets-manager';
import type { RotationRules, SecretMetadata } from '../policy/index.js';
import { stagesByVersion, tagsByKey } from '../rotation/secret-store.js';
import { FleetReadError } from './errors.js';

/** A `ListSecrets` entry as the policy model reads it. */
export function toSecretMetadata(entry: SecretListEntry): SecretMetadata {
  if (!entry.ARN || !entry.Name)
    throw new FleetReadError('ListSecrets returned an entry without ARN or Name');
  const tags = tagsByKey(entry.Tags);
  const versions = stagesByVersion(entry.SecretVersionsToStages);
  const rules = entry.RotationRules;
  const rotationRules = rules && {
    ...(rules.AutomaticallyAfterDays ? { automaticallyAfterDays: rules.AutomaticallyAfterDays } : {}),
    ...(rules.ScheduleExpression ? { scheduleExpression: rules.ScheduleExpression } : {}),
    ...(rules.Duration ? { duration: rules.Duration } : {}),
  };
  return {
    arn: entry.ARN,
    name: entry.Name,
    rotationEnabled: entry.RotationEnabled === true,
    tags,
    versions,
    ...(entry.CreatedDate ? { createdDate: entry.CreatedDate } : {}),
    ...(entry.LastRotatedDate ? { lastRotatedDate: entry.LastRotatedDate } : {}),
    ...(entry.LastChangedDate ? { lastChangedDate: entry.LastChangedDate } : {}),
    ...(entry.LastAccessedDate ? { lastAccessedDate: entry.LastAccessedDate } : {}),
    ...(entry.NextRotationDate ? { nextRotationDate: entry.NextRotationDate } : {}),
    ...(entry.RotationLambdaARN ? { rotationLambdaArn: entry.RotationLambdaARN } : {}),
    ...(rotationRules && Object.keys(rotationRules).length > 0 ? { rotationRules } : {}),
    ...(entry.OwningService ? { owningService: entry.OwningService } : {}),
  };
}

/** A `DescribeSecret` answer as the policy model reads it (the same fields as a `ListSecrets` entry). */
export function describedSecretMetadata(out: DescribeSecretCommandOutput): SecretMetadata {
  return toSecretMetadata({ ...out, SecretVersionsToStages: out.VersionIdsToStages });
}

/** Rotation rules as `RotateSecret` takes them (`RotationRules`). */
export function toRotationRulesType(rules: RotationRules): RotationRulesType {
  return {
    ...(rules.automaticallyAfterDays !== undefined
      ? { AutomaticallyAfterDays: rules.automaticallyAfterDays }
      : {}),
    ...(rules.scheduleExpression !== undefined ? { ScheduleExpression: rules.scheduleExpression } : {}),
    ...(rules.duration !== undefined ? { Duration: rules.duration } : {}),
  };
}
