import { describe, expect, it } from 'vitest';
import { supersessionTag } from '../../shared/api-keys/index.js';
import {
  ActionKind,
  NoticeKind,
  type PlanOptions,
  planEnforcement,
  rotationToken,
  spreadStarts,
  WORK_ITEM_VERSION,
  type WorkItem,
} from '../../shared/enforcement/index.js';
import {
  DAY_MS,
  defaultPolicySettings,
  type FleetEntry,
  HOUR_MS,
  type SecretMetadata,
} from '../../shared/policy/index.js';

const NOW = new Date('2026-06-15T12:00:00Z'); // a Monday
const ago = (days: number) => new Date(NOW.getTime() - days * DAY_MS);
const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
const fn = (name: string) => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;
const settings = defaultPolicySettings('production', {
  rotationFunctions: { 'production/database/': 'rotateDatabase', 'production/api-keys/': 'rotateApiKey' },
});
const options = (overrides: Partial<PlanOptions> = {}, at = NOW): PlanOptions => ({
  run: { id: 'run-1', at, ignoreWindows: false },
  repairMinAgeMs: HOUR_MS,
  gracePeriodMs: 900_000,
  spreadSeconds: 900,
  ...overrides,
});

/** A managed secret rotated `days` ago by this product, rotation on at 75 days. */
function secret(name: string, days: number, overrides: Partial<SecretMetadata> = {}): FleetEntry {
  return {
    secret: {
      arn: arn(name),
      name,
      createdDate: ago(400),
      lastRotatedDate: ago(days),
      lastAccessedDate: ago(1),
      rotationEnabled: true,
      rotationLambdaArn: fn(name.includes('/database/') ? 'rotateDatabase' : 'rotateApiKey'),
      rotationRules: { automaticallyAfterDays: 75 },
      nextRotationDate: new Date(NOW.getTime() + DAY_MS),
      tags: {},
      versions: { v1: ['AWSCURRENT'] },
      ...overrides,
    },
    rotatedAt: { state: 'found', date: ago(days) },
  };
}
const off = { rotationEnabled: false, rotationRules: undefined, rotationLambdaArn: undefined } as const;
const decisionOf = (plan: ReturnType<typeof planEnforcement>, name: string) =>
  plan.decisions.find((d) => d.secret === name);

