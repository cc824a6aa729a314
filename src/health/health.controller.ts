import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { HealthService, ReadinessReport } from 'src/health/health.service';

export const HEALTH_INCLUDES_BACKLOG = Symbol('HEALTH_INCLUDES_BACKLOG');

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthService,
    @Inject(HEALTH_INCLUDES_BACKLOG) private readonly includeBacklog: boolean,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process runs' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: dependencies reachable; 503 when one is down' })
  async ready(@Res({ passthrough: true }) response: Response): Promise<ReadinessReport> {
    const report = await this.health.readiness(this.includeBacklog);
    if (report.status === 'unhealthy') response.status(503);
    return report;
  }
}
