import { type Command, Option } from 'commander';
import type { CliContext } from '../cli-context';
import type { StackPorts } from '../config/cli-env';
import { PORT_FLAGS, StackRunner } from '../stack/stack-runner';
import { portOption, secondsOption, type SetExitCode } from './command-options';

interface UpFlags {
  dashboard: boolean;
  readyTimeout: number;
  stopTimeout: number;
  rawLogs?: boolean;
  gatewayPort?: number;
  websocketPoolPort?: number;
  orchestratorPort?: number;
  agentRunnerPort?: number;
  metricsPort?: number;
  scriptedModelPort?: number;
  dashboardPort?: number;
}

export function registerUpCommand(program: Command, context: CliContext, setExitCode: SetExitCode): void {
  const command = program
    .command('up')
    .description(
      'start the whole stack on this machine: PostgreSQL/Redis, migrations, the services, the dashboard',
    )
    .option('--no-dashboard', 'do not start the dashboard')
    .option('--ready-timeout <seconds>', 'how long each process may take to become ready', secondsOption, 120)
    .option(
      '--stop-timeout <seconds>',
      'how long a process may take to stop before it is killed',
      secondsOption,
      15,
    )
    .option('--raw-logs', "print the services' JSON log lines as they are");
  const ports = context.env.ports;
  for (const [name, flag] of Object.entries(PORT_FLAGS) as [keyof StackPorts, string][]) {
    command.addOption(
      new Option(`${flag} <port>`, `port for ${flag.slice(2, -5)} (default ${ports[name]})`).argParser(
        portOption,
      ),
    );
  }
  command.action(async (flags: UpFlags) => {
    const runner = new StackRunner(
      context.env,
      context.io,
      {
        ports: {
          gateway: flags.gatewayPort ?? ports.gateway,
          websocketPool: flags.websocketPoolPort ?? ports.websocketPool,
          orchestrator: flags.orchestratorPort ?? ports.orchestrator,
          agentRunner: flags.agentRunnerPort ?? ports.agentRunner,
          metrics: flags.metricsPort ?? ports.metrics,
          scriptedModel: flags.scriptedModelPort ?? ports.scriptedModel,
          dashboard: flags.dashboardPort ?? ports.dashboard,
        },
        dashboard: flags.dashboard,
        readyTimeoutMs: flags.readyTimeout * 1000,
        stopGraceMs: flags.stopTimeout * 1000,
        rawLogs: flags.rawLogs === true,
      },
      context.shutdownSignal(),
    );
    setExitCode(await runner.run());
  });
}
