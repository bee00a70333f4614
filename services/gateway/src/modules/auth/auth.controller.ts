import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { parse as parseCookies } from 'cookie';
import type { Request, Response } from 'express';
import type { Principal } from '@hangar/auth';
import type { Me } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { AuditTrail } from '../../common/audit-trail';
import { currentRequestContext } from '../../common/request-context';
import { MeDto, ProblemDto } from '../../common/response.dto';
import { GATEWAY_CONFIG, type GatewayConfig } from '../../config';
import { CurrentPrincipal, Public } from './auth.decorators';
import { AuthService } from './auth.service';
import { LoginDto } from './dto/login.dto';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './session-cookie';

@ApiTags('auth')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly audit: AuditTrail,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  // Sets the httpOnly session cookie the dashboard uses.
  @Public()
  @Post('login')
  @HttpCode(200)
  @Audited('auth.login')
  @ApiOkResponse({ type: MeDto })
  async login(
    @Body() body: LoginDto,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<Me> {
    const context = currentRequestContext();
    const signedIn = await this.auth.login(body, {
      ip: context?.ip ?? request.ip ?? 'unknown',
      userAgent: request.headers['user-agent'],
    });
    setSessionCookie(
      request,
      response,
      signedIn.sessionId,
      signedIn.expiresAt,
      this.config.SESSION_COOKIE_SECURE,
    );
    await this.audit.record({
      actor: signedIn.principal.actor,
      action: 'auth.login',
      target: { type: 'user', id: signedIn.principal.actor.id },
    });
    return signedIn.principal.toMe();
  }

  @Post('logout')
  @HttpCode(204)
  @Audited('auth.logout')
  async logout(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<void> {
    await this.auth.logout(parseCookies(request.headers.cookie ?? '')[SESSION_COOKIE]);
    clearSessionCookie(response);
  }

  @Get('me')
  @ApiOkResponse({ type: MeDto })
  me(@CurrentPrincipal() principal: Principal): Me {
    return principal.toMe();
  }
}
