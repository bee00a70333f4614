import { readFileSync } from 'node:fs';

// (Node's WebAssembly has no types without the DOM library, which this package does not load.)
declare const WebAssembly: { Module: new (bytes: Uint8Array) => object };

// Prisma's query compiler, compiled from the base64 module Prisma ships (`<file>`, as the generated
// client names it), read as bytes: importing that module kept its 2.3 MB of text twice in the heap
// for the life of every service (scripts/generate.mjs makes the generated client call this).
export function queryCompilerModule(file: string): object {
  const source = readFileSync(require.resolve(file));
  const start = source.indexOf('"') + 1;
  const end = source.indexOf('"', start);
  if (start === 0 || end < 0) throw new Error(`${file} holds no base64 WebAssembly`);
  return new WebAssembly.Module(Buffer.from(source.subarray(start, end).toString('latin1'), 'base64'));
}
