import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ConversationCreatedDto,
  ConversationDto,
  ConversationTurnDto,
  MessageListDto,
  ProblemDto,
} from '../../common/response.dto';
import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import type { Conversation, ConversationTurn, Message } from '@hangar/contracts';
import { ConversationsService } from './conversations.service';
import { CreateConversationDto, PostMessageDto } from './dto/conversation.dto';

@ApiTags('conversations')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @ApiCreatedResponse({ type: ConversationCreatedDto })
  create(
    @Body() body: CreateConversationDto,
  ): Promise<{ conversation: Conversation; turn: ConversationTurn | null }> {
    return this.conversations.create(body);
  }

  @Get(':id')
  @ApiOkResponse({ type: ConversationDto })
  get(@Param('id') id: string): Promise<Conversation> {
    return this.conversations.get(id);
  }

  @Get(':id/messages')
  @ApiOkResponse({ type: MessageListDto })
  async messages(@Param('id') id: string): Promise<{ items: Message[] }> {
    return { items: await this.conversations.messages(id) };
  }

  @Post(':id/messages')
  @ApiCreatedResponse({ type: ConversationTurnDto })
  post(@Param('id') id: string, @Body() body: PostMessageDto): Promise<ConversationTurn> {
    return this.conversations.post(id, body);
  }
}
