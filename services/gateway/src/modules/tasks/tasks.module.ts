import { Module } from '@nestjs/common';
import { RunnersModule } from '../runners/runners.module';
import { RepositoryPolicy } from './repository-policy';
import { ScenarioCatalog } from './scenario-catalog';
import { ScenariosController } from './scenarios.controller';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  imports: [RunnersModule],
  controllers: [TasksController, ScenariosController],
  providers: [TasksService, ScenarioCatalog, RepositoryPolicy],
  exports: [TasksService, RepositoryPolicy, ScenarioCatalog],
})
export class TasksModule {}
