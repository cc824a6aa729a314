import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsOptional } from 'class-validator';
import { PageQuery } from 'src/common/validation';
import { BatchStatus } from 'src/dataset-transforms/dataset-transform-batch.entity';

export class BatchListQuery extends PageQuery {
  @ApiPropertyOptional({ enum: BatchStatus })
  @IsOptional()
  @IsEnum(BatchStatus, { message: `status must be one of: ${Object.values(BatchStatus).join(', ')}` })
  status?: BatchStatus;
}
