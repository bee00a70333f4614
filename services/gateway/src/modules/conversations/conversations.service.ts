import { Injectable } from '@nestjs/common';
import {
  HangarError,
  type Conversation,
  type ConversationTurn,
  type CreateConversationRequest,
  type Message,
  type PostMessageRequest,
} from '@hangar/contracts';
import { ConversationRepository } from '@hangar/db';
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
  ) {}

  async create(
    input: CreateConversationRequest,
  ): Promise<{ conversation: Conversation; turn: ConversationTurn | null }> {
    this.repositories.check(input);
    const conversation = await this.conversations.create(input);
    if (input.message === undefined) return { conversation, turn: null };
    const turn = await this.post(conversation.id, {
      content: input.message,
      ...(input.scenario !== undefined ? { scenario: input.scenario } : {}),
      ...(input.timeoutSeconds !== undefined ? { timeoutSeconds: input.timeoutSeconds } : {}),
    });
    return { conversation, turn };
  }

  get(id: string): Promise<Conversation> {
    return this.conversations.get(id);
  }

  messages(id: string): Promise<Message[]> {
    return this.conversations.messages(id);
  }

  async post(id: string, input: PostMessageRequest): Promise<ConversationTurn> {
    const conversation = await this.conversations.get(id);
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
        ...(conversation.repository ? { repository: conversation.repository } : {}),
        ...(conversation.ref ? { ref: conversation.ref } : {}),
      },
      {
        conversationId: id,
        // The user's message is stored before the turn can start, so it always precedes the answer.
        onRecorded: async (recorded) => {
          message = await this.conversations.addMessage({
            conversationId: id,
            role: 'user',
            content: input.content,
            taskId: recorded.id,
          });
        },
      },
    );
    return { message: message!, task };
  }
}
