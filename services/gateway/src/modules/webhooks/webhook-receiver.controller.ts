import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Audited } from '../../common/audited.decorator';
import { WebhookIntake, type IntakeAnswer } from './webhook-intake.service';

// POST /webhooks/<provider> (the static receiver, configured by environment) and
// /webhooks/<provider>/<id> (a stored configuration). Providers prove themselves by signature,
// not with an API token; the body arrives as raw bytes (see main.ts) so the signature is
// checked on exactly what was signed. Audited by the worker, as the webhook, when it acts.
@ApiExcludeController()
@Controller('webhooks')
export class WebhookReceiverController {
  constructor(private readonly intake: WebhookIntake) {}

  @Post(':provider')
  @HttpCode(202)
  @Audited('webhook.receive')
  receiveStatic(
    @Param('provider') provider: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    return this.receive(provider, undefined, request, response);
  }

  @Post(':provider/:id')
  @HttpCode(202)
  @Audited('webhook.receive')
  receiveConfigured(
    @Param('provider') provider: string,
    @Param('id') id: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    return this.receive(provider, id, request, response);
  }

  private async receive(provider: string, id: string | undefined, request: Request, response: Response) {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    return answer(await this.intake.receive(provider, id, request.headers, raw), response);
  }
}

// Slack wants a 200 within 3 s (a slash command's body is shown to whoever typed it); the
// others take any 2xx.
function answer(result: IntakeAnswer, response: Response): unknown {
  switch (result.kind) {
    case 'challenge':
      response.status(200);
      return { challenge: result.challenge };
    case 'duplicate':
      response.status(200);
      return { status: 'duplicate', delivery: result.id };
    case 'queued':
      if (result.source.provider !== 'slack') return { status: 'queued', delivery: result.id };
      response.status(200);
      return typeof result.payload.command === 'string'
        ? { response_type: 'ephemeral', text: `Hangar is on it (delivery ${result.id}).` }
        : { status: 'queued', delivery: result.id };
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
}
