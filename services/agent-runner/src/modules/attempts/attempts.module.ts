import { Module } from '@nestjs/common';
import { LocalAttempts } from './local-attempts';
import { ModelCallLedger } from './model-call-ledger';

// The owner of attempts' state in the runner (repositories and streams): its own runs' backend,
// and what the task API serves task pods with.
@Module({
  providers: [LocalAttempts, ModelCallLedger],
  exports: [LocalAttempts, ModelCallLedger],
})
export class AttemptsModule {}
