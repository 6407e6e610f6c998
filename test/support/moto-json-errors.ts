/**
 * moto, with request authentication on, refuses a JSON-protocol request (Secrets Manager)
 * with an XML `ErrorResponse` and HTTP 403, which the SDK cannot read. AWS answers such
 * requests in the JSON protocol: HTTP 400, `{"__type": "AccessDeniedException", "Message": …}`
 * (or UnrecognizedClientException for an unknown key, InvalidSignatureException for a wrong
 * secret). This middleware rewrites moto's refusal into AWS's form, code and message kept,
 * so the client sees what it would see on AWS. moto still makes every decision: which
 * principal, which policy, allow or deny.
 */
import { Readable } from 'node:stream';
import type {
  SecretsManagerClient,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-secrets-manager';
import type { DeserializeMiddleware } from '@smithy/types';

/** moto's codes (query-protocol style) → AWS's codes for JSON-protocol services. */
const JSON_CODES: Record<string, string> = {
  AccessDenied: 'AccessDeniedException',
  InvalidClientTokenId: 'UnrecognizedClientException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
};

/** How many refusals were rewritten, so tests can assert the shim took part. */
export const rewrittenRefusals = { count: 0 };

interface RawResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array> | Readable;
}

/** Makes `client` receive moto's authentication refusals as AWS's JSON error answers. */
export function withAwsJsonErrors<C extends SecretsManagerClient>(client: C): C {
  const middleware: DeserializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    const out = await next(args);
    const response = out.response as RawResponse;
    if (response.statusCode !== 403) return out;
    const chunks: Buffer[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk));
    const text = Buffer.concat(chunks).toString('utf8');
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '';
    const type = code ? JSON_CODES[code] : undefined;
    if (!type) {
      response.body = Readable.from([Buffer.from(text)]);
      return out;
    }
    rewrittenRefusals.count++;
    const body = Buffer.from(JSON.stringify({ __type: type, Message: message }));
    response.statusCode = 400;
    response.headers = {
      ...response.headers,
      'content-type': 'application/x-amz-json-1.1',
      'content-length': String(body.length),
      'x-amzn-errortype': type,
    };
    response.body = Readable.from([body]);
    return out;
  };
  client.middlewareStack.addRelativeTo(middleware, {
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
    name: 'awsJsonErrors',
  });
  return client;
}
