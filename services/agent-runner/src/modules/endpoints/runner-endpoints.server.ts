import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HANGAR_MCP_PATH, TASK_API_PREFIX } from '@hangar/contracts';
import { AGENT_RUNNER_CONFIG, type AgentRunnerConfig } from '../../config';
import { AGENT_SANDBOX, type AgentSandbox } from '../sandbox/agent-sandbox';
import { DelegationMcp } from './delegation-mcp';
import { EgressProxy } from './egress-proxy';
import { MODEL_PATH, OTLP_PATH } from './endpoint-urls';
import { ModelGateway, sendJson } from './model-gateway';
import { TaskApi } from './task-api';
import { TelemetryRelay } from './telemetry-relay';

// What agents reach of the runner, and nothing else of it (its health and metrics are on
// AGENT_RUNNER_PORT): the model gateway, the egress proxy, Hangar's MCP server, the telemetry
// relay, the task API (kubernetes executor:
// task pods reach it at RUNNER_TASK_API_URL). On TCP
// (RUNNER_TASK_API_HOST:RUNNER_TASK_API_PORT: CLIs outside a sandbox, task pods) and on the Unix
// socket every sandbox has bound in. Every call carries an attempt's credential.
@Injectable()
export class RunnerEndpoints implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RunnerEndpoints.name);
  private readonly servers: Server[] = [];
  private address: AddressInfo | undefined;

  constructor(
    private readonly gateway: ModelGateway,
    private readonly egress: EgressProxy,
    private readonly taskApi: TaskApi,
    private readonly delegation: DelegationMcp,
    private readonly telemetry: TelemetryRelay,
    @Inject(AGENT_SANDBOX) private readonly sandbox: AgentSandbox,
    @Inject(AGENT_RUNNER_CONFIG) private readonly config: AgentRunnerConfig,
  ) {}

  // Whether agents' OpenTelemetry has somewhere to go (RUNNER_METRICS_URL).
  get relaysTelemetry(): boolean {
    return this.telemetry.enabled;
  }

  // The endpoints as a CLI on this host outside a sandbox reaches them.
  get url(): string {
    if (!this.address) throw new Error("the runner's endpoints are not listening yet");
    const { address, port } = this.address;
    const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  async onModuleInit(): Promise<void> {
    const tcp = this.makeServer();
    // once() rejects on 'error' (a port in use) as well.
    await once(tcp.listen(this.config.RUNNER_TASK_API_PORT, this.config.RUNNER_TASK_API_HOST), 'listening');
    this.address = tcp.address() as AddressInfo;
    const socket = this.sandbox.runnerSocket;
    if (socket) {
      // A socket file left by an earlier run of this runner would refuse the listen.
      rmSync(socket, { force: true });
      await once(this.makeServer().listen(socket), 'listening');
    }
    this.logger.log(`agents' endpoints on ${this.url}${socket ? ` and ${socket}` : ''}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private makeServer(): Server {
    const server = createServer(
      (req, res) => void this.route(req, res).catch((error) => this.failed(res, error)),
    );
    server.on('connect', (req: IncomingMessage, socket, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      void this.egress.tunnel(req, socket, head).catch((error: unknown) => {
        this.logger.error({ err: error }, 'egress tunnel failed');
        socket.destroy();
      });
    });
    this.servers.push(server);
    return server;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    // A proxy request names its destination whole (http://host/path).
    if (/^[a-z]+:\/\//i.test(target)) return this.egress.forward(req, res);
    const url = new URL(target, 'http://runner');
    if (url.pathname.startsWith(`${MODEL_PATH}/`)) return this.gateway.handle(req, res, url);
    // The agents' own OpenTelemetry, to the metrics service (docs/observability.md).
    if (url.pathname.startsWith(`${OTLP_PATH}/`)) return this.telemetry.handle(req, res, url);
    // Hangar's MCP server, for agents whose profile delegates (docs/delegation.md).
    if (url.pathname === HANGAR_MCP_PATH) return this.delegation.handle(req, res);
    // Task pods only: a runner's own attempts keep their state themselves.
    if (this.config.RUNNER_EXECUTOR === 'kubernetes' && url.pathname.startsWith(`${TASK_API_PREFIX}/`))
      return this.taskApi.handle(req, res, url);
    sendJson(res, 404, { error: { message: `nothing at ${url.pathname}` } });
  }

  private failed(res: ServerResponse, error: unknown): void {
    this.logger.error({ err: error }, "an agent's call to the runner failed");
    if (!res.headersSent) sendJson(res, 500, { error: { message: 'the runner could not answer' } });
    else res.destroy();
  }
}
