import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ProblemDto, TaskDiffDto, TaskDto, TaskEventsDto, TaskPageDto } from '../../common/response.dto';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Task, TaskDiff, TaskEvent, TaskPage } from '@hangar/contracts';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListEventsQueryDto, ListTasksQueryDto } from './dto/list-queries.dto';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @ApiCreatedResponse({ type: TaskDto })
  create(@Body() body: CreateTaskDto): Promise<Task> {
    return this.tasks.create(body);
  }

  @Get()
  @ApiOkResponse({ type: TaskPageDto })
  list(@Query() query: ListTasksQueryDto): Promise<TaskPage> {
    return this.tasks.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: TaskDto })
  get(@Param('id') id: string): Promise<Task> {
    return this.tasks.get(id);
  }

  @Get(':id/events')
  @ApiOkResponse({ type: TaskEventsDto })
  async events(@Param('id') id: string, @Query() query: ListEventsQueryDto): Promise<{ items: TaskEvent[] }> {
    return { items: await this.tasks.events(id, query.afterSeq, query.limit) };
  }

  @Get(':id/diff')
  @ApiOkResponse({ type: TaskDiffDto })
  diff(@Param('id') id: string): Promise<TaskDiff> {
    return this.tasks.diff(id);
  }

  @Post(':id/cancel')
  @ApiAcceptedResponse({ type: TaskDto })
  @HttpCode(202)
  cancel(@Param('id') id: string): Promise<Task> {
    return this.tasks.cancel(id);
  }
}
