import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { ZodValidationException, ZodValidationPipe } from 'nestjs-zod';
import { ZodError } from 'zod';
import { NUL } from '@hangar/contracts';

// The global pipe: the zod DTO of each parameter, and before it one rule for every string a
// request brings (path parameters, query, body, keys included): no NUL character. PostgreSQL's
// text and jsonb cannot hold one, so it would fail in the database as a 500 instead of a 400
// naming the field.
@Injectable()
export class RequestValidationPipe implements PipeTransform {
  private readonly zod = new ZodValidationPipe();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    // Custom decorators (the caller) carry what the gateway made, not what the client sent.
    if (metadata.type !== 'custom') {
      const path = nulAt(value, metadata.data ? [metadata.data] : []);
      if (path) {
        throw new ZodValidationException(
          new ZodError([
            { code: 'custom', path, message: 'must not contain NUL (\\u0000) characters', input: value },
          ]),
        );
      }
    }
    return this.zod.transform(value, metadata);
  }
}

function nulAt(value: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (typeof value === 'string') return value.includes(NUL) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulAt(item, [...path, index]);
      if (found) return found;
    }
    return undefined;
  }
  // Raw webhook bodies are bytes checked by signature, not strings the gateway stores as text.
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes(NUL)) return [...path, key];
    const found = nulAt(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
