import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Principal } from '@hangar/auth';
import type { ApiToken, CreatedApiToken } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import {
  ApiTokenDto,
  ApiTokenListDto,
  CreatedApiTokenDto,
  ProblemDto,
  ProjectQueryDto,
} from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { CreateApiTokenDto } from './dto/token.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @ApiOkResponse({ type: ApiTokenListDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: ApiToken[] }> {
    return { items: await this.tokens.list(principal, query.project) };
  }

  // The answer is the only time the token itself is shown.
  @Post()
  @Audited('token.create')
  @ApiCreatedResponse({ type: CreatedApiTokenDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateApiTokenDto,
  ): Promise<CreatedApiToken> {
    return this.tokens.create(principal, query.project, body);
  }

  @Delete(':id')
  @Audited('token.revoke')
  @ApiOkResponse({ type: ApiTokenDto })
  revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ApiToken> {
    return this.tokens.revoke(principal, id);
  }
}
