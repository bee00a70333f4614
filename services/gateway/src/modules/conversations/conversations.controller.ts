import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import type { Conversation, ConversationTurn, Message } from '@hangar/contracts';
import { ConversationsService } from './conversations.service';
import { CreateConversationDto, PostMessageDto } from './dto/conversation.dto';

@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  create(
    @Body() body: CreateConversationDto,
  ): Promise<{ conversation: Conversation; turn: ConversationTurn | null }> {
    return this.conversations.create(body);
  }

  @Get(':id')
  get(@Param('id') id: string): Promise<Conversation> {
    return this.conversations.get(id);
  }

  @Get(':id/messages')
  async messages(@Param('id') id: string): Promise<{ items: Message[] }> {
    return { items: await this.conversations.messages(id) };
  }

  @Post(':id/messages')
  post(@Param('id') id: string, @Body() body: PostMessageDto): Promise<ConversationTurn> {
    return this.conversations.post(id, body);
  }
}
