import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// One frame of a streamed reply; the scenario's chunkDelayMs comes before each delta frame.
export interface StreamFrame {
  text: string;
  delta: boolean;
}

export async function sendStream(
  res: ServerResponse,
  headers: Record<string, string>,
  frames: readonly StreamFrame[],
  chunkDelayMs: number,
  signal: AbortSignal,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...headers,
  });
  for (const frame of frames) {
    if (signal.aborted) return;
    if (chunkDelayMs > 0 && frame.delta && !(await pause(chunkDelayMs, signal))) return;
    res.write(frame.text);
  }
  res.end();
}

export type BodyResult = { ok: true; value: unknown; size: number } | { ok: false; error: string };

export async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) return { ok: false, error: `request body exceeds ${MAX_BODY_BYTES} bytes` };
    chunks.push(buffer);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')), size };
  } catch {
    return { ok: false, error: 'request body is not valid JSON' };
  }
}

export function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

// Resolves false when the client went away during the pause.
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(headerValue(req, 'authorization') ?? '')?.[1];
}
