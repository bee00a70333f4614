export * from './platform.module';
export * from './start-service';
export * from './task-activity';
export * from './task-lifecycle';
export * from './workflow-run-activity';
export * from './periodic';
export * from './routing';
export * from './budget-spend';
