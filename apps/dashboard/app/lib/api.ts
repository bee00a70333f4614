'use client';

// The dashboard's one way to the REST API: same origin (/api/v1/...), the session cookie, and
// problem+json errors turned into ApiError with the field names the gateway gave.
export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { path?: string; field?: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `request failed (${problem.status})`);
  }
  get status() {
    return this.problem.status;
  }
}

export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  signal?: AbortSignal;
}

export function apiUrl(path: string, query?: ApiOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return `/api/v1${path}${search ? `?${search}` : ''}`;
}

export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const response = await fetch(apiUrl(path, options.query), {
    method: options.method ?? 'GET',
    credentials: 'same-origin',
    headers: options.body === undefined ? undefined : { 'content-type': 'application/json' },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: 'no-store',
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = { title: text.slice(0, 200) };
  }
  if (!response.ok) {
    throw new ApiError({ ...(body as Partial<Problem>), status: response.status });
  }
  return body as T;
}

// What a person should read about a failed call: the detail, and each field named.
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = (error.problem.errors ?? [])
      .map((item) => `${item.path ?? item.field ?? ''}${item.path || item.field ? ': ' : ''}${item.message}`)
      .join('; ');
    return [error.message, fields].filter(Boolean).join(' — ');
  }
  return error instanceof Error ? error.message : String(error);
}
