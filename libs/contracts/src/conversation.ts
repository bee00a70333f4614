import { z } from 'zod';
import { ProjectSlugSchema } from './accounts';
import {
  ProfileNameSchema,
  PromptSchema,
  RepositoryFieldsSchema,
  ScenarioNameSchema,
  TaskPrioritySchema,
  TaskSchema,
} from './task';

export const CreateConversationSchema = z
  .object({
    title: z.string().trim().min(1).max(200).optional(),
    profile: ProfileNameSchema.optional(),
    repository: RepositoryFieldsSchema.shape.repository,
    ref: RepositoryFieldsSchema.shape.ref,
    // The first message; without it the conversation waits for one.
    message: PromptSchema.optional(),
    scenario: ScenarioNameSchema.optional(),
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    priority: TaskPrioritySchema.optional(),
  })
  .strict();
export type CreateConversationRequest = z.infer<typeof CreateConversationSchema>;

export const PostMessageSchema = z
  .object({
    content: PromptSchema,
    scenario: ScenarioNameSchema.optional(),
    timeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    priority: TaskPrioritySchema.optional(),
  })
  .strict();
export type PostMessageRequest = z.infer<typeof PostMessageSchema>;

export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  taskId: z.string().nullable(),
  createdAt: z.string(),
});
export type Message = z.infer<typeof MessageSchema>;

export const ConversationSchema = z.object({
  id: z.string(),
  project: z.string(),
  title: z.string().nullable(),
  profile: z.string().nullable(),
  repository: z.string().nullable(),
  ref: z.string().nullable(),
  agentSessionId: z.string().nullable(),
  workspace: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.infer<typeof ConversationSchema>;

// What posting a message answers: the stored message and the task that runs the turn.
export const ConversationTurnSchema = z.object({ message: MessageSchema, task: TaskSchema });
export type ConversationTurn = z.infer<typeof ConversationTurnSchema>;

// A page of conversations or of one conversation's messages.
const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
};

export const ListConversationsQuerySchema = z
  .object({ project: ProjectSlugSchema.optional(), ...pageQuery })
  .strict();
export type ListConversationsQuery = z.infer<typeof ListConversationsQuerySchema>;

export const ConversationPageSchema = z.object({
  items: z.array(ConversationSchema),
  nextCursor: z.string().nullable(),
});
export type ConversationPage = z.infer<typeof ConversationPageSchema>;

// `GET /api/v1/conversations/:id/messages`: a chat opens at its latest messages, so the first
// page is the newest `limit` and `nextCursor` leads to older ones; each page reads oldest first.
export const ListMessagesQuerySchema = z.object(pageQuery).strict();
export type ListMessagesQuery = z.infer<typeof ListMessagesQuerySchema>;

export const MessagePageSchema = z.object({
  items: z.array(MessageSchema),
  nextCursor: z.string().nullable(),
});
export type MessagePage = z.infer<typeof MessagePageSchema>;
