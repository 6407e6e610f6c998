import * as z from 'zod';

/** libpq's TLS modes this product accepts. `prefer` and `allow` may fall back to plaintext, so they are refused. */
export const SslModes = ['disable', 'require', 'verify-ca', 'verify-full'] as const;

/** How a connection to the database uses TLS. */
export type SslMode = (typeof SslModes)[number];

/** The typed view of a PostgreSQL secret: the seed's shape or the RDS shape. */
export interface PostgresSecret {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly sslmode: SslMode;
  /** The secret's `connection_string`, when it has one (rewritten at each rotation). */
  readonly connectionString?: string;
}

/** TLS mode used when neither the secret nor its connection string names one. */
export const DEFAULT_SSL_MODE: SslMode = 'verify-full';

const MAX_IDENTIFIER_BYTES = 63;

const noNul = (value: string) => !value.includes('\0');

const requiredString = () =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });

const sslmodeSchema = z
  .string()
  .refine((value) => (SslModes as readonly string[]).includes(value), {
    error: `must be one of ${SslModes.join(', ')} (prefer and allow are refused: they can fall back to plaintext)`,
  })
  .transform((value) => value as SslMode);

const connectionStringSchema = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'postgresql:' || url.protocol === 'postgres:';
    } catch {
      return false;
    }
  },
  { error: 'must be a postgresql:// URL' },
);

const portSchema = z
  .union([z.number(), z.string().regex(/^\d+$/).transform(Number)], { error: 'must be a port number' })
  .refine((port) => Number.isInteger(port) && port >= 1 && port <= 65535, { error: 'must be a port number' });

/**
 * Validates a PostgreSQL secret. Accepts the seed's shape (`database`, string `port`,
 * `connection_string`) and the RDS shape (`engine`, `dbname`, numeric `port`).
 * Every issue message names the field, never the value.
 */
export const postgresSecretSchema = z
  .looseObject({
    engine: z
      .string()
      .refine((engine) => ['postgres', 'aurora-postgresql'].includes(engine), {
        error: 'must be postgres or aurora-postgresql',
      })
      .optional(),
    host: requiredString().trim().min(1, { error: 'is required' }),
    port: portSchema.optional(),
    database: z.string().min(1).optional(),
    dbname: z.string().min(1).optional(),
    username: requiredString()
      .min(1, { error: 'is required' })
      .refine(noNul, { error: 'must not contain a NUL character' })
      .refine((name) => Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES, {
        error: `must be at most ${MAX_IDENTIFIER_BYTES} bytes (PostgreSQL would truncate it)`,
      }),
    password: requiredString()
      .min(1, { error: 'is required' })
      .refine(noNul, { error: 'must not contain a NUL character' }),
    connection_string: connectionStringSchema.optional(),
    sslmode: sslmodeSchema.optional(),
  })
  .superRefine((secret, ctx) => {
    const fromUrl = secret.connection_string
      ? new URL(secret.connection_string).searchParams.get('sslmode')
      : null;
    if (fromUrl !== null && !(SslModes as readonly string[]).includes(fromUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['connection_string'],
        message: `sslmode in the URL must be one of ${SslModes.join(', ')} (prefer and allow are refused: they can fall back to plaintext)`,
      });
    }
  })
  .transform(
    (secret): PostgresSecret => ({
      host: secret.host,
      port: secret.port ?? 5432,
      database: secret.database ?? secret.dbname ?? 'postgres',
      username: secret.username,
      password: secret.password,
      sslmode:
        secret.sslmode ??
        ((secret.connection_string &&
          new URL(secret.connection_string).searchParams.get('sslmode')) as SslMode | null) ??
        DEFAULT_SSL_MODE,
      ...(secret.connection_string ? { connectionString: secret.connection_string } : {}),
    }),
  );

/** Returns `connectionString` with its password replaced by `password`, percent-encoded. */
export function withPassword(connectionString: string, password: string): string {
  const url = new URL(connectionString);
  url.password = encodeURIComponent(password);
  return url.toString();
}
