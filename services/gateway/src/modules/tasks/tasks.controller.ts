import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  ProblemDto,
  TaskDiffDto,
  TaskDto,
  TaskEventPageDto,
  TaskPageDto,
  TaskTreeDto,
  ModelUsageDto,
} from '../../common/response.dto';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { ModelUsage, Task, TaskDiff, TaskEventPage, TaskPage, TaskTreeNode } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { ProjectQueryDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListEventsQueryDto, ListTasksQueryDto } from './dto/list-queries.dto';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  // `?project=` names the project when the caller has several.
  @Post()
  @Audited('task.create')
  @ApiCreatedResponse({ type: TaskDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateTaskDto,
  ): Promise<Task> {
    return this.tasks.start(principal, query.project, body);
  }

  @Get()
  @ApiOkResponse({ type: TaskPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListTasksQueryDto): Promise<TaskPage> {
    return this.tasks.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: TaskDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Task> {
    return this.tasks.get(principal, id);
  }

  // The delegation tree of the task's root: each task with the tasks its agent started.
  @Get(':id/tree')
  @ApiOkResponse({ type: TaskTreeDto })
  tree(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TaskTreeNode> {
    return this.tasks.tree(principal, id);
  }

  @Get(':id/events')
  @ApiOkResponse({ type: TaskEventPageDto })
  events(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: ListEventsQueryDto,
  ): Promise<TaskEventPage> {
    return this.tasks.events(principal, id, query);
  }

  @Get(':id/diff')
  @ApiOkResponse({ type: TaskDiffDto })
  diff(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TaskDiff> {
    return this.tasks.diff(principal, id);
  }

  // What its agent's model calls used and cost so far, metered as it runs (docs/governance.md).
  @Get(':id/usage')
  @ApiOkResponse({ type: ModelUsageDto })
  usage(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<ModelUsage> {
    return this.tasks.usage(principal, id);
  }

  @Post(':id/cancel')
  @Audited('task.cancel')
  @ApiAcceptedResponse({ type: TaskDto })
  @HttpCode(202)
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Task> {
    return this.tasks.cancel(principal, id);
  }

  // A new task (QUEUED) with the finished task's prompt, profile, repository and limits.
  @Post(':id/retry')
  @Audited('task.retry')
  @ApiCreatedResponse({ type: TaskDto })
  retry(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Task> {
    return this.tasks.retry(principal, id);
  }
}
