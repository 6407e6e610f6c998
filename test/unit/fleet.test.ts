import { describe, expect, it } from 'vitest';
import {
  ArnDerivationError,
  boundedConcurrency,
  functionArn,
  SecretsManagerRateLimiter,
  sameAccountArn,
  TokenBucket,
  toRotationRulesType,
} from '../../shared/fleet/index.js';
import { virtualClock } from '../support/clock.js';

describe('TokenBucket', () => {
  it('lets a burst through at once, then one request per interval', async () => {
    // Prepare
    const clock = virtualClock();
    const bucket = new TokenBucket(100, 10, clock);

    // Act
    for (let i = 0; i < 12; i++) await bucket.take();

    // Assess
    expect(clock.waits).toEqual([10, 10]);
    expect(clock.now()).toBe(20);
  });

  it('queues concurrent callers in order without exceeding the rate', async () => {
    // Prepare
    const clock = { now: () => 0, sleep: async (_ms: number) => undefined, waits: [] as number[] };
    clock.sleep = async (ms: number) => {
      clock.waits.push(ms);
    };
    const bucket = new TokenBucket(50, 1, clock);

    // Act
    await Promise.all(Array.from({ length: 4 }, () => bucket.take()));

    // Assess
    expect(clock.waits).toEqual([20, 40, 60]);
  });
});

describe('SecretsManagerRateLimiter', () => {
  it('shares one bucket between RotateSecret and CancelRotateSecret, and keeps ListSecrets apart', async () => {
    // Prepare
    const clock = virtualClock();
    const limiter = new SecretsManagerRateLimiter({ clock, burstSeconds: 0.02 });

    // Act
    await limiter.acquire('RotateSecretCommand');
    await limiter.acquire('CancelRotateSecret');
    await limiter.acquire('ListSecrets');
    await limiter.acquire('ListSecrets');

    // Assess: 50/s with a burst of 1, then 100/s with a burst of 2
    expect(clock.waits).toEqual([20]);
  });

  it('takes a share of each quota for workers that run at once', async () => {
    // Prepare
    const clock = virtualClock();
    const limiter = new SecretsManagerRateLimiter({ clock, share: 0.2, burstSeconds: 0.1 });

    // Act
    for (let i = 0; i < 3; i++) await limiter.acquire('RotateSecret');

    // Assess: 10/s, burst 1
    expect(clock.waits).toEqual([100, 100]);
  });

  it('paces RotateSecret and CancelRotateSecret at the configured rotation rate, leaving the other quotas whole', async () => {
    // Prepare: 10 rotations a second (ENFORCE_STARTS_PER_SECOND's default), burst 1
    const clock = virtualClock();
    const limiter = new SecretsManagerRateLimiter({ clock, rotationPerSecond: 10 });

    // Act: 21 rotation calls, then two of the version-write quota (50/s, burst 5)
    for (let i = 0; i < 20; i++) await limiter.acquire('RotateSecretCommand');
    await limiter.acquire('CancelRotateSecretCommand');
    const rotationsDone = clock.now();
    await limiter.acquire('PutSecretValue');
    await limiter.acquire('UpdateSecretVersionStage');

    // Assess: one call every 100 ms, so 21 calls span 2 s; the write quota is not slowed
    expect(clock.waits).toEqual(Array.from({ length: 20 }, () => 100));
    expect(rotationsDone).toBe(2000);
    expect(clock.now()).toBe(2000);
  });

  it('splits the configured rotation rate by the share, as workers that run at once do', async () => {
    // Prepare: 10/s across 5 workers: 2/s each
    const clock = virtualClock();
    const limiter = new SecretsManagerRateLimiter({ clock, rotationPerSecond: 10, share: 1 / 5 });

    // Act
    for (let i = 0; i < 3; i++) await limiter.acquire('RotateSecret');

    // Assess
    expect(clock.waits).toEqual([500, 500]);
  });

  it('refuses a share outside (0, 1]', () => {
    expect(() => new SecretsManagerRateLimiter({ share: 1.5 })).toThrow(RangeError);
  });

  it.each([0, -1, 51, Number.NaN])('refuses a rotation rate of %s, outside (0, 50]', (rotationPerSecond) => {
    expect(() => new SecretsManagerRateLimiter({ rotationPerSecond })).toThrow(
      'rotationPerSecond must be in (0, 50]',
    );
  });
});

describe('boundedConcurrency', () => {
  it('never runs more than the limit at once, even as callers keep arriving', async () => {
    // Prepare
    const run = boundedConcurrency(3);
    let active = 0;
    let peak = 0;
    const task = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      active--;
    };

    // Act
    const first = Array.from({ length: 10 }, () => run(task));
    await first[0];
    await Promise.all([...first, ...Array.from({ length: 10 }, () => run(task))]);

    // Assess
    expect(peak).toBe(3);
  });

  it('passes a failing task on to its caller and frees its slot', async () => {
    // Prepare
    const run = boundedConcurrency(1);

    // Act
    const failed = run(async () => {
      throw new Error('boom');
    });

    // Assess
    await expect(failed).rejects.toThrow('boom');
    await expect(run(async () => 'next')).resolves.toBe('next');
  });
});

describe('sameAccountArn and functionArn', () => {
  const invoked =
    'arn:aws-cn:lambda:cn-north-1:123456789012:function:secrets-rotation-production-complianceReport:live';

  it('builds an ARN in the partition, region and account the function was invoked in', () => {
    expect(sameAccountArn(invoked, 'sns', 'alerts')).toBe('arn:aws-cn:sns:cn-north-1:123456789012:alerts');
    expect(functionArn('rotateDatabase', invoked)).toBe(
      'arn:aws-cn:lambda:cn-north-1:123456789012:function:rotateDatabase',
    );
    expect(functionArn('arn:aws:lambda:us-east-1:1:function:x', invoked)).toBe(
      'arn:aws:lambda:us-east-1:1:function:x',
    );
  });

  it("throws an ArnDerivationError for an ARN that is not a function's", () => {
    expect(() => sameAccountArn('offline_functionArn', 'sns', 'alerts')).toThrow(ArnDerivationError);
  });
});

describe('toRotationRulesType', () => {
  it('maps rotation rules to what RotateSecret takes', () => {
    expect(toRotationRulesType({ automaticallyAfterDays: 75 })).toEqual({ AutomaticallyAfterDays: 75 });
    expect(toRotationRulesType({ scheduleExpression: 'cron(0 2 ? * SAT#1 *)', duration: '3h' })).toEqual({
      ScheduleExpression: 'cron(0 2 ? * SAT#1 *)',
      Duration: '3h',
    });
  });
});
