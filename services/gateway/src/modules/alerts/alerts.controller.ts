import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { AlertFiring, AlertRule, AlertSilence, AlertTarget, Anomaly } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import {
  AlertFiringListDto,
  AlertRuleDto,
  AlertRuleListDto,
  AlertSilenceDto,
  AlertSilenceListDto,
  AlertTargetDto,
  AlertTargetListDto,
  AnomalyListDto,
  ProblemDto,
  ProjectQueryDto,
} from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { AlertsService } from './alerts.service';
import {
  AnomalyQueryDto,
  CreateAlertRuleDto,
  CreateAlertSilenceDto,
  CreateAlertTargetDto,
  TargetQueryDto,
} from './dto/alerts.dto';

// Alerts (docs/alerts.md): rules, where they notify, silences, what fired, anomalies.
// `?project=` names the project when the caller has several.
@ApiTags('alerts')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  @Get('alerts/rules')
  @ApiOkResponse({ type: AlertRuleListDto })
  async rules(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: AlertRule[] }> {
    return { items: await this.alerts.listRules(principal, query.project) };
  }

  @Post('alerts/rules')
  @Audited('alert.create_rule')
  @ApiCreatedResponse({ type: AlertRuleDto })
  createRule(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateAlertRuleDto,
  ): Promise<AlertRule> {
    return this.alerts.createRule(principal, query.project, body);
  }

  @Delete('alerts/rules/:id')
  @Audited('alert.delete_rule')
  @ApiNoContentResponse()
  @HttpCode(204)
  deleteRule(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.alerts.deleteRule(principal, id);
  }

  @Get('alerts/targets')
  @ApiOkResponse({ type: AlertTargetListDto })
  async targets(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: AlertTarget[] }> {
    return { items: await this.alerts.listTargets(principal, query.project) };
  }

  // `?installation=true`: the installation's target (instance administrators).
  @Post('alerts/targets')
  @Audited('alert.create_target')
  @ApiCreatedResponse({ type: AlertTargetDto })
  createTarget(
    @CurrentPrincipal() principal: Principal,
    @Query() query: TargetQueryDto,
    @Body() body: CreateAlertTargetDto,
  ): Promise<AlertTarget> {
    return this.alerts.createTarget(principal, query.project, query.installation, body);
  }

  @Delete('alerts/targets/:id')
  @Audited('alert.delete_target')
  @ApiNoContentResponse()
  @HttpCode(204)
  deleteTarget(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.alerts.deleteTarget(principal, id);
  }

  @Get('alerts/silences')
  @ApiOkResponse({ type: AlertSilenceListDto })
  async silences(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: AlertSilence[] }> {
    return { items: await this.alerts.listSilences(principal, query.project) };
  }

  @Post('alerts/silences')
  @Audited('alert.create_silence')
  @ApiCreatedResponse({ type: AlertSilenceDto })
  createSilence(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateAlertSilenceDto,
  ): Promise<AlertSilence> {
    return this.alerts.createSilence(principal, query.project, body);
  }

  // Ends the silence now.
  @Delete('alerts/silences/:id')
  @Audited('alert.end_silence')
  @ApiNoContentResponse()
  @HttpCode(204)
  endSilence(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    return this.alerts.endSilence(principal, id);
  }

  // The latest firings (100), newest first, with what each target was sent.
  @Get('alerts/firings')
  @ApiOkResponse({ type: AlertFiringListDto })
  async firings(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
  ): Promise<{ items: AlertFiring[] }> {
    return { items: await this.alerts.listFirings(principal, query.project) };
  }

  // Tasks found far outside their profile's baseline (`?task=<id>`: that task's).
  @Get('anomalies')
  @ApiOkResponse({ type: AnomalyListDto })
  async anomalies(
    @CurrentPrincipal() principal: Principal,
    @Query() query: AnomalyQueryDto,
  ): Promise<{ items: Anomaly[] }> {
    return { items: await this.alerts.listAnomalies(principal, query.project, query.task) };
  }
}
