import { describe, expect, it } from 'vitest';
import {
  ControlId,
  DAY_MS,
  defaultPolicySettings,
  evaluateSecret,
  FindingKind,
  type FleetEntry,
  HOUR_MS,
  InvalidPolicySettingsError,
  InvalidScheduleError,
  isInsideRotationWindow,
  needsRotatedAt,
  parseRotatedAt,
  parseWindowTag,
  type RotatedAtEvidence,
  type SecretMetadata,
  Status,
  scheduleIntervalDays,
  summarizeFleet,
} from '../../shared/policy/index.js';

const NOW = new Date('2026-06-15T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const settings = defaultPolicySettings('production', {
  rotationFunctions: {
    'production/database/':
      'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateDatabase',
    'production/api-keys/': 'secrets-rotation-production-rotateApiKey',
  },
});
const OUR_DB_FUNCTION =
  'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateDatabase';

function secret(overrides: Partial<SecretMetadata> = {}): SecretMetadata {
  return {
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/primary-AbCdEf',
    name: 'production/database/primary',
    createdDate: daysAgo(30),
    lastAccessedDate: daysAgo(1),
    rotationEnabled: true,
    rotationLambdaArn: OUR_DB_FUNCTION,
    rotationRules: { automaticallyAfterDays: 75 },
    nextRotationDate: new Date(NOW.getTime() + 30 * DAY_MS),
    tags: {},
    versions: { v1: ['AWSCURRENT'] },
    ...overrides,
  };
}
const found = (date: Date): RotatedAtEvidence => ({ state: 'found', date });
const entry = (
  meta: SecretMetadata,
  rotatedAt: RotatedAtEvidence = { state: 'not-read' },
  extra = {},
): FleetEntry => ({
  secret: meta,
  rotatedAt,
  ...extra,
});
const kinds = (evaluation: { findings: readonly { kind: string }[] }) =>
  evaluation.findings.map((f) => f.kind);

describe('defaultPolicySettings', () => {
  it('defaults to 90 days max age, 14 days warning, rotation every 75 days and the two seed prefixes', () => {
    // Act
    const defaults = defaultPolicySettings('staging');

    // Assess
    expect(defaults).toMatchObject({ maxAgeDays: 90, warningDays: 14, scheduleDays: 75, unusedDays: 90 });
    expect(defaults.managedPrefixes).toEqual(['staging/database/', 'staging/api-keys/']);
  });

  it('throws an InvalidPolicySettingsError when the schedule leaves no warning window for retries', () => {
    // Act / Assess
    expect(() => defaultPolicySettings('production', { scheduleDays: 80 })).toThrow(
      InvalidPolicySettingsError,
    );
    expect(() => defaultPolicySettings('production', { scheduleDays: 80 })).toThrow(
      /scheduleDays must be an integer from 1 to 76/,
    );
  });

  it('throws when a rotation function names a prefix that is not managed', () => {
    expect(() =>
      defaultPolicySettings('production', { rotationFunctions: { 'staging/database/': 'f' } }),
    ).toThrow(/not a managed prefix/);
  });
});

describe('parseRotatedAt', () => {
  it('finds an ISO 8601 rotated_at and keeps nothing else of the value', () => {
    // Act
    const evidence = parseRotatedAt(
      JSON.stringify({ password: 'hunter2-secret', rotated_at: '2024-01-01T00:00:00Z' }),
    );

    // Assess
    expect(evidence).toEqual({ state: 'found', date: new Date('2024-01-01T00:00:00Z') });
    expect(JSON.stringify(evidence)).not.toContain('hunter2');
  });

  it.each([
    ['{"password":"hunter2-secret"}', 'the value has no rotated_at'],
    ['hunter2-secret', 'the value is not JSON'],
    ['["hunter2-secret"]', 'the value is not a JSON object'],
    [undefined, 'the value is binary, not a JSON object'],
  ])('reports %s as absent without quoting it', (value, detail) => {
    // Act
    const evidence = parseRotatedAt(value);

    // Assess
    expect(evidence).toEqual({ state: 'absent', detail });
  });

  it.each(['yesterday', '2024-13-45T00:00:00Z', '2024-01-01 00:00', 1704067200])(
    'reports rotated_at %j as invalid',
    (raw) => {
      // Act
      const evidence = parseRotatedAt(JSON.stringify({ rotated_at: raw, api_key: 're_secret' }));

      // Assess
      expect(evidence.state).toBe('invalid');
      expect(JSON.stringify(evidence)).not.toContain('re_secret');
    },
  );
});

