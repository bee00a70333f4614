import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import { HangarError, parseTopic, type SocketErrorCode, type Topic } from '@hangar/contracts';
import { ConversationRepository, TaskRepository } from '@hangar/db';

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
  ) {}

  async check(principal: Principal, topic: Topic): Promise<void> {
    const { kind, id } = parseTopic(topic);
    try {
      const projectId =
        kind === 'task'
          ? (await this.tasks.getVisible(id, principal.projectIds)).projectId
          : kind === 'conversation'
            ? (await this.conversations.getVisible(id, principal.projectIds)).projectId
            : principal.project(id).id;
      principal.require(projectId, 'viewer');
    } catch (error) {
      if (error instanceof HangarError) {
        if (error.code === 'FORBIDDEN') throw new SubscribeRefused('FORBIDDEN', error.message);
        throw new SubscribeRefused('UNKNOWN', `${topic} does not exist or is not yours`);
      }
      throw error;
    }
  }
}
