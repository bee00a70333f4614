import { Module } from '@nestjs/common';
import { Authenticator } from '@hangar/auth';
import { ApiTokenRepository, ProjectRepository, SessionRepository, UserRepository } from '@hangar/db';
import { ConnectionAdmission } from './connection-admission';
import { RealtimeGateway } from './realtime.gateway';
import { RealtimeMetrics } from './realtime.metrics';
import { TopicAccess } from './topic-access';
import { TopicHistory } from './topic-history';
import { TopicHub } from './topic-hub';

@Module({
  providers: [
    {
      provide: Authenticator,
      inject: [ApiTokenRepository, SessionRepository, UserRepository, ProjectRepository],
      useFactory: (
        tokens: ApiTokenRepository,
        sessions: SessionRepository,
        users: UserRepository,
        projects: ProjectRepository,
      ) => new Authenticator(tokens, sessions, users, projects),
    },
    RealtimeMetrics,
    ConnectionAdmission,
    TopicHistory,
    TopicHub,
    TopicAccess,
    RealtimeGateway,
  ],
})
export class RealtimeModule {}
