/**
 * What only a person can do for a secret: stage a key no API issues (Clerk's secret key,
 * Google's reCAPTCHA secret), revoke a superseded key only a dashboard deletes (Clerk), or
 * rotate a secret tagged `rotation-mode=manual`.
 */
import { STAGED_LABEL } from '../api-keys/staged.js';
import { Stage } from '../rotation/constants.js';
import { DAY_MS, FindingKind, PolicyTag, Severity, Status } from './constants.js';
import type { Finding } from './finding.js';
import { day } from './format.js';
import type { EffectivePolicy } from './overrides.js';
import type { SecretMetadata } from './secret.js';
import { apiKeysPrefix, type PolicySettings } from './settings.js';

/** The API-key provider of a secret: its `rotation-provider` tag, else the last part of an api-keys name. */
export function providerOf(secret: SecretMetadata, settings: PolicySettings): string | undefined {
  const tagged = secret.tags[PolicyTag.PROVIDER]?.trim();
  if (tagged) return tagged;
  return secret.name.startsWith(apiKeysPrefix(settings.environment))
    ? secret.name.split('/').at(-1)
    : undefined;
}

/**
 * The `manual-action-required` findings, and whether a rotation cannot even start without a
 * person (a required staged value is missing). A person is asked to stage a value once a
 * rotation is near: the secret is due (or past due), or Secrets Manager's next rotation falls
 * within the warning window.
 */
export function checkPersonActions(
  secret: SecretMetadata,
  policy: EffectivePolicy,
  settings: PolicySettings,
  status: Status,
  since: Date | undefined,
  now: Date,
): { findings: Finding[]; stagedValueMissing: boolean } {
  const findings: Finding[] = [];
  const add = (reason: string) =>
    findings.push({ kind: FindingKind.MANUAL_ACTION_REQUIRED, severity: Severity.WARNING, reason });
  const provider = providerOf(secret, settings);
  const staged = provider ? settings.stagedValueProviders[provider] : undefined;
  const stagedMissing =
    staged !== undefined && !Object.values(secret.versions).some((stages) => stages.includes(STAGED_LABEL));
  const next = secret.nextRotationDate;
  const rotationNear =
    status !== Status.COMPLIANT ||
    (next !== undefined && next.getTime() - now.getTime() <= policy.warningDays * DAY_MS);
  const by = next && next.getTime() > now.getTime() ? ` (next rotation by ${day(next)})` : '';
  if (staged && stagedMissing && rotationNear)
    add(
      staged.required
        ? `${provider} issues ${staged.fields.join(', ')} only to a person: stage the new value as a version labelled ${STAGED_LABEL}${by} ` +
            `(aws secretsmanager put-secret-value --secret-id ${secret.name} --secret-string file://new-key.json --version-stages ${STAGED_LABEL}), then rotate; until then every rotation fails`
        : `${staged.fields.join(', ')} changes only when a new value is staged (label ${STAGED_LABEL}): stage one before the next rotation${by}, or it is carried over and keeps its age`,
    );

  const previous = Object.entries(secret.versions).find(([, stages]) => stages.includes(Stage.PREVIOUS))?.[0];
  if (
    provider &&
    previous &&
    settings.manualRevocationProviders.includes(provider) &&
    secret.tags[PolicyTag.PREVIOUS_REVOKED]?.trim() !== previous
  )
    add(
      `only a person can revoke the superseded ${provider} key (version ${previous}, AWSPREVIOUS): delete it in ${provider}'s dashboard once its grace period has passed, ` +
        `then tag the secret ${PolicyTag.PREVIOUS_REVOKED}=${previous}`,
    );

  if (policy.mode === 'manual' && status !== Status.COMPLIANT)
    add(
      `a person rotates this secret (${PolicyTag.MODE}=manual) and it is ${status}: rotate it` +
        (since ? ` (due ${day(new Date(since.getTime() + policy.maxAgeDays * DAY_MS))})` : ''),
    );
  return { findings, stagedValueMissing: stagedMissing && staged?.required === true };
}