describe('evaluateSecret: age and status', () => {
  it.each([
    [10, Status.COMPLIANT],
    [76, Status.COMPLIANT],
    [76.5, Status.DUE_SOON],
    [90, Status.DUE_SOON],
    [90.01, Status.OVERDUE],
    [200, Status.OVERDUE],
  ])('gives a credential rotated %d days ago the status %s', (days, status) => {
    // Act
    const evaluation = evaluateSecret(entry(secret(), found(daysAgo(days))), settings, NOW);

    // Assess
    expect(evaluation.status).toBe(status);
    expect(evaluation.age.source).toBe('rotated_at');
  });

  it('counts the newer of LastRotatedDate and rotated_at', () => {
    // Prepare
    const meta = secret({ lastRotatedDate: daysAgo(100) });

    // Act
    const newerValue = evaluateSecret(entry(meta, found(daysAgo(100.5))), settings, NOW);
    const newerStamp = evaluateSecret(entry(meta, found(daysAgo(20))), settings, NOW);

    // Assess
    expect(newerValue.age).toMatchObject({ source: 'LastRotatedDate', since: daysAgo(100) });
    expect(newerStamp.age).toMatchObject({ source: 'rotated_at', since: daysAgo(20) });
    expect(newerStamp.status).toBe(Status.COMPLIANT);
  });

  it('takes LastRotatedDate alone when the value has no rotated_at (AWS templates never stamp it)', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ lastRotatedDate: daysAgo(95) }), {
        state: 'absent',
        detail: 'the value has no rotated_at',
      }),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation).toMatchObject({
      status: Status.OVERDUE,
      ageDays: 95,
      age: { source: 'LastRotatedDate' },
    });
    expect(kinds(evaluation)).not.toContain(FindingKind.AGE_SOURCES_DISAGREE);
  });

  it('counts a rotated_at older than CreatedDate as the age of an imported credential', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ createdDate: daysAgo(3) }), found(daysAgo(300))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation).toMatchObject({ status: Status.OVERDUE, ageDays: 300, age: { source: 'rotated_at' } });
  });

  it('uses CreatedDate only when neither source exists, as never rotated', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ createdDate: daysAgo(120) }), {
        state: 'absent',
        detail: 'the value has no rotated_at',
      }),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation).toMatchObject({
      status: Status.NEVER_ROTATED,
      ageDays: 120,
      age: { source: 'CreatedDate' },
    });
    expect(evaluation.actions.rotationDue).toBe(true);
  });

  it('flags LastRotatedDate and rotated_at that disagree by more than a day', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ lastRotatedDate: daysAgo(200) }), found(daysAgo(10))),
      settings,
      NOW,
    );

    // Assess
    const disagreement = evaluation.findings.find((f) => f.kind === FindingKind.AGE_SOURCES_DISAGREE);
    expect(disagreement?.reason).toMatch(/190\.0 days apart; the newer counts/);
    expect(evaluation.status).toBe(Status.COMPLIANT);
  });

  it('does not flag sources a few hours apart (rotated_at is stamped at createSecret, LastRotatedDate at the end)', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ lastRotatedDate: daysAgo(10) }), found(new Date(daysAgo(10).getTime() - 3 * HOUR_MS))),
      settings,
      NOW,
    );

    // Assess
    expect(kinds(evaluation)).not.toContain(FindingKind.AGE_SOURCES_DISAGREE);
  });

  it('ignores and flags a rotated_at in the future', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ createdDate: daysAgo(5) }), found(new Date(NOW.getTime() + 10 * DAY_MS))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.status).toBe(Status.NEVER_ROTATED);
    expect(evaluation.findings.find((f) => f.kind === FindingKind.AGE_SOURCES_DISAGREE)?.reason).toMatch(
      /in the future/,
    );
  });

  it('counts a rotated_at a few hours ahead of the clock (within the tolerance) as age 0, never negative', () => {
    // Act: stamped with a clock three hours fast.
    const evaluation = evaluateSecret(
      entry(secret(), found(new Date(NOW.getTime() + 3 * HOUR_MS))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation).toMatchObject({ status: Status.COMPLIANT, ageDays: 0, daysUntilDue: 90 });
    expect(evaluation.age.source).toBe('rotated_at');
  });

  it('reports an unreadable value as unknown, never as a value without rotated_at (fail closed)', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret(), { state: 'unreadable', errorCode: 'AccessDeniedException', message: 'not authorized' }),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.status).toBe(Status.UNKNOWN);
    expect(evaluation.ageDays).toBeUndefined();
    expect(evaluation.findings.find((f) => f.kind === FindingKind.VALUE_UNREADABLE)?.reason).toMatch(
      /AccessDeniedException: not authorized.*GetSecretValue/,
    );
    expect(evaluation.actions.canRotateUnattended).toBe(false);
  });

  it('settles the age from a compliant LastRotatedDate without reading the value', () => {
    // Prepare
    const meta = secret({ lastRotatedDate: daysAgo(30) });

    // Act
    const evaluation = evaluateSecret(entry(meta), settings, NOW);

    // Assess
    expect(needsRotatedAt(meta, evaluation.policy, NOW)).toBe(false);
    expect(evaluation).toMatchObject({ status: Status.COMPLIANT, ageDays: 30 });
  });

  it('needs rotated_at when LastRotatedDate is absent or not compliant on its own', () => {
    // Prepare
    const policy = evaluateSecret(entry(secret()), settings, NOW).policy;

    // Act / Assess
    expect(needsRotatedAt(secret(), policy, NOW)).toBe(true);
    expect(needsRotatedAt(secret({ lastRotatedDate: daysAgo(80) }), policy, NOW)).toBe(true);
  });
});

