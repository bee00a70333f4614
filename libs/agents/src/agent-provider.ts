// The agent CLIs Hangar runs; the same names as `Provider` in @hangar/contracts.
export const AGENT_PROVIDERS = ['claude', 'codex', 'gemini'] as const;
export type AgentProvider = (typeof AGENT_PROVIDERS)[number];
