// A profile whose tasks load the repository's own settings (hooks, permission rules, MCP servers):
// whoever can push to a repository it runs on can then run commands through the agent.
export function TrustBadge() {
  return (
    <span
      className="badge warning"
      title="Tasks of this profile load the repository's hooks, permission rules and MCP servers"
    >
      ⚠ trusts repository settings
    </span>
  );
}
