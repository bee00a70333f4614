import { BatchV1Api, CoordinationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { Inject, Injectable } from '@nestjs/common';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';

// The API clients of the kubernetes executor, from RUNNER_KUBECONFIG, else the in-cluster
// service account (or KUBECONFIG, ~/.kube/config) as kubectl finds them.
@Injectable()
export class KubeClients {
  readonly config: KubeConfig;
  readonly batch: BatchV1Api;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly watch: Watch;

  constructor(@Inject(AGENT_RUNNER_CONFIG) settings: AgentRunnerConfig) {
    this.config = new KubeConfig();
    if (settings.RUNNER_KUBECONFIG) this.config.loadFromFile(settings.RUNNER_KUBECONFIG);
    else this.config.loadFromDefault();
    this.batch = this.config.makeApiClient(BatchV1Api);
    this.core = this.config.makeApiClient(CoreV1Api);
    this.coordination = this.config.makeApiClient(CoordinationV1Api);
    this.watch = new Watch(this.config);
  }
}
