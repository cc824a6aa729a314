import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, PageQuery } from 'src/common/validation';
import { EmbeddedDatasetResponse, toEmbeddedDatasetResponse } from 'src/embedded-datasets/dto/embedded-dataset.response';
import { EmbeddedDatasetsService, EmbeddedDatasetStats } from 'src/embedded-datasets/embedded-datasets.service';

@ApiTags('embedded-datasets')
@Controller('api/embedded-datasets')
export class EmbeddedDatasetsController {
  constructor(private readonly embeddedDatasets: EmbeddedDatasetsService) {}

  @Get()
  @ApiOperation({ summary: 'List embedded datasets' })
  async list(@CurrentOwner() owner: Owner, @Query() query: PageQuery): Promise<Page<EmbeddedDatasetResponse>> {
    const page = await this.embeddedDatasets.list(owner, query.limit, query.offset);
    return { ...page, items: page.items.map(toEmbeddedDatasetResponse) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an embedded dataset' })
  async get(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<EmbeddedDatasetResponse> {
    return toEmbeddedDatasetResponse(await this.embeddedDatasets.get(owner, id));
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Embedding progress of an embedded dataset: chunks, batches and stored points' })
  stats(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<EmbeddedDatasetStats> {
    return this.embeddedDatasets.stats(owner, id);
  }
}
