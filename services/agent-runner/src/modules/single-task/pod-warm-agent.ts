import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AgentProfile } from '@hangar/contracts';
import { TASK_POD_CONFIG, type TaskPodConfig } from '../../task-pod.config';
import { AGENT_ACCESS, type AgentAccessProvider } from '../endpoints/agent-access';
import { AGENT_SANDBOX, type AgentSandbox } from '../sandbox/agent-sandbox';
import { startWarmAgent, type WarmAgent, type WarmAgents, type WarmMiss } from '../runner/warm-agent';
import { WorkspaceService } from '../runner/workspace.service';

// A warm task pod's one CLI (run-task.js --warm, docs/performance.md): started for the pod's
// profile before any attempt is given to the pod, with the credential the attempt will be issued
// (this pod's TASK_TOKEN, nobody's until then), and taken by the attempt the pod claims.
@Injectable()
export class PodWarmAgent implements WarmAgents {
  private readonly logger = new Logger(PodWarmAgent.name);
  private agent: WarmAgent | undefined;

  constructor(
    private readonly workspaces: WorkspaceService,
    @Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox,
    @Inject(AGENT_ACCESS) private readonly access: AgentAccessProvider,
    @Inject(TASK_POD_CONFIG) private readonly config: TaskPodConfig,
  ) {}

  // Resolves once the CLI waits for its prompt; `gone` settles if it exits before it is taken.
  async start(profile: AgentProfile): Promise<{ gone: Promise<number | null> }> {
    const agent = await startWarmAgent({
      profile,
      access: this.access,
      sandboxed: false,
      workspaceRoot: this.config.WORKSPACE_ROOT,
      homeRoot: this.config.RUNNER_HOME_ROOT,
      workspaces: this.workspaces,
      sandbox: this.sandbox,
      settings: this.config,
    });
    this.agent = agent;
    this.logger.log(`the profile's CLI waits for its prompt (${agent.workspace.dir})`);
    return {
      gone: agent.process.gone.then(
        (exit) => exit.exitCode,
        () => null,
      ),
    };
  }

  take(profile: AgentProfile, unfit: WarmMiss | null): { agent: WarmAgent } | { miss: WarmMiss } | null {
    const agent = this.agent;
    if (!agent) return null;
    this.agent = undefined;
    // The controller gives a warm pod only attempts it can serve; should one not fit (its profile
    // changed in between), the CLI goes and the attempt starts cold here.
    const miss = unfit ?? (agent.profile.updatedAt !== profile.updatedAt ? 'profile-changed' : null);
    if (miss === null && agent.process.isWaiting()) return { agent };
    void agent.process.discard(`the warm CLI cannot serve this attempt (${miss ?? 'exited'})`);
    return { miss: miss ?? 'none-ready' };
  }

  async stop(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    await agent?.process.discard('the warm pod stops');
  }

  attemptStarted(): void {}

  attemptEnded(): void {}
}
