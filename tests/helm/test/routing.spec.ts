import { render, RELEASE, valuesFile } from '../src/helm';
import type { KubeObject } from '../src/validate';
import { byKind, find, nginxLocations, PORTS } from './support';

const fullname = RELEASE;

interface IngressSpec {
  ingressClassName: string;
  tls?: { hosts: string[]; secretName: string }[];
  rules: {
    host: string;
    http: {
      paths: {
        path: string;
        pathType: string;
        backend: { service: { name: string; port: { number: number } } };
      }[];
    };
  }[];
}

describe('the ingress', () => {
  let production: KubeObject[];
  beforeAll(async () => {
    production = await render({ valuesFiles: [valuesFile('production-values.yaml')] });
  });

  it('should route the same locations to the same services as deploy/nginx/hangar.conf', () => {
    const locations = nginxLocations();
    expect(locations.map((location) => location.path)).toEqual(['/socket.io/', '/api/', '/webhooks/', '/']);
    const routes = byKind(production, 'Ingress').flatMap((ingress) =>
      (ingress.spec as IngressSpec).rules.flatMap((rule) =>
        rule.http.paths.map((path) => ({
          host: rule.host,
          path: path.path,
          pathType: path.pathType,
          service: path.backend.service.name,
          port: path.backend.service.port.number,
        })),
      ),
    );
    expect(routes).toEqual(
      locations.map((location) => ({
        host: 'hangar.example.com',
        path: location.path,
        pathType: 'Prefix',
        service: `${fullname}-${location.service}`,
        port: PORTS[location.service],
      })),
    );
    for (const ingress of byKind(production, 'Ingress'))
      expect((ingress.spec as IngressSpec).ingressClassName).toBe('nginx');
  });

  it('should hold Socket.IO connections for an hour, unbuffered, and keep the API timeouts short', () => {
    expect(find(production, 'Ingress', `${fullname}-websocket`).metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
    });
    expect(find(production, 'Ingress', `${fullname}-api`).metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '60',
    });
    expect(find(production, 'Ingress', `${fullname}-webhooks`).metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '30',
    });
  });

  it('should serve TLS on every route, with one cert-manager request for the shared certificate', () => {
    const ingresses = byKind(production, 'Ingress');
    for (const ingress of ingresses) {
      expect((ingress.spec as IngressSpec).tls).toEqual([
        { hosts: ['hangar.example.com'], secretName: 'hangar-tls' },
      ]);
    }
    const issuers = ingresses.filter(
      (ingress) => ingress.metadata.annotations?.['cert-manager.io/cluster-issuer'],
    );
    expect(
      issuers.map((ingress) => [
        ingress.metadata.name,
        ingress.metadata.annotations!['cert-manager.io/cluster-issuer'],
      ]),
    ).toEqual([[`${fullname}-dashboard`, 'letsencrypt-prod']]);
  });

  it('should trust the ingress proxy and link to the public https URL', () => {
    const gateway = find(production, 'ConfigMap', `${fullname}-gateway`).data as Record<string, string>;
    expect(gateway).toMatchObject({ TRUST_PROXY: '1', HANGAR_PUBLIC_URL: 'https://hangar.example.com' });
  });

  it('should render no Ingress and trust no proxy when the ingress is off', async () => {
    const objects = await render({ valuesFiles: [valuesFile('minimal-values.yaml')] });
    expect(byKind(objects, 'Ingress')).toEqual([]);
    expect(
      (find(objects, 'ConfigMap', `${fullname}-gateway`).data as Record<string, string>).TRUST_PROXY,
    ).toBe('0');
  });

  it("should point the dashboard's server at the gateway's own Service, and browsers at this origin", () => {
    const dashboard = find(production, 'ConfigMap', `${fullname}-dashboard`).data as Record<string, string>;
    const service = find(production, 'Service', `${fullname}-gateway`);
    const port = (service.spec as { ports: { port: number }[] }).ports[0]!.port;
    expect(dashboard.HANGAR_API_URL).toBe(`http://${fullname}-gateway:${port}`);
    // Socket.IO goes through the ingress (/socket.io/), never to an in-cluster address.
    expect(dashboard.HANGAR_PUBLIC_WS_URL).toBeUndefined();
  });
});
