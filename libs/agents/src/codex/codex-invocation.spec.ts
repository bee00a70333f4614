import { CodexBinaryNotFound, resolveCodexBinary } from './codex-binary';
import { buildCodexInvocation } from './codex-invocation';

const PROVIDER_ARGS = [
  '-c',
  'model_provider="hangar"',
  '-c',
  'model_providers.hangar.name="Hangar"',
  '-c',
  'model_providers.hangar.base_url="http://127.0.0.1:4010/s/reply/r1/v1"',
  '-c',
  'model_providers.hangar.wire_api="responses"',
  '-c',
  'model_providers.hangar.env_key="OPENAI_API_KEY"',
  '-c',
  'check_for_update_on_startup=false',
  '-c',
  'analytics.enabled=false',
];

describe(buildCodexInvocation.name, () => {
  const base = { prompt: 'write hello', homeDir: '/runs/r1', baseUrl: 'http://127.0.0.1:4010/s/reply/r1/v1' };

  it('should run the native binary headless with JSON events, a workspace-write sandbox and our own provider', () => {
    const invocation = buildCodexInvocation({ ...base, apiKey: 'sk-scripted' });
    expect(invocation.command).toBe(resolveCodexBinary());
    expect(invocation.args).toEqual([
      'exec',
      '--json',
      '--color',
      'never',
      '--skip-git-repo-check',
      '--sandbox',
      'workspace-write',
      ...PROVIDER_ARGS,
      '--',
      'write hello',
    ]);
    expect(invocation.env).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/runs/r1',
      CODEX_HOME: '/runs/r1',
      LANG: 'C.UTF-8',
      OPENAI_API_KEY: 'sk-scripted',
    });
  });

  it('should resume a thread, set model and developer instructions, and bypass the sandbox when asked', () => {
    const invocation = buildCodexInvocation({
      ...base,
      prompt: '-starts with a dash',
      model: 'gpt-5.5',
      permissionMode: 'bypassPermissions',
      appendSystemPrompt: 'Say "hi".',
      resumeSessionId: '01a2061a-c31d-7911-9d00-2ee939a0d53d',
    });
    expect(invocation.args.slice(5, 6)).toEqual(['--dangerously-bypass-approvals-and-sandbox']);
    expect(invocation.args.slice(-8)).toEqual([
      '--model',
      'gpt-5.5',
      '-c',
      'developer_instructions="Say \\"hi\\"."',
      'resume',
      '--',
      '01a2061a-c31d-7911-9d00-2ee939a0d53d',
      '-starts with a dash',
    ]);
  });

  it('should map plan to a read-only sandbox and default the base URL to OpenAI', () => {
    const args = buildCodexInvocation({ prompt: 'p', homeDir: '/h', permissionMode: 'plan' }).args;
    expect(args).toEqual(expect.arrayContaining(['--sandbox', 'read-only']));
    expect(args).toContain('model_providers.hangar.base_url="https://api.openai.com/v1"');
  });

  it("should leave the sandbox to Hangar's inside it, and trust the project only when asked", () => {
    const inside = buildCodexInvocation({
      prompt: 'p',
      homeDir: '/h',
      permissionMode: 'plan',
      sandboxed: true,
    });
    expect(inside.args).toEqual(expect.arrayContaining(['--sandbox', 'danger-full-access']));
    expect(inside.args).not.toContain('--trust');
    const trusted = buildCodexInvocation({ prompt: 'p', homeDir: '/h', trustRepositorySettings: true });
    expect(trusted.args).toEqual(expect.arrayContaining(['--trust', '--dangerously-bypass-hook-trust']));
  });

  it("should pass the output schema as a file in the run's home with --output-schema, before the prompt", () => {
    const outputSchema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const invocation = buildCodexInvocation({ ...base, outputSchema, resumeSessionId: 'thread-1' });
    const at = invocation.args.indexOf('--output-schema');
    expect(invocation.args[at + 1]).toBe('/runs/r1/output-schema.json');
    expect(at).toBeLessThan(invocation.args.indexOf('resume'));
    expect(invocation.files).toEqual([
      { path: '/runs/r1/output-schema.json', content: `${JSON.stringify(outputSchema)}\n` },
    ]);
    expect(invocation.args.slice(-4)).toEqual(['resume', '--', 'thread-1', 'write hello']);
    const plain = buildCodexInvocation(base);
    expect(plain.args).not.toContain('--output-schema');
    expect(plain.files).toBeUndefined();
  });

  it("should export Codex's telemetry to the endpoint with the credential, prompts only when asked, the credential never on the command line", () => {
    const invocation = (logContent: boolean) =>
      buildCodexInvocation({
        ...base,
        telemetryExport: { endpoint: 'http://10.0.2.2:7001/otlp', token: 'hgr_att_x', logContent },
      });
    const exporter = (name: string, signal: string) =>
      `[otel.${name}.otlp-http]\nendpoint = "http://10.0.2.2:7001/otlp/v1/${signal}"\nprotocol = "binary"\nheaders = { Authorization = "Bearer hgr_att_x" }`;
    const quiet = invocation(false);
    expect(quiet.files).toEqual([
      {
        path: '/runs/r1/config.toml',
        content: `[otel]\nlog_user_prompt = false\n\n${exporter('exporter', 'logs')}\n\n${exporter('trace_exporter', 'traces')}\n\n${exporter('metrics_exporter', 'metrics')}\n`,
      },
    ]);
    expect(quiet.args.join(' ')).not.toContain('hgr_att_x');
    expect(invocation(true).files?.[0]?.content).toMatch(/^\[otel\]\nlog_user_prompt = true\n/);
    expect(buildCodexInvocation(base).files).toBeUndefined();
  });

  it('should read a prompt too long for one argument from stdin', () => {
    const prompt = 'é'.repeat(60_000);
    const invocation = buildCodexInvocation({ prompt, homeDir: '/h' });
    expect(invocation.stdin).toBe(prompt);
    expect(invocation.args.slice(-2)).toEqual(['--', '-']);
  });
});

describe(resolveCodexBinary.name, () => {
  it('should find the native executable in the per-platform optional package', () => {
    expect(resolveCodexBinary()).toMatch(/@openai\/codex.*\/vendor\/[^/]+\/bin\/codex$/);
  });

  it('should refuse an explicit path that is not executable', () => {
    expect(() => resolveCodexBinary('/nonexistent/codex')).toThrow(CodexBinaryNotFound);
  });
});
