import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { CreateStandaloneEmbeddedDatasetDto, PushVectorsDto } from 'src/embedded-datasets/dto/push-vectors.dto';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiPageResponse } from 'src/common/api-page-response';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, PageQuery } from 'src/common/validation';
import { EmbeddedDatasetResponse, toEmbeddedDatasetResponse } from 'src/embedded-datasets/dto/embedded-dataset.response';
import { EmbeddedDatasetsService, EmbeddedDatasetStats } from 'src/embedded-datasets/embedded-datasets.service';

@ApiTags('embedded-datasets')
@Controller('api/embedded-datasets')
export class EmbeddedDatasetsController {
  constructor(private readonly embeddedDatasets: EmbeddedDatasetsService) {}

  @Post('standalone')
  @ApiOperation({ summary: 'Create an embedded dataset without an embedder, filled with pushed vectors' })
  async createStandalone(
    @CurrentOwner() owner: Owner,
    @Body() dto: CreateStandaloneEmbeddedDatasetDto,
  ): Promise<EmbeddedDatasetResponse> {
    return toEmbeddedDatasetResponse(await this.embeddedDatasets.createStandalone(owner, dto.title, dto.dimensions));
  }

  @Post(':id/push-vectors')
  @HttpCode(200)
  @ApiOperation({ summary: 'Store up to 1,000 vectors of your own in a standalone embedded dataset' })
  pushVectors(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: PushVectorsDto,
  ): Promise<{ points_inserted: number; collection_name: string }> {
    return this.embeddedDatasets.pushVectors(
      owner,
      id,
      dto.points.map((point) => ({ id: point.id, vector: point.vector, payload: point.payload ?? {} })),
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a standalone embedded dataset and its vectors' })
  async delete(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.embeddedDatasets.deleteStandalone(owner, id);
  }

  @Get()
  @ApiOperation({ summary: 'List embedded datasets' })
  @ApiPageResponse(EmbeddedDatasetResponse)
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
