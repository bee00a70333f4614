#!/usr/bin/env node
// Records what a real agent CLI prints for a scenario of the scripted model.
//   pnpm --filter @hangar/agents build
//   node libs/agents/scripts/record-fixture.mjs <scenario> [fixture-name] [--provider claude|codex|gemini]
//     [--permission-mode <mode>] [--model <model>] [--timeout-ms <ms>]
// Writes libs/agents/test/fixtures/<provider>-<cli version>-<fixture-name>.stream.jsonl.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const agents = require(path.join(packageRoot, 'dist', 'index.js'));
const CLI_PACKAGES = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  gemini: '@google/gemini-cli',
};

const args = process.argv.slice(2);
const flag = (name) => {
  const index = args.indexOf(name);
  if (index === -1) return undefined;
  const [, value] = args.splice(index, 2);
  return value;
};
const provider = flag('--provider') ?? 'claude';
const permissionMode = flag('--permission-mode');
const model = flag('--model');
const timeoutMs = Number(flag('--timeout-ms') ?? 60_000);
const [scenario, fixtureName = scenario] = args;
if (!scenario || !CLI_PACKAGES[provider]) {
  console.error(
    'usage: record-fixture.mjs <scenario> [fixture-name] [--provider claude|codex|gemini] [--permission-mode <mode>] [--model <model>] [--timeout-ms <ms>]',
  );
  process.exit(2);
}

const cliVersion = JSON.parse(
  readFileSync(require.resolve(`${CLI_PACKAGES[provider]}/package.json`), 'utf8'),
).version;
// A stable directory (not mkdtemp) keeps the paths inside recorded fixtures the same between recordings.
const runDir = path.join(
  tmpdir(),
  `hangar-fixture-${provider === 'claude' ? '' : `${provider}-`}${fixtureName}`,
);
rmSync(runDir, { recursive: true, force: true });
mkdirSync(path.join(runDir, 'work'), { recursive: true });
mkdirSync(path.join(runDir, 'home'), { recursive: true });

const adapter = agents.agentAdapterFor(provider);
const model_ = await agents.startScriptedModel({ port: 0 });
const chunks = [];
const recorder = adapter.createParser();
const parser = {
  push: (chunk) => {
    chunks.push(Buffer.from(chunk));
    return recorder.push(chunk);
  },
  end: () => recorder.end(),
};
try {
  const invocation = adapter.buildInvocation({
    prompt: `Run the ${scenario} scenario.`,
    homeDir: path.join(runDir, 'home'),
    baseUrl: agents.scriptedModelBaseUrl(model_.url, scenario, `record-${fixtureName}`, provider),
    apiKey: 'scripted',
    ...(permissionMode ? { permissionMode } : {}),
    ...(model ? { model } : {}),
  });
  const handle = await agents.spawnAgent(invocation, {
    cwd: path.join(runDir, 'work'),
    timeoutMs,
    parser,
    onEvent: (event) => console.error(`${event.type}`),
  });
  const exit = await handle.done;
  const out = path.join(
    packageRoot,
    'test',
    'fixtures',
    `${provider}-${cliVersion}-${fixtureName}.stream.jsonl`,
  );
  writeFileSync(out, Buffer.concat(chunks));
  console.error(JSON.stringify({ fixture: path.relative(process.cwd(), out), exit }));
} finally {
  await model_.close();
}
