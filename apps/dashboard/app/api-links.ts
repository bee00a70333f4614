export interface ApiLink {
  label: string;
  href: string;
}

// `hangar up` passes the gateway's address; read per request, so one build serves any port.
export function apiLinks(apiUrl: string | undefined): ApiLink[] {
  const base = (apiUrl ?? 'http://127.0.0.1:4005').replace(/\/+$/, '');
  return [
    { label: 'API readiness', href: `${base}/health/ready` },
    { label: 'API liveness', href: `${base}/health/live` },
    { label: 'API metrics', href: `${base}/metrics` },
  ];
}
