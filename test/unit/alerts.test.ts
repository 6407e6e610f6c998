import { describe, expect, it } from 'vitest';
import {
  accessDeniedAlert,
  alertTopicArn,
  classifyEvent,
  loadAlertConfig,
  rotationAlert,
  secretNameOf,
} from '../../shared/alerts/index.js';
import { ConfigurationError } from '../../shared/config/index.js';
import { sampleEvent } from '../support/events.js';

describe('classifyEvent', () => {
  it.each([
    ['rotation-started', 'started'],
    ['rotation-succeeded', 'succeeded'],
    ['rotation-failed', 'failed'],
    ['rotation-abandoned', 'abandoned'],
  ])('reads %s as the %s outcome of the secret in additionalEventData.SecretId', (file, outcome) => {
    const event = classifyEvent(sampleEvent(file));

    expect(event).toMatchObject({
      kind: 'rotation',
      outcome,
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database/primary-a1b2c3',
      secretName: 'production/database/primary',
      eventTime: '2026-11-30T02:17:48Z',
      account: '123456789012',
      region: 'us-east-1',
    });
  });

  it("keeps Secrets Manager's failure message, which names the function and the step", () => {
    const event = classifyEvent(sampleEvent('rotation-failed'));

    expect(event).toMatchObject({ message: expect.stringContaining('during setSecret step') });
  });

  it('reads an AccessDenied call with the caller, the source IP and the secret', () => {
    const event = classifyEvent(sampleEvent('access-denied-get-secret-value'));

    expect(event).toEqual({
      kind: 'access-denied',
      eventName: 'GetSecretValue',
      errorCode: 'AccessDenied',
      errorMessage: expect.stringContaining('is not authorized to perform: secretsmanager:GetSecretValue'),
      secrets: ['production/database/primary'],
      caller: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::123456789012:user/intern',
        principalId: 'AIDAEXAMPLEUSERID0001',
        accountId: '123456789012',
        userName: 'intern',
        sourceIp: '198.51.100.23',
        userAgent: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64',
      },
      account: '123456789012',
      region: 'us-east-1',
      eventTime: '2026-11-30T03:04:05Z',
      eventId: '8a9b0c1d-2e3f-4a5b-8c7d-6e5f4a3b2c1d',
    });
  });

  it('reads AccessDeniedException the same way, with the role an assumed-role session came from', () => {
    const event = classifyEvent(sampleEvent('access-denied-put-secret-value'));

    expect(event).toMatchObject({
      kind: 'access-denied',
      errorCode: 'AccessDeniedException',
      secrets: ['production/api-keys/resend'],
      caller: { sessionIssuer: 'arn:aws:iam::123456789012:role/ci-deployer', sourceIp: '203.0.113.77' },
    });
  });

  it('never copies requestParameters beyond the secret ids, even when they carry a value', () => {
    const planted = 'sk_live_PLANTED\r\nvalue\u0000ü';
    const event = sampleEvent('access-denied-put-secret-value');
    event.detail.requestParameters = {
      secretId: 'production/api-keys/resend',
      secretString: planted,
      SecretBinary: planted,
      nested: { secretString: planted },
    };

    const classified = classifyEvent(event);
    const alert = classified.kind === 'access-denied' ? accessDeniedAlert(classified) : undefined;

    expect(JSON.stringify(classified)).not.toContain('PLANTED');
    expect(JSON.stringify(alert)).not.toContain('PLANTED');
  });

  it('names the secret of a refused CreateSecret by its requestParameters.name, never its value', () => {
    // Prepare
    const event = sampleEvent('access-denied-put-secret-value');
    event.detail.eventName = 'CreateSecret';
    event.detail.requestParameters = {
      name: 'production/api-keys/stripe',
      secretString: 'sk_live_PLANTED',
      description: 'PLANTED too',
    };

    // Act
    const classified = classifyEvent(event);
    const alert = classified.kind === 'access-denied' ? accessDeniedAlert(classified) : undefined;

    // Assess
    expect(classified).toMatchObject({ eventName: 'CreateSecret', secrets: ['production/api-keys/stripe'] });
    expect(alert?.subject).toBe(
      'Unauthorized Secrets Manager call: CreateSecret on production/api-keys/stripe',
    );
    expect(JSON.stringify(alert)).not.toContain('PLANTED');
  });

  it('collects every id of a BatchGetSecretValue secretIdList', () => {
    const event = sampleEvent('access-denied-get-secret-value');
    event.detail.eventName = 'BatchGetSecretValue';
    event.detail.requestParameters = {
      secretIdList: ['production/database/primary', 'production/api-keys/aws', 7],
    };

    expect(classifyEvent(event)).toMatchObject({
      secrets: ['production/database/primary', 'production/api-keys/aws'],
    });
  });

  it.each([
    ['a string', 'database/primary', /not an EventBridge event/],
    [
      'another source',
      { ...sampleEvent('rotation-failed'), source: 'aws.kms' },
      /source aws.kms is not aws.secretsmanager/,
    ],
    [
      'a service event that is not a rotation outcome',
      {
        ...sampleEvent('rotation-failed'),
        detail: { ...sampleEvent('rotation-failed').detail, eventName: 'EndSecretVersionDelete' },
      },
      /EndSecretVersionDelete is not a rotation outcome/,
    ],
    [
      'a rotation event without SecretId',
      {
        ...sampleEvent('rotation-failed'),
        detail: { ...sampleEvent('rotation-failed').detail, additionalEventData: {} },
      },
      /malformed RotationFailed event: additionalEventData.SecretId/,
    ],
    [
      'a successful API call',
      {
        ...sampleEvent('access-denied-get-secret-value'),
        detail: {
          ...sampleEvent('access-denied-get-secret-value').detail,
          errorCode: 'ResourceNotFoundException',
        },
      },
      /ResourceNotFoundException is not an access denial/,
    ],
    [
      'a console sign-in',
      { ...sampleEvent('rotation-failed'), 'detail-type': 'AWS Console Signin via CloudTrail' },
      /is not handled/,
    ],
  ])('ignores %s with the reason', (_what, input, reason) => {
    const event = classifyEvent(input);

    expect(event.kind).toBe('ignored');
    expect(event.kind === 'ignored' && event.reason).toMatch(reason);
  });
});

