import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiPageResponse } from 'src/common/api-page-response';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, SearchPageQuery } from 'src/common/validation';
import { BatchListQuery } from 'src/dataset-transforms/dto/batch-list.query';
import { DatasetTransformsService } from 'src/dataset-transforms/dataset-transforms.service';
import {
  CreateDatasetTransformDto,
  UpdateDatasetTransformDto,
} from 'src/dataset-transforms/dto/create-dataset-transform.dto';
import {
  DatasetTransformBatchResponse,
  DatasetTransformResponse,
  toBatchResponse,
  DatasetTransformStats,
  toDatasetTransformResponse,
} from 'src/dataset-transforms/dto/dataset-transform.response';
import { toEmbeddedDatasetResponse } from 'src/embedded-datasets/dto/embedded-dataset.response';

@ApiTags('dataset-transforms')
@Controller('api/dataset-transforms')
export class DatasetTransformsController {
  constructor(private readonly transforms: DatasetTransformsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a dataset transform: embeds a dataset with one or more embedders' })
  async create(@CurrentOwner() owner: Owner, @Body() dto: CreateDatasetTransformDto): Promise<DatasetTransformResponse> {
    const { transform, embedded } = await this.transforms.create(owner, dto);
    return toDatasetTransformResponse(transform, embedded.map(toEmbeddedDatasetResponse));
  }

  @Get()
  @ApiOperation({ summary: 'List dataset transforms' })
  @ApiPageResponse(DatasetTransformResponse)
  async list(@CurrentOwner() owner: Owner, @Query() query: SearchPageQuery): Promise<Page<DatasetTransformResponse>> {
    const page = await this.transforms.list(owner, query.limit, query.offset, query.search);
    const items: DatasetTransformResponse[] = [];
    for (const transform of page.items) {
      const embedded = await this.transforms.embeddedDatasetsOf(transform.id);
      items.push(toDatasetTransformResponse(transform, embedded.map(toEmbeddedDatasetResponse)));
    }
    return { ...page, items };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a dataset transform with its embedded datasets' })
  async get(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<DatasetTransformResponse> {
    const transform = await this.transforms.get(owner, id);
    const embedded = await this.transforms.embeddedDatasetsOf(id);
    return toDatasetTransformResponse(transform, embedded.map(toEmbeddedDatasetResponse));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a dataset transform; changing embedders adds or removes embedded datasets' })
  async update(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateDatasetTransformDto,
  ): Promise<DatasetTransformResponse> {
    const transform = await this.transforms.update(owner, id, dto);
    const embedded = await this.transforms.embeddedDatasetsOf(id);
    return toDatasetTransformResponse(transform, embedded.map(toEmbeddedDatasetResponse));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a dataset transform with its embedded datasets and vectors' })
  async delete(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.transforms.delete(owner, id);
  }

  @Post(':id/trigger')
  @ApiOperation({ summary: 'Schedule embedding of every chunk not embedded yet' })
  async trigger(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<{ dataset_transform_id: string; batches_created: number }> {
    return { dataset_transform_id: id, batches_created: await this.transforms.trigger(owner, id) };
  }

  @Post(':id/retry-failed')
  @ApiOperation({ summary: 'Embed again every failed batch of the transform' })
  async retryFailed(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<{ dataset_transform_id: string; retried_count: number }> {
    return { dataset_transform_id: id, retried_count: await this.transforms.retryFailed(owner, id) };
  }

  @Get(':id/batches')
  @ApiOperation({ summary: 'Embedding batches, newest first, with status, attempts and errors' })
  @ApiPageResponse(DatasetTransformBatchResponse)
  async listBatches(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: BatchListQuery,
  ): Promise<Page<DatasetTransformBatchResponse>> {
    const page = await this.transforms.listBatches(owner, id, query.status, query.limit, query.offset);
    return { ...page, items: page.items.map(toBatchResponse) };
  }

  @Post(':id/batches/:batchId/retry')
  @ApiOperation({ summary: 'Embed one failed batch again' })
  async retryBatch(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('batchId', ParseUUIDPipe) batchId: string,
  ): Promise<{ dataset_transform_id: string; batch_id: string; retried_count: number }> {
    return { dataset_transform_id: id, batch_id: batchId, retried_count: await this.transforms.retryFailed(owner, id, batchId) };
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Embedding progress: chunks embedded and batches by status' })
  stats(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<DatasetTransformStats> {
    return this.transforms.stats(owner, id);
  }
}
