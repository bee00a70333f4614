// `prisma generate` that works offline (air-gapped installs, CI without internet).
//
// Generating Prisma Client runs entirely in WebAssembly, but the Prisma 7 CLI insists that a schema
// engine binary exists before it runs any command, and downloads one if it does not. Hangar never
// needs that engine (it applies migrations itself, see src/migrate.ts), so unless you point
// PRISMA_SCHEMA_ENGINE_BINARY at a real engine, we point it at ./schema-engine-placeholder, which
// explains itself and exits 1 if anything ever tries to run it. See docs/database.md.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(packageDir, 'package.json'));
const prismaCli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js');

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY:
    process.env.PRISMA_SCHEMA_ENGINE_BINARY || path.join(packageDir, 'scripts', 'schema-engine-placeholder'),
  // No update check or telemetry call: on an air-gapped machine it can only fail or stall.
  CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE ?? '1',
  PRISMA_HIDE_UPDATE_MESSAGE: process.env.PRISMA_HIDE_UPDATE_MESSAGE ?? '1',
};

const result = spawnSync(
  process.execPath,
  [prismaCli, 'generate', '--config', path.join(packageDir, 'prisma.config.ts'), ...process.argv.slice(2)],
  { cwd: packageDir, env, stdio: 'inherit' },
);
if (result.error) {
  console.error(`generate: cannot run the Prisma CLI: ${result.error.message}`);
  process.exit(1);
}
if (result.status !== 0) process.exit(result.status ?? 1);

// The generated client imports its query compiler as a JS module holding the WebAssembly in
// base64: imported, that text stays in the heap twice (the module's source and its export), 4.5 MB
// in every service. src/query-compiler-wasm.ts reads the same file as bytes instead, and keeps
// nothing of it but the compiled module (docs/performance.md, "Small services").
const classFile = path.join(packageDir, 'src', 'generated', 'prisma', 'internal', 'class.ts');
const generated = readFileSync(classFile, 'utf8');
const loader =
  /getQueryCompilerWasmModule: async \(\) => \{\n\s*const \{ wasm \} = await import\("(@prisma\/client\/runtime\/query_compiler_[a-z_]+_bg\.postgresql\.wasm-base64\.js)"\)\n\s*return await decodeBase64AsWasm\(wasm\)\n\s*\}/;
const found = loader.exec(generated);
if (!found) {
  console.error(
    `generate: ${path.relative(packageDir, classFile)} no longer loads its query compiler as this script expects ` +
      '(a new Prisma version?): update the rewrite in scripts/generate.mjs and src/query-compiler-wasm.ts',
  );
  process.exit(1);
}
const withLoader = generated.replace(
  loader,
  // (require: the client compiles to CommonJS, where import() would want the file's extension)
  `getQueryCompilerWasmModule: async () => (require("../../../query-compiler-wasm") as typeof import("../../../query-compiler-wasm")).queryCompilerModule(${JSON.stringify(found[1])})`,
);
writeFileSync(classFile, sparseParameterGraph(withLoader));

// The client keeps its parameterization graph (which argument of which model is a parameter) as
// one plain object per input type, keyed by the index of each field's name in its string table.
// V8 gives an object whose first key is an index below 1024 an array of elements as long as that
// index: ~9 KB for most of Hangar's ~800 input types, 7 MB in every service. Keys from 1024 on get a
// small dictionary instead. So the string table starts with 1024 placeholders and every index in
// the graph moves up by as many; the graph means the same (checked by decoding it back).
function sparseParameterGraph(source) {
  const SHIFT = 1024;
  const schema =
    /config\.parameterizationSchema = \{\n  strings: JSON\.parse\((".*")\),\n  graph: "([A-Za-z0-9_-]*)"\n\}/;
  const found = schema.exec(source);
  if (!found) {
    console.error(
      `generate: ${path.relative(packageDir, classFile)} no longer holds its parameterization graph as this ` +
        'script expects (a new Prisma version?): update sparseParameterGraph in scripts/generate.mjs',
    );
    process.exit(1);
  }
  const strings = JSON.parse(JSON.parse(found[1]));
  const graph = decodeGraph(Buffer.from(found[2], 'base64url'));
  if (encodeGraph(graph, 0).toString('base64url') !== found[2]) {
    console.error(
      'generate: the parameterization graph does not decode as scripts/generate.mjs expects (a new Prisma version?)',
    );
    process.exit(1);
  }
  const shifted = [...Array.from({ length: SHIFT }, (_, index) => `\u0000${index}`), ...strings];
  return source.replace(
    schema,
    () =>
      `config.parameterizationSchema = {\n  strings: JSON.parse(${JSON.stringify(JSON.stringify(shifted))}),\n  graph: "${encodeGraph(graph, SHIFT).toString('base64url')}"\n}`,
  );
}

// The graph's encoding (Prisma 7's ParamGraph): counts, then input nodes (edges: name index,
// scalar mask u16, child node + 1, enum name index + 1, flags u8), output nodes (edges: name index,
// args node + 1, output node + 1) and roots (name index, args node + 1, output node + 1); numbers
// as unsigned LEB128.
function decodeGraph(bytes) {
  let at = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value += (byte & 127) * 2 ** shift;
      shift += 7;
    } while (byte >= 128);
    return value;
  };
  const [inputs, outputs, roots] = [varint(), varint(), varint()];
  const list = (count, read) => Array.from({ length: count }, read);
  const input = list(inputs, () =>
    list(varint(), () => {
      const name = varint();
      const mask = bytes[at] | (bytes[at + 1] << 8);
      at += 2;
      const [child, enumName] = [varint(), varint()];
      return { name, mask, child, enumName, flags: bytes[at++] };
    }),
  );
  const output = list(outputs, () =>
    list(varint(), () => ({ name: varint(), args: varint(), out: varint() })),
  );
  const root = list(roots, () => ({ name: varint(), args: varint(), out: varint() }));
  if (at !== bytes.length) throw new Error('trailing bytes in the parameterization graph');
  return { input, output, root };
}

function encodeGraph({ input, output, root }, shift) {
  const bytes = [];
  const varint = (value) => {
    do {
      const low = value % 128;
      value = Math.floor(value / 128);
      bytes.push(value > 0 ? low | 128 : low);
    } while (value > 0);
  };
  [input.length, output.length, root.length].forEach(varint);
  for (const edges of input) {
    varint(edges.length);
    for (const edge of edges) {
      varint(edge.name + shift);
      bytes.push(edge.mask & 255, edge.mask >> 8);
      varint(edge.child);
      varint(edge.enumName === 0 ? 0 : edge.enumName + shift);
      bytes.push(edge.flags);
    }
  }
  for (const edges of output) {
    varint(edges.length);
    for (const edge of edges) [edge.name + shift, edge.args, edge.out].forEach(varint);
  }
  for (const entry of root) [entry.name + shift, entry.args, entry.out].forEach(varint);
  return Buffer.from(bytes);
}
