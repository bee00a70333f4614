import { readdirSync } from 'node:fs';
import path from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { AUDIT_ACTION } from '../src/common/audited.decorator';

const MODULES = path.join(__dirname, '..', 'src', 'modules');
const READS = new Set([RequestMethod.GET, RequestMethod.HEAD, RequestMethod.OPTIONS]);

function controllerFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return controllerFiles(full);
    return entry.name.endsWith('.controller.ts') ? [full] : [];
  });
}

interface Route {
  route: string;
  action: string | undefined;
}

// Every route of every controller that changes something, with the audit action it declares.
function mutatingRoutes(): Route[] {
  const routes: Route[] = [];
  for (const file of controllerFiles(MODULES)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- every controller file, found on disk
    for (const exported of Object.values(require(file) as Record<string, unknown>)) {
      if (typeof exported !== 'function' || Reflect.getMetadata(PATH_METADATA, exported) === undefined)
        continue;
      const prefix = String(Reflect.getMetadata(PATH_METADATA, exported));
      const prototype = (exported as { prototype: Record<string, unknown> }).prototype;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined || READS.has(method)) continue;
        const route = `${RequestMethod[method]} /${prefix}/${String(Reflect.getMetadata(PATH_METADATA, handler))}`;
        routes.push({ route, action: Reflect.getMetadata(AUDIT_ACTION, handler) as string | undefined });
      }
    }
  }
  return routes;
}

describe('audited routes', () => {
  it('should name an audit action on every route that changes something', () => {
    const routes = mutatingRoutes();
    expect(routes.length).toBeGreaterThan(15);
    expect(routes.filter((route) => route.action === undefined).map((route) => route.route)).toEqual([]);
  });

  it('should use dotted object.verb names', () => {
    for (const { route, action } of mutatingRoutes()) {
      expect({ route, action }).toEqual({
        route,
        action: expect.stringMatching(/^[a-z]+\.[a-z_]+$/) as unknown,
      });
    }
  });
});
