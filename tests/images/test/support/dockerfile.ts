import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser, type Instruction, type ModifiableInstruction } from 'dockerfile-ast';

export interface DockerInstruction {
  keyword: string;
  // Arguments after the flags, continuation lines joined.
  text: string;
  flags: Map<string, string | null>;
  line: number;
}

export interface Stage {
  name: string | undefined;
  // The FROM image with ARG defaults substituted; another stage's name when built on one.
  base: string;
  instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  file: string;
  args: Map<string, string>;
  stages: Stage[];
}

function flagsOf(instruction: Instruction): Map<string, string | null> {
  const flags = new Map<string, string | null>();
  const modifiable = instruction as Partial<ModifiableInstruction>;
  for (const flag of modifiable.getFlags?.() ?? []) flags.set(flag.getName(), flag.getValue());
  return flags;
}

export function substitute(value: string, variables: Map<string, string>): string {
  return value.replace(
    /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
    (whole, name: string) => variables.get(name) ?? whole,
  );
}

export function parseDockerfile(file: string): ParsedDockerfile {
  const dockerfile = DockerfileParser.parse(readFileSync(file, 'utf8'));
  const args = new Map<string, string>();
  for (const arg of dockerfile.getARGs()) {
    const property = arg.getProperty();
    const value = property?.getValue();
    if (property && value !== null && value !== undefined) args.set(property.getName(), value);
  }
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    const parsed: DockerInstruction = {
      keyword,
      text: instruction.getArgumentsContent() ?? '',
      flags: flagsOf(instruction),
      line: instruction.getRange().start.line + 1,
    };
    if (keyword === 'FROM') {
      const [image = '', as, name] = parsed.text.split(/\s+/);
      stages.push({
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        base: substitute(image, args),
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(parsed);
    }
  }
  return { file, args, stages };
}

export function finalStage(dockerfile: ParsedDockerfile): Stage {
  const stage = dockerfile.stages.at(-1);
  if (!stage) throw new Error(`${dockerfile.file} has no FROM`);
  return stage;
}

export function instructionsOf(stage: Stage, keyword: string): DockerInstruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

// CMD ["a", "b"] / ENTRYPOINT [...] / HEALTHCHECK CMD [...]: the exec form's argv.
export function execForm(instruction: DockerInstruction): string[] {
  const json = instruction.text.replace(/^CMD\s+/, '');
  const argv: unknown = JSON.parse(json);
  if (!Array.isArray(argv) || !argv.every((item) => typeof item === 'string')) {
    throw new Error(`line ${instruction.line}: not an exec-form array: ${instruction.text}`);
  }
  return argv;
}

// ENV A=1 B=2 (one instruction, several pairs) into a map; later stages' ENV win.
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const instruction of instructionsOf(stage, 'ENV')) {
    for (const pair of instruction.text.split(/\s+/)) {
      const equals = pair.indexOf('=');
      if (equals > 0) env.set(pair.slice(0, equals), pair.slice(equals + 1));
    }
  }
  return env;
}

// The last WORKDIR of a stage (absolute), `/` when none.
export function workdirOf(stage: Stage): string {
  let workdir = '/';
  for (const instruction of instructionsOf(stage, 'WORKDIR'))
    workdir = path.posix.resolve(workdir, instruction.text);
  return workdir;
}

export interface CopyStep {
  from: string | undefined;
  sources: string[];
  // Absolute, resolved against the stage's WORKDIR at that point.
  destination: string;
  line: number;
}

export function copiesOf(stage: Stage): CopyStep[] {
  const copies: CopyStep[] = [];
  let workdir = '/';
  for (const instruction of stage.instructions) {
    if (instruction.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, instruction.text);
    if (instruction.keyword !== 'COPY') continue;
    const parts = instruction.text.split(/\s+/).filter(Boolean);
    const destination = parts.pop() ?? '';
    copies.push({
      from: instruction.flags.get('from') ?? undefined,
      sources: parts,
      destination: path.posix.resolve(workdir, destination),
      line: instruction.line,
    });
  }
  return copies;
}
