/**
 * What the functions say about an invocation input they cannot use: `--data` that is not a
 * JSON object, or a field of the wrong type. The messages name types, never values.
 */
import { describe, expect, it } from 'vitest';
import {
  InvalidRevocationRequestError,
  isRevocationRequest,
  parseRevocationRequest,
} from '../../shared/api-keys/revocation.js';
import { InvalidRotationEventError, parseRotationEvent } from '../../shared/rotation/index.js';

const TOKEN = '22222222-2222-4222-8222-222222222222';
const SECRET_TEXT = 'hunter2-do-not-echo';

/** Inputs that are not JSON objects, as `serverless invoke local --data` hands them on. */
const notObjects: [label: string, input: unknown, type: string][] = [
  ['single-quoted JSON (passed on as a string)', `{'SecretId': '${SECRET_TEXT}'}`, 'string'],
  ['truncated JSON (passed on as a string)', `{"SecretId": "${SECRET_TEXT}"`, 'string'],
  ['an array', [SECRET_TEXT], 'array'],
  ['null', null, 'null'],
  ['a number', 42, 'number'],
  ['a boolean', true, 'boolean'],
  ['no input at all', undefined, 'nothing'],
];

describe('parseRotationEvent', () => {
  it.each(notObjects)(
    'reports %s as an event that is not a JSON object, naming its type',
    (_label, input, type) => {
      // Act
      const error = (() => {
        try {
          parseRotationEvent(input);
        } catch (e) {
          return e as Error;
        }
      })();

      // Assess
      expect(error).toBeInstanceOf(InvalidRotationEventError);
      expect(error?.message).toMatch(
        new RegExp(`^invalid rotation event: the event is not a JSON object \\(got ${type}\\)`),
      );
      expect(error?.message).not.toContain(SECRET_TEXT);
    },
  );

  it('says that a string is what text that is not valid JSON becomes', () => {
    expect(() => parseRotationEvent("{'Step': 'createSecret'}")).toThrow(
      'invalid rotation event: the event is not a JSON object (got string): text that is not valid JSON arrives as a string; check its quoting',
    );
  });

  it('names each field of the wrong type with the type it must have and the type it got, never the value', () => {
    const error = (() => {
      try {
        parseRotationEvent({
          SecretId: 12345,
          ClientRequestToken: [SECRET_TEXT],
          Step: 3,
          RotationToken: {},
        });
      } catch (e) {
        return e as Error;
      }
    })();

    expect(error?.message).toBe(
      'invalid rotation event: SecretId must be a string (got number); ClientRequestToken must be a string (got array); ' +
        'Step must be a string (got number); RotationToken must be a string (got object)',
    );
  });

  it('still names missing fields as required and an unknown step by the four it accepts', () => {
    expect(() => parseRotationEvent({ Step: 'rotateSecret', ClientRequestToken: TOKEN })).toThrow(
      'invalid rotation event: SecretId is required; Step must be one of createSecret, setSecret, testSecret, finishSecret',
    );
  });
});

describe('the revoke input parser', () => {
  it.each(notObjects)('reports %s as a revoke input that is not a JSON object', (_label, input, type) => {
    expect(() => parseRevocationRequest(input)).toThrow(InvalidRevocationRequestError);
    expect(() => parseRevocationRequest(input)).toThrow(
      new RegExp(`^invalid revoke input: the revoke input is not a JSON object \\(got ${type}\\)`),
    );
  });

  it('names each field of the wrong type, never the value', () => {
    expect(() => parseRevocationRequest({ action: 'revoke', SecretId: 7, VersionId: [SECRET_TEXT] })).toThrow(
      'invalid revoke input: SecretId must be a string (got number); VersionId must be a string (got array)',
    );
  });

  it('takes only an object with an action for a revoke input; anything else is a rotation event', () => {
    expect(isRevocationRequest({ action: 'revoke' })).toBe(true);
    expect(isRevocationRequest(['action'])).toBe(false);
    expect(isRevocationRequest('{"action":"revoke"}')).toBe(false);
    expect(isRevocationRequest(null)).toBe(false);
  });
});
