import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { RunnersOverview } from '@hangar/contracts';
import { ProblemDto, ProjectQueryDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { RunnersOverviewDto } from './dto/runners.dto';
import { RunnersService } from './runners.service';

// The task queue and the runners working on it, for the dashboard's Runners page.
@ApiTags('runners')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/runners')
export class RunnersController {
  constructor(private readonly runners: RunnersService) {}

  @Get()
  @ApiOkResponse({ type: RunnersOverviewDto })
  get(@CurrentPrincipal() principal: Principal, @Query() query: ProjectQueryDto): Promise<RunnersOverview> {
    return this.runners.overview(principal, query.project);
  }
}
