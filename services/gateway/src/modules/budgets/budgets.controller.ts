import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Budget } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { BudgetDto, BudgetListDto, ProblemDto, ProjectQueryDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { BudgetsService } from './budgets.service';
import { CreateBudgetDto } from './dto/budget.dto';

// Budgets on what agents' model calls may cost (docs/governance.md); `?project=` names the
// project when the caller has several.
@ApiTags('budgets')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/budgets')
export class BudgetsController {
  constructor(private readonly budgets: BudgetsService) {}

  @Get()
  @ApiOkResponse({ type: BudgetListDto })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: Budget[] }> {
    return { items: await this.budgets.list(principal, query.project) };
  }

  @Post()
  @Audited('budget.create')
  @ApiCreatedResponse({ type: BudgetDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateBudgetDto,
  ): Promise<Budget> {
    return this.budgets.create(principal, query.project, body);
  }

  @Delete(':id')
  @Audited('budget.delete')
  @ApiNoContentResponse()
  @HttpCode(204)
  delete(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.budgets.delete(principal, id);
  }
}
