import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import type { Task, TaskDiff, TaskEvent, TaskPage } from '@hangar/contracts';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListEventsQueryDto, ListTasksQueryDto } from './dto/list-queries.dto';
import { TasksService } from './tasks.service';

@Controller('api/v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  create(@Body() body: CreateTaskDto): Promise<Task> {
    return this.tasks.create(body);
  }

  @Get()
  list(@Query() query: ListTasksQueryDto): Promise<TaskPage> {
    return this.tasks.list(query);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Task> {
    return this.tasks.get(id);
  }

  @Get(':id/events')
  async events(@Param('id') id: string, @Query() query: ListEventsQueryDto): Promise<{ items: TaskEvent[] }> {
    return { items: await this.tasks.events(id, query.afterSeq, query.limit) };
  }

  @Get(':id/diff')
  diff(@Param('id') id: string): Promise<TaskDiff> {
    return this.tasks.diff(id);
  }

  @Post(':id/cancel')
  @HttpCode(202)
  cancel(@Param('id') id: string): Promise<Task> {
    return this.tasks.cancel(id);
  }
}
