import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Authenticator } from '@hangar/auth';
import { ApiTokenRepository, ProjectRepository, SessionRepository, UserRepository } from '@hangar/db';
import { SignInThrottle } from '../../common/rate-limit/sign-in-throttle';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { BootstrapService } from './bootstrap.service';

@Global()
@Module({
  controllers: [AuthController],
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
    AuthService,
    SignInThrottle,
    BootstrapService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [Authenticator],
})
export class AuthModule {}
