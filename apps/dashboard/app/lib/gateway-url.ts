// The gateway as the dashboard's own server reaches it (docs/configuration.md#dashboard). Read
// per request, so one build serves whatever port the gateway has.
export function gatewayUrl(): string {
  return (process.env.HANGAR_API_URL ?? 'http://127.0.0.1:4005').replace(/\/+$/, '');
}
