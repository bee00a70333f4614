import { createServer, request, type Server } from 'node:http';

// A test's view of what a CLI sent its model: listens on a Unix socket (the sandbox's way out),
// keeps each request body, and passes the request on to the scripted model unchanged.
export class RecordingRelay {
  readonly bodies: string[] = [];
  private server: Server | undefined;

  constructor(
    readonly socketPath: string,
    private readonly modelUrl: () => string,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.bodies.push(body.toString('utf8'));
        const upstream = request(
          new URL(req.url ?? '/', this.modelUrl()),
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.socketPath, resolve));
  }

  sent(text: string): boolean {
    return this.bodies.some((body) => body.includes(text));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
