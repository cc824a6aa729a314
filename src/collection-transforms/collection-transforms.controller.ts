import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiPageResponse } from 'src/common/api-page-response';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, PageQuery, SearchPageQuery } from 'src/common/validation';
import { CollectionTransformsService } from 'src/collection-transforms/collection-transforms.service';
import {
  CollectionTransformResponse,
  CollectionTransformStats,
  ProcessedFileResponse,
  toCollectionTransformResponse,
  toProcessedFileResponse,
} from 'src/collection-transforms/dto/collection-transform.response';
import {
  CreateCollectionTransformDto,
  UpdateCollectionTransformDto,
} from 'src/collection-transforms/dto/create-collection-transform.dto';

@ApiTags('collection-transforms')
@Controller('api/collection-transforms')
export class CollectionTransformsController {
  constructor(private readonly transforms: CollectionTransformsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a collection transform: extracts and chunks every file of a collection into a dataset' })
  async create(@CurrentOwner() owner: Owner, @Body() dto: CreateCollectionTransformDto): Promise<CollectionTransformResponse> {
    return toCollectionTransformResponse(await this.transforms.create(owner, dto));
  }

  @Get()
  @ApiOperation({ summary: 'List collection transforms' })
  @ApiPageResponse(CollectionTransformResponse)
  async list(@CurrentOwner() owner: Owner, @Query() query: SearchPageQuery): Promise<Page<CollectionTransformResponse>> {
    const page = await this.transforms.list(owner, query.limit, query.offset, query.search);
    return { ...page, items: page.items.map(toCollectionTransformResponse) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a collection transform' })
  async get(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<CollectionTransformResponse> {
    return toCollectionTransformResponse(await this.transforms.get(owner, id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a collection transform; enabling it processes files not processed yet' })
  async update(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateCollectionTransformDto,
  ): Promise<CollectionTransformResponse> {
    return toCollectionTransformResponse(await this.transforms.update(owner, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a collection transform with the items it created and their vectors' })
  async delete(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.transforms.delete(owner, id);
  }

  @Post(':id/trigger')
  @ApiOperation({ summary: 'Process every file whose current content has no outcome yet' })
  async trigger(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<{ collection_transform_id: string; jobs_published: number }> {
    return { collection_transform_id: id, jobs_published: await this.transforms.trigger(owner, id) };
  }

  @Post(':id/retry-failed')
  @ApiOperation({ summary: 'Process again every file whose latest outcome is a failure' })
  async retryFailed(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<{ collection_transform_id: string; retried_count: number }> {
    return { collection_transform_id: id, retried_count: await this.transforms.retryFailed(owner, id) };
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'Files processed, failed and pending, and chunks created' })
  stats(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<CollectionTransformStats> {
    return this.transforms.stats(owner, id);
  }

  @Get(':id/processed-files')
  @ApiOperation({ summary: 'Outcome of the transform for each file, with failure reasons' })
  @ApiPageResponse(ProcessedFileResponse)
  async processedFiles(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<ProcessedFileResponse>> {
    const page = await this.transforms.processedFiles(owner, id, query.limit, query.offset);
    return { ...page, items: page.items.map(toProcessedFileResponse) };
  }
}