describe('evaluateSecret: findings', () => {
  it('reports a 200-day-old secret with rotation off as both overdue and rotation not enabled', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(
        secret({
          rotationEnabled: false,
          rotationLambdaArn: undefined,
          rotationRules: undefined,
          createdDate: daysAgo(365),
        }),
        found(daysAgo(200)),
      ),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.status).toBe(Status.OVERDUE);
    expect(kinds(evaluation)).toContain(FindingKind.ROTATION_NOT_ENABLED);
    expect(evaluation.failingControls).toEqual([ControlId.ROTATION_ENABLED, ControlId.ROTATED_WITHIN_DAYS]);
    expect(evaluation.actions).toMatchObject({
      rotationDue: true,
      canRotateUnattended: true,
      configureRotation: {
        rotationLambda: OUR_DB_FUNCTION,
        rotationRules: { automaticallyAfterDays: 75 },
        reasons: ['rotation is off'],
      },
    });
  });

  it('flags a 90-day schedule as too long for the policy while SecretsManager.1 still passes', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ rotationRules: { automaticallyAfterDays: 90 } }), found(daysAgo(10))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.findings.find((f) => f.kind === FindingKind.SCHEDULE_TOO_LONG)?.reason).toMatch(
      /every 90 days .* longer than the 76 days the policy allows/,
    );
    expect(evaluation.controls[ControlId.ROTATION_ENABLED].result).toBe('pass');
  });

  it('fails SecretsManager.1 for a schedule longer than maximumAllowedRotationFrequency', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(
        secret({ rotationRules: { scheduleExpression: 'rate(120 days)', automaticallyAfterDays: 120 } }),
        found(daysAgo(10)),
      ),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.controls[ControlId.ROTATION_ENABLED]).toEqual({
      result: 'fail',
      reason: 'rotates every 120 days, more than maximumAllowedRotationFrequency=90',
    });
  });

  it("offers this product's function where rotation is on with none set", () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ rotationLambdaArn: undefined }), found(daysAgo(10))),
      settings,
      NOW,
    );

    // Assess
    expect(
      evaluation.findings.find((f) => f.kind === FindingKind.ROTATION_FUNCTION_NOT_OURS)?.reason,
    ).toMatch(/no rotation function is set.*\(the enforcer does\)/);
    expect(evaluation.actions.configureRotation?.rotationLambda).toBe(OUR_DB_FUNCTION);
  });

  it.each([
    ['on', true],
    ['off', false],
  ])(
    'never offers to replace another function (rotation %s): a person decides, and the enforcer changes nothing',
    (_, rotationEnabled) => {
      // Prepare: AWS's template function (another team's, or a migration nobody finished), overdue.
      const foreign =
        'arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerRDSPostgreSQLRotationSingleUser';

      // Act
      const evaluation = evaluateSecret(
        entry(
          secret({
            rotationLambdaArn: foreign,
            rotationEnabled,
            rotationRules: { automaticallyAfterDays: 120 },
          }),
          found(daysAgo(200)),
        ),
        settings,
        NOW,
      );

      // Assess
      const reason = evaluation.findings.find(
        (f) => f.kind === FindingKind.ROTATION_FUNCTION_NOT_OURS,
      )?.reason;
      expect(reason).toMatch(/SecretsManagerRDSPostgreSQLRotationSingleUser is not this product's/);
      expect(reason).toMatch(/the enforcer never replaces another function/);
      expect(JSON.stringify(evaluation.findings)).not.toContain('(the enforcer does)');
      expect(evaluation.actions).toMatchObject({
        rotationDue: true,
        mayChangeRotationSettings: false,
        canRotateUnattended: false,
        unattendedBlockers: [
          "rotated by SecretsManagerRDSPostgreSQLRotationSingleUser, not this product's function",
        ],
        needsPerson: [reason],
      });
      expect(evaluation.actions.configureRotation).toBeUndefined();
    },
  );

  it('accepts our function, configured by name, beside the secret, with or without a qualifier', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(
        secret({
          name: 'production/api-keys/resend',
          rotationLambdaArn:
            'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey:live',
        }),
        found(daysAgo(10)),
      ),
      settings,
      NOW,
    );

    // Assess
    expect(kinds(evaluation)).toEqual([]);
    expect(evaluation.actions.configureRotation).toBeUndefined();
  });

  it.each([
    [
      'another account',
      'arn:aws:lambda:us-east-1:999999999999:function:secrets-rotation-production-rotateApiKey',
    ],
    [
      'another region',
      'arn:aws:lambda:eu-west-1:123456789012:function:secrets-rotation-production-rotateApiKey',
    ],
  ])(
    "takes a function with our name in %s for another's: the name alone proves nothing",
    (_, rotationLambdaArn) => {
      // Act
      const evaluation = evaluateSecret(
        entry(secret({ name: 'production/api-keys/resend', rotationLambdaArn }), found(daysAgo(10))),
        settings,
        NOW,
      );

      // Assess
      expect(kinds(evaluation)).toEqual([FindingKind.ROTATION_FUNCTION_NOT_OURS]);
      expect(evaluation.actions).toMatchObject({
        mayChangeRotationSettings: false,
        canRotateUnattended: false,
      });
    },
  );

  it('reports a failed last rotation when NextRotationDate is more than a day past', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ lastRotatedDate: daysAgo(80), nextRotationDate: daysAgo(5) }), found(daysAgo(80))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.findings.find((f) => f.kind === FindingKind.LAST_ROTATION_FAILED)?.reason).toMatch(
      /5 days past/,
    );
    expect(evaluation.controls[ControlId.ROTATION_SUCCEEDS].result).toBe('fail');
  });

  it('reports a stuck rotation with its age and offers the repair', () => {
    // Prepare
    const since = new Date(NOW.getTime() - 30 * HOUR_MS);
    const meta = secret({ versions: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } });

    // Act
    const evaluation = evaluateSecret(
      entry(meta, found(daysAgo(80)), { pendingCreated: { state: 'found', date: since } }),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.findings.find((f) => f.kind === FindingKind.ROTATION_STUCK)?.reason).toMatch(
      /AWSPENDING is on version v2, which is not AWSCURRENT, since 2026-06-14T06:00:00.000Z \(30 hours\)/,
    );
    expect(evaluation.pending).toEqual({ versionId: 'v2', since, stuck: true });
    expect(evaluation.actions.repairStuck).toEqual({ versionId: 'v2', since });
    expect(evaluation.actions.unattendedBlockers).toContain('a stuck rotation must be repaired first');
    expect(evaluation.failingControls).toContain(ControlId.ROTATION_SUCCEEDS);
  });

  it('treats a pending version younger than stuckAfterHours as a rotation in progress', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ versions: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] } }), found(daysAgo(80)), {
        pendingCreated: { state: 'found', date: new Date(NOW.getTime() - HOUR_MS) },
      }),
      settings,
      NOW,
    );

    // Assess
    expect(kinds(evaluation)).not.toContain(FindingKind.ROTATION_STUCK);
    expect(evaluation.actions.unattendedBlockers).toEqual(['a rotation is in progress']);
  });

  it('does not count AWSPENDING on the AWSCURRENT version as stuck', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ versions: { v1: ['AWSCURRENT', 'AWSPENDING'] } }), found(daysAgo(5))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.pending).toBeUndefined();
  });

  it('needs a person to stage a Clerk key, and then lets it rotate unattended', () => {
    // Prepare
    const clerk = secret({
      name: 'production/api-keys/clerk',
      rotationLambdaArn:
        'arn:aws:lambda:us-east-1:123456789012:function:secrets-rotation-production-rotateApiKey',
    });

    // Act
    const unstaged = evaluateSecret(entry(clerk, found(daysAgo(95))), settings, NOW);
    const staged = evaluateSecret(
      entry({ ...clerk, versions: { v1: ['AWSCURRENT'], v9: ['STAGED'] } }, found(daysAgo(95))),
      settings,
      NOW,
    );

    // Assess
    expect(unstaged.actions.needsPerson[0]).toMatch(
      /put-secret-value --secret-id production\/api-keys\/clerk .* --version-stages STAGED/,
    );
    expect(unstaged.actions).toMatchObject({
      canRotateUnattended: false,
      unattendedBlockers: ['no STAGED value'],
    });
    expect(staged.actions).toMatchObject({ canRotateUnattended: true, needsPerson: [] });
  });

  it('asks for a staged Clerk key once the next rotation is within the warning window, and blocks unattended rotation until then', () => {
    // Prepare
    const clerk = (nextRotationDate: Date) =>
      secret({
        name: 'production/api-keys/clerk',
        rotationLambdaArn: 'secrets-rotation-production-rotateApiKey',
        nextRotationDate,
      });

    // Act
    const far = evaluateSecret(
      entry(clerk(new Date(NOW.getTime() + 40 * DAY_MS)), found(daysAgo(35))),
      settings,
      NOW,
    );
    const near = evaluateSecret(
      entry(clerk(new Date(NOW.getTime() + 10 * DAY_MS)), found(daysAgo(65))),
      settings,
      NOW,
    );

    // Assess
    expect(far.actions).toMatchObject({
      needsPerson: [],
      canRotateUnattended: false,
      unattendedBlockers: ['no STAGED value'],
    });
    expect(near.status).toBe(Status.COMPLIANT);
    expect(near.actions.needsPerson[0]).toMatch(/labelled STAGED \(next rotation by 2026-06-25\)/);
  });

  it('asks for a staged reCAPTCHA secret only when a Google rotation is coming', () => {
    // Prepare
    const google = secret({
      name: 'production/api-keys/google',
      rotationLambdaArn: 'secrets-rotation-production-rotateApiKey',
    });

    // Act
    const fresh = evaluateSecret(entry(google, found(daysAgo(10))), settings, NOW);
    const dueSoon = evaluateSecret(entry(google, found(daysAgo(80))), settings, NOW);

    // Assess
    expect(fresh.actions.needsPerson).toEqual([]);
    expect(dueSoon.actions.needsPerson[0]).toMatch(
      /recaptcha_secret_key changes only when a new value is staged/,
    );
    expect(dueSoon.actions.canRotateUnattended).toBe(true);
  });

  it('reminds a person to revoke the superseded Clerk key until the secret is tagged as revoked', () => {
    // Prepare
    const clerk = secret({
      name: 'production/api-keys/clerk',
      rotationLambdaArn: 'secrets-rotation-production-rotateApiKey',
      versions: { v2: ['AWSCURRENT'], v1: ['AWSPREVIOUS'], v3: ['STAGED'] },
    });

    // Act
    const pendingRevocation = evaluateSecret(entry(clerk, found(daysAgo(1))), settings, NOW);
    const revoked = evaluateSecret(
      entry({ ...clerk, tags: { 'rotation-previous-revoked': 'v1' } }, found(daysAgo(1))),
      settings,
      NOW,
    );

    // Assess
    expect(pendingRevocation.actions.needsPerson).toEqual([
      expect.stringMatching(/superseded clerk key \(version v1, AWSPREVIOUS\).*rotation-previous-revoked=v1/),
    ]);
    expect(revoked.actions.needsPerson).toEqual([]);
  });

  it('leaves a rotation-mode=manual secret to a person and says when it is due', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ tags: { 'rotation-mode': 'manual' } }), found(daysAgo(95))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.actions).toMatchObject({
      mayChangeRotationSettings: false,
      canRotateUnattended: false,
    });
    expect(evaluation.actions.needsPerson[0]).toMatch(
      /rotation-mode=manual\) and it is overdue: rotate it \(due 2026-06-10\)/,
    );
  });

  it('reports a secret managed by another service and never offers to change its rotation', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(
        secret({
          name: 'rds!db-1234abcd',
          owningService: 'rds',
          rotationLambdaArn: 'arn:aws:lambda:us-east-1:1:function:rds-managed',
          rotationRules: { automaticallyAfterDays: 7 },
          lastRotatedDate: daysAgo(3),
        }),
      ),
      settings,
      NOW,
    );

    // Assess
    expect(kinds(evaluation)).toEqual([FindingKind.MANAGED_BY_ANOTHER_SERVICE]);
    expect(evaluation.actions).toMatchObject({
      mayChangeRotationSettings: false,
      canRotateUnattended: false,
      unattendedBlockers: ['managed by rds'],
    });
    expect(evaluation.actions.configureRotation).toBeUndefined();
  });
});

