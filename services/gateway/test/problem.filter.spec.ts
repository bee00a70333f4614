import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { NestFactory } from '@nestjs/core';
import { HangarError, TaskNotFound } from '@hangar/contracts';
import { Prisma } from '@hangar/db';
import { ProblemFilter } from '../src/common/problem.filter';

@Controller('boom')
class BoomController {
  @Get('not-found')
  notFound() {
    throw new TaskNotFound('t-1');
  }

  @Get('conflict')
  conflict() {
    throw new HangarError('INVALID_TRANSITION', 'task t-1 is already COMPLETED');
  }

  @Get('duplicate')
  duplicate() {
    throw new Prisma.PrismaClientKnownRequestError('Unique constraint failed on (hash)', {
      code: 'P2002',
      clientVersion: 'test',
    });
  }

  @Get('secret')
  secret() {
    throw new Error('connection string postgresql://admin:hunter2@db/hangar refused');
  }
}

@Module({ controllers: [BoomController], providers: [{ provide: APP_FILTER, useClass: ProblemFilter }] })
class BoomModule {}

describe(ProblemFilter.name, () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    app = await NestFactory.create(BoomModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
  });

  async function problemAt(path: string) {
    const response = await fetch(`${base}${path}`);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('should answer domain errors with their status and code', async () => {
    expect(await problemAt('/boom/not-found')).toEqual({
      status: 404,
      body: {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        code: 'TASK_NOT_FOUND',
        detail: 'task t-1 does not exist',
        instance: '/boom/not-found',
      },
    });
    expect((await problemAt('/boom/conflict')).body).toMatchObject({
      status: 409,
      code: 'INVALID_TRANSITION',
    });
  });

  it('should answer a unique-constraint error as a conflict without the database message', async () => {
    const { status, body } = await problemAt('/boom/duplicate');
    expect(status).toBe(409);
    expect(JSON.stringify(body)).not.toContain('hash');
  });

  it('should answer an unknown route 404 and an unexpected error a plain 500 that leaks nothing', async () => {
    expect((await problemAt('/nowhere')).status).toBe(404);
    const { status, body } = await problemAt('/boom/secret');
    expect(status).toBe(500);
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(body.detail).toBe('unexpected error; see the gateway log');
  });
});
