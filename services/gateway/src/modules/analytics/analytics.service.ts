import { Injectable } from '@nestjs/common';
import type { Principal } from '@hangar/auth';
import type { Analytics, AnalyticsQuery } from '@hangar/contracts';
import { AnalyticsRepository } from '@hangar/db';

@Injectable()
export class AnalyticsService {
  constructor(private readonly analytics: AnalyticsRepository) {}

  // Any member may read; without `project`, over every project the caller can see.
  async summarize(principal: Principal, query: AnalyticsQuery): Promise<Analytics> {
    const summary = await this.analytics.summarize({
      projectIds: principal.visibleIds(query.project),
      from: new Date(query.from),
      to: new Date(query.to),
      bucket: query.bucket,
    });
    return { from: query.from, to: query.to, bucket: query.bucket, ...summary };
  }
}