describe('evaluateSecret: unused', () => {
  it('counts LastAccessedDate as a whole day: unused only after 90 full days from the end of that day', () => {
    // Prepare
    const accessed = new Date('2026-03-16T00:00:00Z'); // a date without a time, as Secrets Manager reports it

    // Act
    const at = (now: string) =>
      evaluateSecret(
        entry(secret({ lastAccessedDate: accessed }), found(daysAgo(10))),
        settings,
        new Date(now),
      );

    // Assess
    expect(kinds(at('2026-06-14T23:59:00Z'))).not.toContain(FindingKind.UNUSED);
    const unused = at('2026-06-15T00:00:00Z');
    expect(unused.findings.find((f) => f.kind === FindingKind.UNUSED)?.reason).toMatch(
      /not read since 2026-03-16 \(91 days; the limit is 90\)/,
    );
    expect(unused.controls[ControlId.UNUSED_REMOVED].result).toBe('fail');
  });

  it('counts a secret never read since its creation 100 days ago as unused', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ createdDate: daysAgo(100), lastAccessedDate: undefined }), found(daysAgo(10))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.findings.find((f) => f.kind === FindingKind.UNUSED)?.reason).toMatch(
      /never read since it was created 100 days ago/,
    );
  });
});

describe('evaluateSecret: controls', () => {
  it('counts SecretsManager.4 from LastRotatedDate, as AWS Config sees it, not from rotated_at', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ lastRotatedDate: daysAgo(120) }), found(daysAgo(5))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.status).toBe(Status.COMPLIANT);
    expect(evaluation.controls[ControlId.ROTATED_WITHIN_DAYS]).toEqual({
      result: 'fail',
      reason: 'LastRotatedDate is 120 days ago, more than maxDaysSinceRotation=90',
    });
  });

  it('does not apply SecretsManager.2 to a secret without rotation', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ rotationEnabled: false }), found(daysAgo(5))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.controls[ControlId.ROTATION_SUCCEEDS].result).toBe('not-applicable');
  });
});

