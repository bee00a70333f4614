import { resolveGeminiScript } from './gemini-binary';
import { buildGeminiInvocation } from './gemini-invocation';

describe(buildGeminiInvocation.name, () => {
  it('should run the bundled CLI with Node, headless, stream-json and auto_edit by default', () => {
    const invocation = buildGeminiInvocation({
      prompt: '--looks like a flag',
      homeDir: '/runs/r1',
      baseUrl: 'http://127.0.0.1:4010/s/reply/r1',
      apiKey: 'scripted',
    });
    expect(invocation.command).toBe(process.execPath);
    expect(invocation.args).toEqual([
      resolveGeminiScript(),
      '--output-format',
      'stream-json',
      '--approval-mode',
      'auto_edit',
      '--prompt=--looks like a flag',
    ]);
    expect(invocation.env).toEqual({
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: '/runs/r1',
      GEMINI_CLI_HOME: '/runs/r1',
      LANG: 'C.UTF-8',
      GEMINI_CLI_NO_RELAUNCH: 'true',
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
      GEMINI_API_KEY: 'scripted',
      GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:4010/s/reply/r1',
    });
  });

  it('should pass model, allowed tools, resume and yolo for bypassPermissions', () => {
    const invocation = buildGeminiInvocation({
      prompt: 'p',
      homeDir: '/h',
      model: 'gemini-2.5-flash',
      permissionMode: 'bypassPermissions',
      allowedTools: ['run_shell_command(git)'],
      resumeSessionId: 'cad28cd9-a50d-41ef-95ac-b6ade2b34d73',
    });
    expect(invocation.args.slice(1)).toEqual([
      '--output-format',
      'stream-json',
      '--approval-mode',
      'yolo',
      '--model',
      'gemini-2.5-flash',
      '--allowed-tools',
      'run_shell_command(git)',
      '--resume',
      'cad28cd9-a50d-41ef-95ac-b6ade2b34d73',
      '--prompt=p',
    ]);
  });

  it('should write settings into the per-run home that select API-key auth, the turn limit and excluded tools', () => {
    const invocation = buildGeminiInvocation({
      prompt: 'p',
      homeDir: '/runs/r1',
      maxTurns: 7,
      disallowedTools: ['run_shell_command'],
    });
    expect(invocation.files).toHaveLength(1);
    expect(invocation.files?.[0]?.path).toBe('/runs/r1/.gemini/settings.json');
    expect(JSON.parse(invocation.files?.[0]?.content ?? '')).toEqual({
      security: { auth: { selectedType: 'gemini-api-key' } },
      general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
      privacy: { usageStatisticsEnabled: false },
      telemetry: { enabled: false },
      model: { skipNextSpeakerCheck: true, maxSessionTurns: 7 },
      tools: { exclude: ['run_shell_command'] },
    });
  });

  it('should ask for only a JSON object of the schema after the prompt, since the CLI has no option for it', () => {
    const outputSchema = { type: 'object', properties: { summary: { type: 'string' } } };
    const { args } = buildGeminiInvocation({ prompt: 'Summarize', homeDir: '/h', outputSchema });
    expect(args.at(-1)).toBe(
      [
        '--prompt=Summarize',
        '',
        '---',
        'When you are done, answer with only a JSON object that matches the JSON Schema below: no text before or after it, and no Markdown code fence.',
        '',
        JSON.stringify(outputSchema, null, 2),
      ].join('\n'),
    );
  });

  it('should send a prompt too long for one argument through stdin', () => {
    const prompt = 'é'.repeat(60_000);
    const invocation = buildGeminiInvocation({ prompt, homeDir: '/h' });
    expect(invocation.stdin).toBe(prompt);
    expect(invocation.args.at(-1)).toBe('--prompt=');
  });
});
