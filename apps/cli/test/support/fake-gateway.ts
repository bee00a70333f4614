import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  body: unknown;
}

export type Handler = (request: RecordedRequest) => { status: number; body: unknown; contentType?: string };

// A stand-in for the gateway's HTTP surface, to test what the CLI sends and how it shows answers.
export class FakeGateway {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;

  constructor(private readonly handler: Handler) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const recorded = {
      method: req.method ?? '',
      url: req.url ?? '',
      body: text === '' ? undefined : JSON.parse(text),
    };
    this.requests.push(recorded);
    const answer = this.handler(recorded);
    res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' });
    res.end(JSON.stringify(answer.body));
  }
}

export function taskJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'task-123',
    status: 'QUEUED',
    prompt: 'write a file',
    profile: 'default',
    scenario: 'write-file',
    timeoutSeconds: 600,
    attempts: 0,
    result: null,
    costUsd: null,
    usage: null,
    numTurns: null,
    durationMs: null,
    agentSessionId: null,
    exitCode: null,
    workspace: null,
    error: null,
    waiting: null,
    lastSeq: 0,
    traceId: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}
