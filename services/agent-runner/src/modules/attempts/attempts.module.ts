import { Module } from '@nestjs/common';
import { LocalAttempts } from './local-attempts';

// The owner of attempts' state in the runner (repositories and streams): its own runs' backend,
// and what the task API serves task pods with.
@Module({
  providers: [LocalAttempts],
  exports: [LocalAttempts],
})
export class AttemptsModule {}
