import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import {
  HangarError,
  type Conversation,
  type ConversationPage,
  type ConversationTurn,
  type CreateConversationRequest,
  type ListConversationsQuery,
  type ListMessagesQuery,
  type Message,
  type MessagePage,
  type PostMessageRequest,
} from '@hangar/contracts';
import { ConversationRepository, type Submitter } from '@hangar/db';
import { TaskActivity } from '@hangar/platform';
import { AuditTrail } from '../../common/audit-trail';
import { RepositoryPolicy } from '../tasks/repository-policy';
import { TasksService } from '../tasks/tasks.service';

// A conversation is a chain of tasks in one workspace, each turn resuming the agent session
// the previous one left (the runner restores it), so the agent remembers earlier turns.
@Injectable()
export class ConversationsService {
  constructor(
    private readonly conversations: ConversationRepository,
    private readonly tasks: TasksService,
    private readonly repositories: RepositoryPolicy,
    private readonly audit: AuditTrail,
    private readonly activity: TaskActivity,
  ) {}

  // Operators and admins start conversations; `project` names the project when there are several.
  async start(
    principal: Principal,
    project: string | undefined,
    input: CreateConversationRequest,
  ): Promise<{ conversation: Conversation; turn: ConversationTurn | null }> {
    const access = principal.require(principal.project(project).id, 'operator');
    return this.create(access.id, input, principal.submitter);
  }

  // Every door that opens a conversation (REST, a webhook thread) comes through here.
  async create(
    projectId: string,
    input: CreateConversationRequest,
    submitter?: Submitter,
  ): Promise<{ conversation: Conversation; turn: ConversationTurn | null }> {
    await this.repositories.check(projectId, input);
    const conversation = await this.conversations.create(projectId, input);
    this.audit.touched({ projectId, target: { type: 'conversation', id: conversation.id } });
    if (input.message === undefined) return { conversation, turn: null };
    const turn = await this.post(
      projectId,
      conversation.id,
      {
        content: input.message,
        ...(input.scenario !== undefined ? { scenario: input.scenario } : {}),
        ...(input.timeoutSeconds !== undefined ? { timeoutSeconds: input.timeoutSeconds } : {}),
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
      },
      submitter,
    );
    return { conversation, turn };
  }

  list(principal: Principal, query: ListConversationsQuery): Promise<ConversationPage> {
    return this.conversations.list(principal.visibleIds(query.project), query);
  }

  async get(principal: Principal, id: string): Promise<Conversation> {
    const { projectId: _projectId, ...conversation } = await this.conversations.getVisible(
      id,
      principal.projectIds,
    );
    return conversation;
  }

  async messages(principal: Principal, id: string, query: ListMessagesQuery): Promise<MessagePage> {
    await this.conversations.getVisible(id, principal.projectIds);
    return this.conversations.messages(id, query);
  }

  async send(principal: Principal, id: string, input: PostMessageRequest): Promise<ConversationTurn> {
    const conversation = await this.conversations.getVisible(id, principal.projectIds);
    principal.require(conversation.projectId, 'operator');
    return this.post(conversation.projectId, id, input, principal.submitter);
  }

  // A turn: a task that resumes the conversation's agent session. One at a time.
  async post(
    projectId: string,
    id: string,
    input: PostMessageRequest,
    submitter?: Submitter,
  ): Promise<ConversationTurn> {
    const conversation = await this.conversations.getVisible(id, [projectId]);
    const active = await this.conversations.activeTaskId(id);
    if (active) {
      throw new HangarError(
        'CONVERSATION_BUSY',
        `the previous turn (task ${active}) is still running; wait for it or cancel it`,
        {
          taskId: active,
        },
      );
    }
    let message: Message | undefined;
    const task = await this.tasks.create(
      {
        prompt: input.content,
        ...(conversation.profile ? { profile: conversation.profile } : {}),
        ...(input.scenario !== undefined ? { scenario: input.scenario } : {}),
        ...(input.timeoutSeconds !== undefined ? { timeoutSeconds: input.timeoutSeconds } : {}),
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
        ...(conversation.repository ? { repository: conversation.repository } : {}),
        ...(conversation.ref ? { ref: conversation.ref } : {}),
      },
      {
        projectId,
        conversationId: id,
        ...(submitter !== undefined ? { submitter } : {}),
        // The user's message is stored before the turn can start, so it always precedes the answer.
        onRecorded: async (recorded) => {
          message = await this.conversations.addMessage({
            conversationId: id,
            role: 'user',
            content: input.content,
            taskId: recorded.id,
          });
          await this.activity.messageAdded(message);
        },
      },
    );
    this.audit.touched({ projectId, target: { type: 'conversation', id }, details: { taskId: task.id } });
    return { message: message!, task };
  }
}
