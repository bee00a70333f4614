import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiResponse, ApiTags } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import type { Principal } from '@hangar/auth';
import { HangarError, ListAuditQuerySchema, type AuditPage } from '@hangar/contracts';
import { AuditRepository } from '@hangar/db';
import { AuditPageDto, ProblemDto } from '../../common/response.dto';
import { CurrentPrincipal } from '../auth/auth.decorators';

class ListAuditQueryDto extends createZodDto(ListAuditQuerySchema) {}

// The audit log, newest first: project admins read their projects', instance administrators all.
@ApiTags('audit')
@ApiResponse({ status: '4XX', description: 'problem+json', type: ProblemDto })
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly entries: AuditRepository) {}

  @Get()
  @ApiOkResponse({ type: AuditPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListAuditQueryDto): Promise<AuditPage> {
    let projectIds: string[] | null;
    if (query.project !== undefined)
      projectIds = [principal.require(principal.project(query.project).id, 'admin').id];
    else if (principal.isInstanceAdmin) projectIds = null;
    else {
      projectIds = principal.projects
        .filter((project) => project.role === 'admin')
        .map((project) => project.id);
      if (projectIds.length === 0) throw new HangarError('FORBIDDEN', 'the audit log is for project admins');
    }
    return this.entries.list({
      projectIds,
      limit: query.limit,
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
  }
}
