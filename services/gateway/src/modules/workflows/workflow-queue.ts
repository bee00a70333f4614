import { Injectable } from '@nestjs/common';
import { HangarError, type WorkflowJob } from '@hangar/contracts';
import { Queues, WORKFLOW_QUEUE_SPEC, type QueueProducer } from '@hangar/redis';

// The orchestrator's workflow engine is the one writer of a run once it exists: the gateway
// records a run's birth and tells the engine, through its durable queue, what people ask.
@Injectable()
export class WorkflowQueue {
  private readonly jobs: QueueProducer<WorkflowJob>;

  constructor(queues: Queues) {
    this.jobs = queues.producer(WORKFLOW_QUEUE_SPEC);
  }

  // One start job per run, however often it is asked for.
  async started(runId: string): Promise<void> {
    await this.jobs.add('advance', { kind: 'advance', runId }, { jobId: `start-${runId}` });
  }

  // A request only the job carries: not queued, not done, so the caller must hear it failed.
  async request(job: Extract<WorkflowJob, { kind: 'cancel' | 'decide' }>): Promise<void> {
    try {
      await this.jobs.add(job.kind, job);
    } catch (error) {
      throw new HangarError(
        'ORCHESTRATOR_UNAVAILABLE',
        `the workflow engine's queue did not take the request (${String(error)}); try again`,
      );
    }
  }
}
