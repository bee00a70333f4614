import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ScenarioList } from '@hangar/contracts';
import { ProblemDto, ScenarioListDto } from '../../common/response.dto';
import { ScenarioCatalog } from './scenario-catalog';

// Any caller may read it: the scenarios are the scripted model's, the same for every project.
@ApiTags('tasks')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/scenarios')
export class ScenariosController {
  constructor(private readonly scenarios: ScenarioCatalog) {}

  @Get()
  @ApiOkResponse({ type: ScenarioListDto })
  list(): Promise<ScenarioList> {
    return this.scenarios.list();
  }
}
