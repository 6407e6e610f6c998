import type { AccessDeniedEvent, RotationOutcomeEvent } from './events.js';

/** An alert: a one-line subject and a JSON body of identifiers, never a secret value. */
export interface Alert {
  /** ASCII, at most 100 characters, no line breaks (SNS's rules for email subjects). */
  readonly subject: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The alert of a failed or abandoned rotation. */
export function rotationAlert(event: RotationOutcomeEvent): Alert {
  const what = event.outcome === 'abandoned' ? 'abandoned' : 'failed';
  return {
    subject: subject(`Secret rotation ${what}: ${event.secretName}`),
    body: {
      alert: `rotation-${what}`,
      summary:
        what === 'failed'
          ? `Rotation of ${event.secretName} failed. AWSPENDING stays on the new version until the rotation is finished; see the rotation function's log, then run rotateNow with {"repair": true}.`
          : `Rotation of ${event.secretName} was abandoned: a new value was stored while it ran, and Secrets Manager removed AWSPENDING. Check who changed the secret.`,
      secret: event.secretName,
      secretArn: event.secretArn,
      ...(event.message ? { reason: event.message } : {}),
      ...(event.eventTime ? { time: event.eventTime } : {}),
      ...(event.account ? { account: event.account } : {}),
      ...(event.region ? { region: event.region } : {}),
      ...(event.eventId ? { eventId: event.eventId } : {}),
    },
  };
}

/** The alert of an unauthorized Secrets Manager call. */
export function accessDeniedAlert(event: AccessDeniedEvent): Alert {
  const target = event.secrets.length > 0 ? event.secrets.join(', ') : 'no named secret';
  const who = event.caller.arn ?? event.caller.principalId ?? 'an unknown caller';
  return {
    subject: subject(`Unauthorized Secrets Manager call: ${event.eventName} on ${target}`),
    body: {
      alert: 'unauthorized-access',
      summary: `${who} was refused ${event.eventName} (${event.errorCode}) on ${target}${event.caller.sourceIp ? ` from ${event.caller.sourceIp}` : ''}.`,
      eventName: event.eventName,
      errorCode: event.errorCode,
      secrets: event.secrets,
      caller: event.caller,
      ...(event.errorMessage ? { errorMessage: event.errorMessage } : {}),
      ...(event.eventTime ? { time: event.eventTime } : {}),
      ...(event.account ? { account: event.account } : {}),
      ...(event.region ? { region: event.region } : {}),
      ...(event.eventId ? { eventId: event.eventId } : {}),
    },
  };
}

/** A valid SNS subject: printable ASCII, one line, at most 100 characters. */
function subject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 100 ? `${ascii.slice(0, 97)}...` : ascii;
}
