import { helm, render, RELEASE, templateArgs, valuesFile } from '../src/helm';
import type { KubeObject } from '../src/validate';
import { byKind, containerOf, find, plainEnv } from './support';

const minimal = [valuesFile('minimal-values.yaml')];
const TOKEN = 'ghp_chartT0kenValue0123456789';

// Git hosts and credentials: GIT_ALLOWED_HOSTS for the gateway and the agent-runner,
// GIT_CREDENTIALS for the agent-runner only, from a Secret.
describe('git hosts and credentials in the chart', () => {
  const deployment = (objects: KubeObject[], component: string) =>
    containerOf(find(objects, 'Deployment', `${RELEASE}-${component}`));

  it('should allow the public hosts by default, with no credentials and no GIT_PUSH_TOKEN anywhere', async () => {
    const objects = await render({ valuesFiles: minimal });

    for (const component of ['gateway', 'agent-runner']) {
      expect(plainEnv(objects, deployment(objects, component)).GIT_ALLOWED_HOSTS).toBe(
        'github.com,gitlab.com,bitbucket.org',
      );
    }
    expect(deployment(objects, 'agent-runner').env?.map((variable) => variable.name)).not.toContain(
      'GIT_CREDENTIALS',
    );
    expect(byKind(objects, 'Secret').map((secret) => secret.metadata.name)).not.toContain(
      `${RELEASE}-git-credentials`,
    );
    expect(JSON.stringify(objects)).not.toContain('GIT_PUSH_TOKEN');
  });

  it('should give the gateway and the agent-runner the hosts it is given, empty included', async () => {
    const objects = await render({
      valuesFiles: minimal,
      set: ['git.allowedHosts={github.com,git.example.com:8443}'],
    });
    const none = await render({ valuesFiles: minimal, set: ['git.allowedHosts=null'] });

    for (const component of ['gateway', 'agent-runner']) {
      expect(plainEnv(objects, deployment(objects, component)).GIT_ALLOWED_HOSTS).toBe(
        'github.com,git.example.com:8443',
      );
      expect(plainEnv(none, deployment(none, component)).GIT_ALLOWED_HOSTS).toBe('');
    }
  });

  it('should keep credentials given by value in a Secret the agent-runner alone reads', async () => {
    const objects = await render({
      valuesFiles: minimal,
      set: [
        'git.allowedHosts={github.com,git.example.com}',
        'git.credentials.value[0].host=git.example.com',
        'git.credentials.value[0].username=oauth2',
        `git.credentials.value[0].token=${TOKEN}`,
      ],
    });

    const secret = find(objects, 'Secret', `${RELEASE}-git-credentials`);
    expect(JSON.parse((secret.stringData as { GIT_CREDENTIALS: string }).GIT_CREDENTIALS)).toEqual([
      { host: 'git.example.com', username: 'oauth2', token: TOKEN },
    ]);
    expect(deployment(objects, 'agent-runner').env).toContainEqual({
      name: 'GIT_CREDENTIALS',
      valueFrom: { secretKeyRef: { name: `${RELEASE}-git-credentials`, key: 'GIT_CREDENTIALS' } },
    });
    expect(JSON.stringify(deployment(objects, 'gateway'))).not.toContain('GIT_CREDENTIALS');
    const elsewhere = objects.filter((object) => object !== secret);
    expect(JSON.stringify(elsewhere)).not.toContain(TOKEN);
  });

  it('should read the credentials from the Secret an operator made', async () => {
    const objects = await render({ valuesFiles: [valuesFile('production-values.yaml')] });

    expect(deployment(objects, 'agent-runner').env).toContainEqual({
      name: 'GIT_CREDENTIALS',
      valueFrom: { secretKeyRef: { name: 'hangar-git-credentials', key: 'GIT_CREDENTIALS' } },
    });
    expect(plainEnv(objects, deployment(objects, 'agent-runner')).GIT_ALLOWED_HOSTS).toBe(
      'github.com,gitlab.example.com',
    );
  });

  it('should refuse a credential for a host that is not allowed, naming it', async () => {
    const result = await helm(
      templateArgs({
        valuesFiles: minimal,
        set: ['git.credentials.value[0].host=git.internal', `git.credentials.value[0].token=${TOKEN}`],
      }),
    );

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'git.credentials.value names git.internal, which is not in git.allowedHosts',
    );
    expect(result.stderr).not.toContain(TOKEN);
  });

  it('should refuse an allowed host that is a URL, naming the value', async () => {
    const result = await helm(
      templateArgs({ valuesFiles: minimal, set: ['git.allowedHosts={https://github.com}'] }),
    );

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("at '/git/allowedHosts/0'");
  });
});
