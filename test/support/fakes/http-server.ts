import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the fake server saw it. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  /** Parsed JSON, or the form's fields for `application/x-www-form-urlencoded`, or undefined. */
  readonly body: unknown;
  readonly rawBody: string;
  /** Path parameters captured by the route's pattern (named groups). */
  readonly params: Record<string, string>;
}

/** What a route answers. A body that is not a string is sent as JSON. */
export interface FakeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Handler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/**
 * A small HTTP server on 127.0.0.1 for fake provider APIs: routes by method and path
 * pattern, records every request, and can be told to fail the next requests (429, 5xx,
 * malformed bodies) to exercise error handling. Unknown routes answer 404.
 */
export class FakeHttpServer {
  readonly requests: FakeRequest[] = [];
  #server: Server;
  #routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  #faults: FakeResponse[] = [];

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a server on a free loopback port. */
  static async start(): Promise<FakeHttpServer> {
    const server = createServer();
    const fake = new FakeHttpServer(server);
    server.on('request', (req, res) => void fake.#handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Adds a route; `path` is a string with `:name` parameters or a RegExp with named groups. */
  route(method: string, path: string | RegExp, handler: Handler): this {
    const pattern =
      typeof path === 'string'
        ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:(\w+)/g, '(?<$1>[^/]+)')}$`)
        : path;
    this.#routes.push({ method, pattern, handler });
    return this;
  }

  /** The next `count` requests get `response` instead of their route's answer. */
  failNext(response: FakeResponse, count = 1): void {
    for (let i = 0; i < count; i++) this.#faults.push(response);
  }

  /** Forgets recorded requests and pending faults. */
  reset(): void {
    this.requests.length = 0;
    this.#faults.length = 0;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const type = req.headers['content-type'] ?? '';
    let body: unknown;
    if (type.includes('application/x-www-form-urlencoded'))
      body = Object.fromEntries(new URLSearchParams(rawBody));
    else if (rawBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
    }
    const method = req.method ?? 'GET';
    const route = this.#routes.find((r) => r.method === method && r.pattern.test(url.pathname));
    const params = { ...(route ? (route.pattern.exec(url.pathname)?.groups ?? {}) : {}) };
    const request: FakeRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      rawBody,
      params,
    };
    this.requests.push(request);
    let response: FakeResponse;
    try {
      response =
        this.#faults.shift() ??
        (route ? await route.handler(request) : { status: 404, body: { message: 'not found' } });
    } catch (error) {
      response = { status: 500, body: { message: (error as Error).message } };
    }
    const payload =
      typeof response.body === 'string'
        ? response.body
        : response.body === undefined
          ? ''
          : JSON.stringify(response.body);
    res.writeHead(response.status, {
      'content-type': typeof response.body === 'string' ? 'text/plain' : 'application/json',
      ...response.headers,
    });
    res.end(payload);
  }
}