describe('alerts', () => {
  it('say what failed and what to do, in an SNS-valid subject', () => {
    const event = classifyEvent(sampleEvent('rotation-failed'));
    if (event.kind !== 'rotation') throw new Error('expected a rotation event');

    const alert = rotationAlert(event);

    expect(alert.subject).toBe('Secret rotation failed: production/database/primary');
    expect(alert.body).toMatchObject({
      alert: 'rotation-failed',
      secret: 'production/database/primary',
      reason: expect.stringContaining('during setSecret step'),
      summary: expect.stringContaining('"repair": true'),
    });
  });

  it('keep subjects printable ASCII and at most 100 characters', () => {
    const event = classifyEvent(sampleEvent('access-denied-get-secret-value'));
    if (event.kind !== 'access-denied') throw new Error('expected an access-denied event');

    const alert = accessDeniedAlert({ ...event, secrets: [`production/database/${'x'.repeat(120)}ü`] });

    expect(alert.subject.length).toBeLessThanOrEqual(100);
    expect(alert.subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('secretNameOf', () => {
  it("drops the ARN's prefix and random suffix", () => {
    expect(
      secretNameOf('arn:aws:secretsmanager:us-east-1:123456789012:secret:production/api-keys/aws-Ab12Cd'),
    ).toBe('production/api-keys/aws');
  });
});

describe('alertTopicArn', () => {
  it('takes ALERT_TOPIC_ARN as given, else builds the ARN beside the function', () => {
    const functionArn =
      'arn:aws:lambda:eu-west-1:111122223333:function:secrets-rotation-production-rotationEvents';

    expect(
      alertTopicArn({ topicArn: 'arn:aws:sns:us-east-1:123456789012:mine', topicName: 'x', functionArn }),
    ).toBe('arn:aws:sns:us-east-1:123456789012:mine');
    expect(alertTopicArn({ topicName: 'secrets-rotation-production-alerts', functionArn })).toBe(
      'arn:aws:sns:eu-west-1:111122223333:secrets-rotation-production-alerts',
    );
    expect(alertTopicArn({ topicName: 'secrets-rotation-production-alerts' })).toBeUndefined();
  });
});

describe('loadAlertConfig', () => {
  it('reads the topic and refuses a value that is not a topic ARN or name, naming the variable', () => {
    expect(loadAlertConfig({ ALERT_TOPIC_NAME: 'alerts' })).toEqual({ topicName: 'alerts' });
    expect(() => loadAlertConfig({ ALERT_TOPIC_ARN: 'alerts' })).toThrow(
      /ALERT_TOPIC_ARN must be an SNS topic ARN/,
    );
    expect(() => loadAlertConfig({ ALERT_TOPIC_NAME: 'a b' })).toThrow(ConfigurationError);
  });
});
