import { ApiCreatedResponse, ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ConversationCreatedDto,
  ConversationDto,
  ConversationPageDto,
  ConversationTurnDto,
  MessagePageDto,
  ProblemDto,
  ProjectQueryDto,
} from '../../common/response.dto';
import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Conversation, ConversationPage, ConversationTurn, MessagePage } from '@hangar/contracts';
import { Audited } from '../../common/audited.decorator';
import { CurrentPrincipal } from '../auth/auth.decorators';
import { ConversationsService } from './conversations.service';
import {
  CreateConversationDto,
  ListConversationsQueryDto,
  ListMessagesQueryDto,
  PostMessageDto,
} from './dto/conversation.dto';

@ApiTags('conversations')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Post()
  @Audited('conversation.create')
  @ApiCreatedResponse({ type: ConversationCreatedDto })
  create(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ProjectQueryDto,
    @Body() body: CreateConversationDto,
  ): Promise<{ conversation: Conversation; turn: ConversationTurn | null }> {
    return this.conversations.start(principal, query.project, body);
  }

  @Get()
  @ApiOkResponse({ type: ConversationPageDto })
  list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListConversationsQueryDto,
  ): Promise<ConversationPage> {
    return this.conversations.list(principal, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: ConversationDto })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Conversation> {
    return this.conversations.get(principal, id);
  }

  @Get(':id/messages')
  @ApiOkResponse({ type: MessagePageDto })
  messages(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query() query: ListMessagesQueryDto,
  ): Promise<MessagePage> {
    return this.conversations.messages(principal, id, query);
  }

  @Post(':id/messages')
  @Audited('conversation.message')
  @ApiCreatedResponse({ type: ConversationTurnDto })
  post(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: PostMessageDto,
  ): Promise<ConversationTurn> {
    return this.conversations.send(principal, id, body);
  }
}