describe('evaluateSecret: tag overrides', () => {
  it('shortens the max age with rotation-max-age-days and the schedule with it', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(secret({ tags: { 'rotation-max-age-days': '30' }, rotationEnabled: false }), found(daysAgo(31))),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.status).toBe(Status.OVERDUE);
    expect(evaluation.policy).toMatchObject({ maxAgeDays: 30, warningDays: 14, scheduleDays: 16 });
    expect(evaluation.actions.configureRotation?.rotationRules).toEqual({ automaticallyAfterDays: 16 });
  });

  it.each([
    [
      { 'rotation-max-age-days': '120' },
      /rotation-max-age-days="120" is ignored: expected whole days from 1 to 90/,
    ],
    [{ 'rotation-warning-days': 'soon' }, /rotation-warning-days="soon" is ignored/],
    [{ 'rotation-mode': 'sometimes' }, /rotation-mode="sometimes" is ignored: expected auto or manual/],
    [{ 'rotation-window': 'cron(30 2 ? * SAT *)' }, /minutes field must be 0/],
    [
      { 'rotation-window': 'cron(0 2 1 1/4 ? *) 3h' },
      /rotates every 1\d\d days at most, longer than the 76 days/,
    ],
  ])('ignores and reports an invalid override %j', (tags, reason) => {
    // Act
    const evaluation = evaluateSecret(entry(secret({ tags }), found(daysAgo(10))), settings, NOW);

    // Assess
    expect(evaluation.findings.find((f) => f.kind === FindingKind.INVALID_OVERRIDE)?.reason).toMatch(reason);
    expect(evaluation.policy).toMatchObject({ maxAgeDays: 90, warningDays: 14, mode: 'auto' });
  });

  it.each([
    [{ 'rotation-window': 'cron(30 2 ? * SAT *)' }, 'rotation-window'],
    [{ 'rotation-window': 'cron(0 2 1 1/4 ? *) 3h' }, 'rotation-window'],
    [{ 'rotation-window': 'Saturdays 2-5' }, 'rotation-window'],
    [{ 'rotation-mode': 'manaul' }, 'rotation-mode'],
  ])('lets the enforcer change nothing while %j is invalid, and asks a person to fix it', (tags, tag) => {
    // Prepare: overdue with rotation off: without the tag the enforcer would turn it on and start it.
    const meta = secret({ tags, rotationEnabled: false, rotationRules: undefined });

    // Act
    const evaluation = evaluateSecret(entry(meta, found(daysAgo(200))), settings, NOW);

    // Assess
    expect(evaluation.actions).toMatchObject({
      rotationDue: true,
      mayChangeRotationSettings: false,
      canRotateUnattended: false,
      unattendedBlockers: [`tag ${tag} is not valid`],
      needsPerson: [
        expect.stringMatching(
          new RegExp(
            `^tag ${tag}=.* is ignored: .*; until it is fixed the enforcer changes no rotation setting of this secret and starts no rotation`,
          ),
        ),
      ],
    });
    expect(evaluation.actions.configureRotation).toBeUndefined();
  });

  it('still applies the policy when a max-age or warning tag is invalid: a tag cannot exempt a secret', () => {
    // Act
    const evaluation = evaluateSecret(
      entry(
        secret({
          tags: { 'rotation-max-age-days': '400' },
          rotationEnabled: false,
          rotationRules: undefined,
        }),
        found(daysAgo(200)),
      ),
      settings,
      NOW,
    );

    // Assess
    expect(evaluation.actions).toMatchObject({ mayChangeRotationSettings: true, canRotateUnattended: true });
    expect(evaluation.actions.configureRotation?.rotationRules).toEqual({ automaticallyAfterDays: 75 });
  });

  it('sets the rotation window from the rotation-window tag and says when it is open', () => {
    // Prepare
    const meta = secret({ tags: { 'rotation-window': 'cron(0 2 ? * SAT#1 *) 3h' } });
    const firstSaturday = new Date('2026-06-06T03:30:00Z');

    // Act
    const inside = evaluateSecret(entry(meta, found(daysAgo(10))), settings, firstSaturday);
    const outside = evaluateSecret(entry(meta, found(daysAgo(10))), settings, NOW);

    // Assess
    expect(inside.actions.configureRotation).toEqual({
      rotationLambda: OUR_DB_FUNCTION,
      rotationRules: { scheduleExpression: 'cron(0 2 ? * SAT#1 *)', duration: '3h' },
      reasons: ['the rotation window differs from the rotation-window tag'],
    });
    expect(inside.actions.insideRotationWindow).toBe(true);
    expect(outside.actions.insideRotationWindow).toBe(false);
  });
});

