import type { Task } from '@hangar/contracts';
import { browserSuite, signIn, startTask } from './support';

// The dashboard as an installation serves it: the real NGINX in front (deploy/nginx/suite.hangar.conf,
// the routes of the Helm chart's ingress), one origin for the pages, /api/, and /socket.io/, on a
// port that is not 80. The browser's live connection goes through NGINX too.
describe('the dashboard behind NGINX', () => {
  const suite = browserSuite({ behindNginx: true });

  it('should sign in, start a task and show it live over a WebSocket on the same origin', async () => {
    const { page } = await suite.open();
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await signIn(page, suite.hangar.admin.email, suite.hangar.admin.password);
    const id = await startTask(page, 'write a file', 'write-file', suite.hangar.repository);
    const transcript = page.getByRole('log', { name: 'Agent transcript' });
    await transcript.locator('[data-tool="Write"]').waitFor();
    await page.getByTestId('task-status').getByText('COMPLETED').waitFor();
    expect((await suite.hangar.api<Task>('GET', `/api/v1/tasks/${id}`)).body.status).toBe('COMPLETED');
    const origin = new URL(suite.hangar.url);
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of sockets) {
      expect(url.startsWith(`ws://${origin.host}/socket.io/`)).toBe(true);
    }
  });

  it('should cancel with the session cookie through NGINX, then sign out', async () => {
    const { page } = await suite.asAdmin();
    const id = await startTask(page, 'take your time', 'slow');
    await page.getByRole('log', { name: 'Agent transcript' }).locator('[data-tool="Bash"]').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('task-status').getByText('CANCELLED').waitFor();
    expect((await suite.hangar.api<Task>('GET', `/api/v1/tasks/${id}`)).body.status).toBe('CANCELLED');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.goto('/tasks');
    await page.waitForURL(/\/login\?next=%2Ftasks/);
  });
});