describe('planEnforcement', () => {
  it('starts an overdue secret with rotation off and sets its rotation settings in the same call', () => {
    // Prepare
    const entry = secret('production/database/primary', 200, off);

    // Act
    const plan = planEnforcement([entry], settings, options());

    // Assess
    expect(plan.items).toEqual([]);
    expect(plan.starts).toEqual([
      {
        delaySeconds: 0,
        item: {
          v: WORK_ITEM_VERSION,
          run: { id: 'run-1', at: NOW.toISOString(), ignoreWindows: false },
          secret: { arn: entry.secret.arn, name: entry.secret.name },
          configure: true,
          start: { token: rotationToken(entry.secret.arn, '2026-06-15') },
        },
      },
    ]);
    expect(decisionOf(plan, entry.secret.name)?.actions).toEqual([
      expect.objectContaining({ action: ActionKind.START, withSettings: true, delaySeconds: 0 }),
    ]);
  });

  it('turns rotation on, without starting it, for a compliant secret whose rotation is off', () => {
    // Act
    const plan = planEnforcement([secret('production/api-keys/resend', 10, off)], settings, options());

    // Assess
    expect(plan.starts).toEqual([]);
    expect(plan.items).toEqual([expect.objectContaining({ configure: true })]);
    expect(plan.items[0]).not.toHaveProperty('start');
    expect(decisionOf(plan, 'production/api-keys/resend')?.actions[0]?.reason).toContain(
      'rotation is off: set rotateApiKey and AutomaticallyAfterDays=75',
    );
  });

  it('corrects a schedule that is too long, and sets its function where rotation is on with none', () => {
    // Act
    const plan = planEnforcement(
      [
        secret('production/api-keys/aws', 10, { rotationRules: { automaticallyAfterDays: 120 } }),
        secret('production/database/primary', 10, { rotationLambdaArn: undefined }),
      ],
      settings,
      options(),
    );

    // Assess
    expect(plan.items.map((item) => [item.secret.name, item.configure])).toEqual([
      ['production/api-keys/aws', true],
      ['production/database/primary', true],
    ]);
  });

  it("never replaces another function: a secret rotated by another team's function is neither reconfigured nor started, and a person is told", () => {
    // Prepare: overdue, rotated every 120 days by someone else's function.
    const entry = secret('production/database/primary', 200, {
      rotationLambdaArn: fn('someone-elses'),
      rotationRules: { automaticallyAfterDays: 120 },
    });

    // Act
    const plan = planEnforcement([entry], settings, options());

    // Assess
    expect(plan.items).toEqual([]);
    expect(plan.starts).toEqual([]);
    expect(decisionOf(plan, entry.secret.name)?.skipped).toEqual([
      "overdue, not started: rotated by someone-elses, not this product's function",
    ]);
    expect(plan.notices).toEqual([
      {
        secret: entry.secret.name,
        kind: NoticeKind.MANUAL_ACTION,
        reason: expect.stringMatching(
          /^rotation function someone-elses is not this product's rotateDatabase .*the enforcer never replaces another function/,
        ),
      },
    ]);
  });

  it('changes nothing on a secret whose rotation-window tag cannot be read, even overdue, and tells a person', () => {
    // Prepare: overdue with rotation off; the tag means a window, but does not parse.
    const entry = secret('production/database/primary', 200, {
      ...off,
      tags: { 'rotation-window': 'cron(0 2 ? * SAT#1 *) 3 hours' },
    });

    // Act
    const plan = planEnforcement([entry], settings, options());

    // Assess: no windowless schedule set, no start at a time nobody chose.
    expect(plan.items).toEqual([]);
    expect(plan.starts).toEqual([]);
    expect(plan.notices).toEqual([
      {
        secret: entry.secret.name,
        kind: NoticeKind.MANUAL_ACTION,
        reason: expect.stringMatching(
          /^tag rotation-window=.* is ignored: .*until it is fixed the enforcer changes no rotation setting/,
        ),
      },
    ]);
  });

  it('never plans a change for a secret another service manages, and tells a person only when it needs attention', () => {
    // Prepare
    const rds = (name: string, days: number) =>
      secret(name, days, { owningService: 'rds', rotationLambdaArn: fn('SecretsManagerRDSManagedRotation') });
    const scoped = defaultPolicySettings('production', { managedPrefixes: ['production/database/', 'rds!'] });

    // Act
    const plan = planEnforcement([rds('rds!db-overdue', 200), rds('rds!db-fine', 3)], scoped, options());

    // Assess
    expect(plan.items).toEqual([]);
    expect(plan.starts).toEqual([]);
    expect(plan.notices).toEqual([
      {
        secret: 'rds!db-overdue',
        kind: NoticeKind.MANAGED_BY_ANOTHER_SERVICE,
        reason: expect.stringContaining('rotate it through rds'),
      },
    ]);
    expect(decisionOf(plan, 'rds!db-fine')?.skipped).toEqual([
      'managed by rds (OwningService): never changed by this product',
    ]);
  });

  it('does not start an overdue secret outside its rotation window, unless the run ignores windows', () => {
    // Prepare: first Saturday of the month, 02:00–05:00 UTC; NOW is a Monday noon.
    const window = { scheduleExpression: 'cron(0 2 ? * SAT#1 *)', duration: '3h' };
    const entry = secret('production/database/primary', 200, {
      rotationRules: window,
      tags: { 'rotation-window': 'cron(0 2 ? * SAT#1 *) 3h' },
    });

    // Act
    const plan = planEnforcement([entry], settings, options());
    const ignoring = planEnforcement(
      [entry],
      settings,
      options({ run: { id: 'r', at: NOW, ignoreWindows: true } }),
    );

    // Assess
    expect(plan.starts).toEqual([]);
    expect(decisionOf(plan, entry.secret.name)?.skipped).toEqual([
      'overdue, not started: outside its rotation window (cron(0 2 ? * SAT#1 *) 3h); Secrets Manager rotates it when the window opens',
    ]);
    expect(ignoring.starts).toHaveLength(1);
    expect(decisionOf(ignoring, entry.secret.name)?.actions[0]?.reason).toContain('(ignoreWindows)');
  });

  it('sets the rotation window from the tag as ScheduleExpression and Duration', () => {
    // Prepare: rotation on at 75 days, tagged with a window the rules do not have yet.
    const entry = secret('production/database/primary', 10, {
      tags: { 'rotation-window': 'rate(30 days) 4h' },
    });

    // Act
    const plan = planEnforcement([entry], settings, options());

    // Assess
    expect(plan.items).toEqual([expect.objectContaining({ configure: true })]);
    expect(decisionOf(plan, entry.secret.name)?.actions[0]?.reason).toContain('rate(30 days) 4h');
  });

  it('starts a due rotation inside its window, and never plans a delay that falls outside it', () => {
    // Prepare: 04:50 on a Saturday; the window is 02:00–05:00 daily.
    const at = new Date('2026-06-13T04:50:00Z');
    const tags = { 'rotation-window': 'cron(0 2 * * ? *) 3h' };
    const rules = { scheduleExpression: 'cron(0 2 * * ? *)', duration: '3h' };
    const entries = ['a', 'b', 'c'].map((n, i) => {
      const entry = secret(`production/database/${n}`, 200 + i, { tags, rotationRules: rules });
      return {
        ...entry,
        secret: { ...entry.secret, lastRotatedDate: new Date(at.getTime() - (200 + i) * DAY_MS) },
      };
    });

    // Act
    const plan = planEnforcement(entries, settings, options({}, at));

    // Assess: most overdue first, at 0, 300 and 600 s; 600 s is 05:00, past the window, so it is halved.
    expect(plan.starts.map((s) => [s.item.secret.name, s.delaySeconds])).toEqual([
      ['production/database/c', 0],
      ['production/database/b', 300],
      ['production/database/a', 300],
    ]);
  });

  it('tells a person, and starts nothing, for a key only a staged value can rotate', () => {
    // Act
    const plan = planEnforcement([secret('production/api-keys/clerk', 120)], settings, options());

    // Assess
    expect(plan.starts).toEqual([]);
    expect(plan.notices).toEqual([
      expect.objectContaining({ kind: NoticeKind.MANUAL_ACTION, reason: expect.stringContaining('STAGED') }),
    ]);
  });

  it('tells a person when the age cannot be read', () => {
    // Prepare
    const entry: FleetEntry = {
      ...secret('production/api-keys/resend', 120),
      rotatedAt: { state: 'unreadable', errorCode: 'AccessDeniedException', message: 'denied' },
    };

    // Act
    const plan = planEnforcement([entry], settings, options());

    // Assess
    expect(plan.starts).toEqual([]);
    expect(plan.notices).toEqual([
      expect.objectContaining({
        kind: NoticeKind.AGE_UNKNOWN,
        reason: expect.stringContaining('AccessDeniedException'),
      }),
    ]);
  });

  it("repairs a stuck rotation once it is older than the repair age, through this product's function only", () => {
    // Prepare
    const stuck = (name: string, hours: number, extra: Partial<SecretMetadata> = {}): FleetEntry => ({
      ...secret(name, 100, { versions: { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, ...extra }),
      pendingCreated: { state: 'found', date: new Date(NOW.getTime() - hours * HOUR_MS) },
    });

    // Act
    const plan = planEnforcement(
      [
        stuck('production/database/old', 2),
        stuck('production/database/young', 0.25),
        stuck('production/database/foreign', 2, { rotationLambdaArn: fn('someone-elses') }),
      ],
      settings,
      options(),
    );

    // Assess
    expect(plan.items).toEqual([
      expect.objectContaining({
        secret: expect.objectContaining({ name: 'production/database/old' }),
        repair: true,
      }),
    ]);
    expect(plan.starts).toEqual([]);
    expect(decisionOf(plan, 'production/database/young')?.skipped[0]).toContain(
      'a rotation in progress (15 min old)',
    );
    expect(plan.notices).toEqual([
      expect.objectContaining({ secret: 'production/database/foreign', kind: NoticeKind.MANUAL_ACTION }),
      expect.objectContaining({
        secret: 'production/database/foreign',
        kind: NoticeKind.STUCK_BEYOND_REPAIR,
        reason: expect.stringContaining('someone-elses, not this product'),
      }),
    ]);
  });

  it('revokes superseded versions whose records say their grace period is over, and only those', () => {
    // Prepare
    const record = (versionId: string, minutesAgo: number, by = 'v-current') =>
      supersessionTag({ versionId, at: new Date(NOW.getTime() - minutesAgo * 60_000), by });
    const tags = (...records: { Key: string; Value: string }[]) =>
      Object.fromEntries(records.map((r) => [r.Key, r.Value]));
    const versions = { 'v-current': ['AWSCURRENT'], 'v-previous': ['AWSPREVIOUS'] };

    // Act
    const plan = planEnforcement(
      [
        secret('production/api-keys/resend', 10, {
          versions,
          tags: tags(record('v-previous', 20), record('v-older', 60 * 24)),
        }),
        secret('production/api-keys/google', 10, { versions, tags: tags(record('v-previous', 5)) }),
        secret('production/api-keys/aws', 10, { versions, tags: tags(record('v-previous', 60, 'v-other')) }),
        secret('production/api-keys/mail', 10, {
          versions,
          tags: {
            ...tags(record('v-previous', 60)),
            'rotation-provider': 'resend',
            'rotation-previous-revoked': 'v-previous',
          },
        }),
        // Only a person revokes Clerk's keys: the notice asks them, no revoke input is sent.
        secret('production/api-keys/clerk', 10, { versions, tags: tags(record('v-previous', 60)) }),
      ],
      settings,
      options(),
    );

    // Assess
    expect(plan.items.map((item) => [item.secret.name, item.revoke])).toEqual([
      ['production/api-keys/resend', ['v-older', 'v-previous']],
    ]);
    expect(decisionOf(plan, 'production/api-keys/google')?.skipped[0]).toContain('its grace period ends at');
    expect(decisionOf(plan, 'production/api-keys/aws')?.skipped[0]).toContain(
      'its record names v-other, not AWSCURRENT',
    );
  });

  it('decides nothing twice: the same fleet on the same day plans the same tokens', () => {
    // Prepare
    const entry = secret('production/database/primary', 200);

    // Act
    const morning = planEnforcement([entry], settings, options({}, new Date('2026-06-15T01:00:00Z')));
    const evening = planEnforcement([entry], settings, options({}, new Date('2026-06-15T23:00:00Z')));
    const tomorrow = planEnforcement([entry], settings, options({}, new Date('2026-06-16T01:00:00Z')));

    // Assess
    const token = (plan: typeof morning) => plan.starts[0]?.item.start?.token;
    expect(token(morning)).toBe(token(evening));
    expect(token(tomorrow)).not.toBe(token(morning));
  });
});

describe('spreadStarts', () => {
  const item = (name: string): WorkItem => ({
    v: WORK_ITEM_VERSION,
    run: { id: 'r', at: NOW.toISOString(), ignoreWindows: false },
    secret: { arn: arn(name), name },
    start: { token: rotationToken(arn(name), '2026-06-15') },
  });

  it('spreads n starts evenly over the window, most overdue first', () => {
    // Act
    const spread = spreadStarts(
      [
        { item: item('a'), ageDays: 95 },
        { item: item('b'), ageDays: 300 },
        { item: item('c'), ageDays: 120 },
        { item: item('d'), ageDays: 91 },
      ],
      { spreadSeconds: 900, run: { id: 'r', at: NOW, ignoreWindows: false } },
    );

    // Assess
    expect(spread.map((s) => [s.item.secret.name, s.delaySeconds])).toEqual([
      ['b', 0],
      ['c', 225],
      ['a', 450],
      ['d', 675],
    ]);
  });

  it('starts everything at once when the spread is 0', () => {
    // Act
    const spread = spreadStarts(
      [
        { item: item('a'), ageDays: 95 },
        { item: item('b'), ageDays: 96 },
      ],
      {
        spreadSeconds: 0,
        run: { id: 'r', at: NOW, ignoreWindows: false },
      },
    );

    // Assess
    expect(spread.map((s) => s.delaySeconds)).toEqual([0, 0]);
  });
});

describe('rotationToken', () => {
  it('is a UUID of the secret and the day, different for each secret', () => {
    // Act
    const token = rotationToken(arn('production/database/primary'), '2026-06-15');

    // Assess
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(rotationToken(arn('production/database/primary'), '2026-06-15')).toBe(token);
    expect(rotationToken(arn('production/database/replica'), '2026-06-15')).not.toBe(token);
  });
});
