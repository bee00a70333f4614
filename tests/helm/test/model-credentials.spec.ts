import { helm, render, RELEASE, templateArgs, valuesFile } from '../src/helm';
import { byKind, containerOf, find } from './support';

const minimal = [valuesFile('minimal-values.yaml')];
const KEY = 'sk-ant-chartPoolKey0123456789';

// Credential pools (MODEL_CREDENTIALS, docs/governance.md): the agent-runner's only, from the
// model Secret, as the JSON the runner reads.
describe('credential pools in the chart', () => {
  it('should hand the agent-runner its pools as JSON from the model Secret, and no one else', async () => {
    const objects = await render({
      valuesFiles: minimal,
      set: [
        'agentRunner.model.credentials.claude[0].name=team-a',
        `agentRunner.model.credentials.claude[0].key=${KEY}`,
        'agentRunner.model.credentials.claude[0].maxConcurrent=4',
        'agentRunner.model.credentials.claude[1].name=team-b',
        'agentRunner.model.credentials.claude[1].key=sk-ant-other',
      ],
    });
    const secret = byKind(objects, 'Secret').find(
      (candidate) => candidate.metadata.name === `${RELEASE}-model-keys`,
    );
    const stored = (secret?.stringData as Record<string, string> | undefined)?.MODEL_CREDENTIALS;
    expect(JSON.parse(stored ?? 'null')).toEqual({
      claude: [
        { name: 'team-a', key: KEY, maxConcurrent: 4 },
        { name: 'team-b', key: 'sk-ant-other' },
      ],
    });
    const runner = containerOf(find(objects, 'Deployment', `${RELEASE}-agent-runner`));
    expect(runner.env).toContainEqual({
      name: 'MODEL_CREDENTIALS',
      valueFrom: { secretKeyRef: { name: `${RELEASE}-model-keys`, key: 'MODEL_CREDENTIALS' } },
    });
    for (const component of ['gateway', 'orchestrator', 'websocket-pool'])
      expect(JSON.stringify(find(objects, 'Deployment', `${RELEASE}-${component}`))).not.toContain(KEY);
  });

  it('should refuse a credential without its key, naming the value', async () => {
    const result = await helm(
      templateArgs({ valuesFiles: minimal, set: ['agentRunner.model.credentials.claude[0].name=team-a'] }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('/agentRunner/model/credentials/claude/0');
    expect(result.stderr).toContain("missing property 'key'");
  });
});
