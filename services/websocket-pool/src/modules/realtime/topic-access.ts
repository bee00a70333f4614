import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  assertUnreachable,
  HangarError,
  parseTopic,
  type SocketErrorCode,
  type Topic,
  type TopicKind,
} from '@hangar/contracts';
import { ConversationRepository, TaskRepository, WorkflowRunRepository } from '@hangar/db';

export class SubscribeRefused extends Error {
  constructor(
    readonly code: SocketErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SubscribeRefused';
  }
}

// Who may watch what: any member of the topic's project (watching is reading, which viewers
// may). A topic of a project the caller is not in is UNKNOWN, exactly like one that does not
// exist, so nothing is told about other projects.
@Injectable()
export class TopicAccess {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly conversations: ConversationRepository,
    private readonly runs: WorkflowRunRepository,
  ) {}

  async check(principal: Principal, topic: Topic): Promise<void> {
    const { kind, id } = parseTopic(topic);
    try {
      principal.require(await this.projectOf(principal, kind, id), 'viewer');
    } catch (error) {
      if (error instanceof HangarError) {
        if (error.code === 'FORBIDDEN') throw new SubscribeRefused('FORBIDDEN', error.message);
        throw new SubscribeRefused('UNKNOWN', `${topic} does not exist or is not yours`);
      }
      throw error;
    }
  }

  // The project the topic belongs to, looked up among the caller's (a HangarError if none).
  private async projectOf(principal: Principal, kind: TopicKind, id: string): Promise<string> {
    switch (kind) {
      case 'task':
        return this.tasks.visibleProjectId(id, principal.projectIds);
      case 'conversation':
        return (await this.conversations.getVisible(id, principal.projectIds)).projectId;
      case 'project':
        return principal.project(id).id;
      case 'workflow-run':
        return this.runs.visibleProjectId(id, principal.projectIds);
      default:
        return assertUnreachable(kind);
    }
  }
}
