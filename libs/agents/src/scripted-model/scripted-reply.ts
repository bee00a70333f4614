import { randomBytes } from 'node:crypto';
import type { ScriptedUsage } from './scenario.schema';

// One model reply as the scenario scripts it; each API protocol renders it in its own wire format.
export type ReplyBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

export interface ReplySpec {
  model: string;
  blocks: ReplyBlock[];
  stopReason: string;
  usage: ScriptedUsage;
  chunkSize: number;
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

export function randomId(prefix: string): string {
  return `${prefix}${randomBytes(8).toString('hex')}`;
}

export function chunkString(text: string, size: number): string[] {
  // Split on code points so a chunk never ends inside a surrogate pair.
  const codePoints = Array.from(text);
  const chunks: string[] = [];
  for (let start = 0; start < codePoints.length; start += size) {
    chunks.push(codePoints.slice(start, start + size).join(''));
  }
  return chunks;
}

export function formatSse(event: SseEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}
