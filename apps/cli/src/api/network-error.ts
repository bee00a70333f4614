// fetch reports every network failure as "fetch failed"; the useful part (ECONNREFUSED, ...)
// sits in `cause`, or in the first of an AggregateError's errors. Duck-typed because errors
// from undici may come from another realm (Jest), where `instanceof Error` is false.
export function networkErrorReason(error: unknown): string {
  if (isObject(error) && error.name === 'TimeoutError') return 'no answer in time';
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    if (typeof current.code === 'string') return current.code;
    current = Array.isArray(current.errors) && current.errors.length > 0 ? current.errors[0] : current.cause;
  }
  if (isObject(error) && typeof error.message === 'string') return error.message;
  return String(error);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
