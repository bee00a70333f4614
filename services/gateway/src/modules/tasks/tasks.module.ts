import { Module } from '@nestjs/common';
import { ScenarioCatalog } from './scenario-catalog';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({ controllers: [TasksController], providers: [TasksService, ScenarioCatalog] })
export class TasksModule {}
