import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Controller, Get, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Analytics } from '@hangar/contracts';
import { ProblemDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { AnalyticsDto, AnalyticsQueryDto } from './dto/analytics.dto';
import { AnalyticsService } from './analytics.service';

// Cost, tokens, outcomes and tools of the stored tasks, for the dashboard.
@ApiTags('analytics')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get()
  @ApiOkResponse({ type: AnalyticsDto })
  get(@CurrentPrincipal() principal: Principal, @Query() query: AnalyticsQueryDto): Promise<Analytics> {
    return this.analytics.summarize(principal, query);
  }
}
