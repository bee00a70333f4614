import {
  HangarError,
  type AgentProfile,
  type AgentProfileView,
  type McpServer,
  type McpServerInput,
  type McpServerView,
  type SecretSet,
} from '@hangar/contracts';

// The fields of an MCP server whose values are secrets: the stdio server's environment, the
// remote server's request headers.
type SecretField = 'env' | 'headers';
type Secrets<Value> = Record<string, Value>;

function secretFieldOf(server: McpServer | McpServerInput): SecretField {
  return 'url' in server ? 'headers' : 'env';
}

function secretsOf<Value>(server: object, field: SecretField): Secrets<Value> | undefined {
  return (server as Partial<Record<SecretField, Secrets<Value>>>)[field];
}

const SET: SecretSet = { set: true };

function redact(values: Secrets<string>): Secrets<SecretSet> {
  return Object.fromEntries(Object.keys(values).map((key) => [key, SET]));
}

function redactServer(server: McpServer): McpServerView {
  if ('url' in server) {
    const { headers, ...rest } = server;
    return headers ? { ...rest, headers: redact(headers) } : rest;
  }
  const { env, ...rest } = server;
  return env ? { ...rest, env: redact(env) } : rest;
}

// What every answer shows of a profile: each secret as {"set": true}, never its value.
export function toProfileView(profile: AgentProfile): AgentProfileView {
  return {
    ...profile,
    mcpServers: Object.fromEntries(
      Object.entries(profile.mcpServers).map(([name, server]) => [name, redactServer(server)]),
    ),
  };
}

// Where a server sends its secrets: a kept secret goes nowhere else than it was sent for.
function endpointOf(server: McpServer | McpServerInput): string {
  return 'url' in server
    ? JSON.stringify([server.type, server.url])
    : JSON.stringify(['stdio', server.command, server.args ?? []]);
}

// The servers to store for a change: a secret sent as {"set": true} takes the value stored under
// the same server and name, as long as that server still runs the same command (and arguments)
// or calls the same URL; a secret left out goes.
export function resolveMcpSecrets(
  input: Record<string, McpServerInput>,
  stored: Record<string, McpServer>,
): Record<string, McpServer> {
  return Object.fromEntries(
    Object.entries(input).map(([name, server]) => {
      const field = secretFieldOf(server);
      const values = secretsOf<string | SecretSet>(server, field);
      if (!values) return [name, server as McpServer];
      const previous = stored[name];
      const sameEndpoint = previous !== undefined && endpointOf(previous) === endpointOf(server);
      const kept = (previous && sameEndpoint ? secretsOf<string>(previous, field) : undefined) ?? {};
      const resolved = Object.fromEntries(
        Object.entries(values).map(([key, value]) => {
          if (typeof value === 'string') return [key, value];
          const keptValue = kept[key];
          if (keptValue === undefined)
            throw cannotKeep(`mcpServers.${name}.${field}.${key}`, previous, sameEndpoint);
          return [key, keptValue];
        }),
      );
      return [name, { ...server, [field]: resolved } as McpServer];
    }),
  );
}

function cannotKeep(field: string, previous: McpServer | undefined, sameEndpoint: boolean): HangarError {
  const why =
    previous !== undefined && !sameEndpoint
      ? "the server's command, arguments or URL changed, so its secrets must be sent again"
      : 'no value is stored under this name to keep';
  return new HangarError('VALIDATION_FAILED', `{"set": true} keeps a stored secret: ${why}`, { field });
}