describe('rotation schedules', () => {
  it.each([
    [{ automaticallyAfterDays: 75 }, 75],
    [{ scheduleExpression: 'rate(10 days)' }, 10],
    [{ scheduleExpression: 'rate(12 hours)' }, 0.5],
    [{ scheduleExpression: 'cron(0 4/12 * * ? *)' }, 0.5],
    [{ scheduleExpression: 'cron(0 2 ? * SAT *)' }, 7],
    [{ scheduleExpression: 'cron(0 2 ? * SAT#1 *)' }, 35],
    [{ scheduleExpression: 'cron(0 16 L * ? *)' }, 31],
    [{ scheduleExpression: 'cron(0 2 1 JAN,APR,JUL,OCT ? *)' }, 92],
  ])('measures the longest interval of %j as %d days', (rules, days) => {
    expect(scheduleIntervalDays(rules)).toBe(days);
  });

  it.each([
    'cron(15 2 ? * SAT *)',
    'cron(0 2 1 * MON *)',
    'cron(0 2 ? * SAT 2027)',
    'cron(0 25 ? * SAT *)',
    'rate(2 hours)',
    'every day',
  ])('refuses %s as Secrets Manager would', (expression) => {
    expect(() => scheduleIntervalDays({ scheduleExpression: expression })).toThrow(InvalidScheduleError);
  });

  it.each([
    ['2026-06-13T01:59:00Z', false],
    ['2026-06-13T02:00:00Z', true],
    ['2026-06-13T04:59:00Z', true],
    ['2026-06-13T05:00:00Z', false],
    ['2026-06-12T03:00:00Z', false],
  ])('opens a Saturday 02:00 UTC 3h window: %s is inside = %s', (now, inside) => {
    expect(
      isInsideRotationWindow({ scheduleExpression: 'cron(0 2 ? * SAT *)', duration: '3h' }, new Date(now)),
    ).toBe(inside);
  });

  it('opens a rate window at midnight for its Duration, and every moment without a schedule expression', () => {
    expect(
      isInsideRotationWindow(
        { scheduleExpression: 'rate(1 day)', duration: '4h' },
        new Date('2026-06-13T03:59:00Z'),
      ),
    ).toBe(true);
    expect(
      isInsideRotationWindow(
        { scheduleExpression: 'rate(1 day)', duration: '4h' },
        new Date('2026-06-13T04:00:00Z'),
      ),
    ).toBe(false);
    expect(isInsideRotationWindow({ automaticallyAfterDays: 75 }, new Date('2026-06-13T04:00:00Z'))).toBe(
      true,
    );
  });

  it('reads the rotation-window tag as a ScheduleExpression and an optional Duration', () => {
    expect(parseWindowTag('cron(0 22 ? * SUN *) 2h')).toEqual({
      scheduleExpression: 'cron(0 22 ? * SUN *)',
      duration: '2h',
    });
    expect(parseWindowTag('rate(30 days)')).toEqual({ scheduleExpression: 'rate(30 days)' });
    expect(() => parseWindowTag('cron(0 22 ? * SUN *) 25h')).toThrow(InvalidScheduleError);
  });
});

describe('summarizeFleet', () => {
  it('counts secrets by status, failing control and finding, and names the oldest', () => {
    // Prepare
    const evaluations = [
      evaluateSecret(entry(secret(), found(daysAgo(10))), settings, NOW),
      evaluateSecret(
        entry(secret({ name: 'production/database/old', rotationEnabled: false }), found(daysAgo(200))),
        settings,
        NOW,
      ),
      evaluateSecret(entry(secret({ name: 'production/database/soon' }), found(daysAgo(80))), settings, NOW),
    ];

    // Act
    const summary = summarizeFleet(evaluations);

    // Assess
    expect(summary).toMatchObject({
      total: 3,
      needAttention: 2,
      byStatus: { compliant: 1, 'due-soon': 1, overdue: 1, 'never-rotated': 0, unknown: 0 },
      failingControls: {
        'SecretsManager.1': 1,
        'SecretsManager.2': 0,
        'SecretsManager.3': 0,
        'SecretsManager.4': 0,
      },
      oldest: { name: 'production/database/old', ageDays: 200 },
    });
    expect(summary.findings[FindingKind.ROTATION_NOT_ENABLED]).toBe(1);
  });
});
