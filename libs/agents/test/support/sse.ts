export interface ParsedSseEvent {
  event: string;
  data: Record<string, unknown>;
}

export function parseSse(text: string): ParsedSseEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length) ?? 'message';
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice('data: '.length))
        .join('\n');
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

// Concatenates the deltas of one content block, by kind.
export function blockDeltas(events: readonly ParsedSseEvent[], index: number): string {
  return events
    .filter((event) => event.event === 'content_block_delta' && event.data['index'] === index)
    .map((event) => {
      const delta = event.data['delta'] as Record<string, unknown>;
      const piece = delta['text'] ?? delta['partial_json'] ?? delta['thinking'] ?? '';
      return typeof piece === 'string' ? piece : '';
    })
    .join('');
}
