import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { cleanupOpenApiDoc } from 'nestjs-zod';

// The OpenAPI 3.1 document comes from the routes and the shared zod schemas (nestjs-zod DTOs),
// so it cannot drift from what the gateway validates. It is built when first asked for, not at
// start: the document and the garbage of building it are ~10 MB a gateway that nobody asks for
// its API description would otherwise keep (docs/performance.md, "Small services").
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Hangar API')
    .setDescription(
      'Run coding agents as tasks: REST API v1. Errors are application/problem+json (RFC 9457).',
    )
    .setVersion('1')
    .setOpenAPIVersion('3.1.0')
    .build();
  const document = () => cleanupOpenApiDoc(SwaggerModule.createDocument(app, config), { version: '3.1' });
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/openapi.json',
    yamlDocumentUrl: 'api/openapi.yaml',
  });
}
