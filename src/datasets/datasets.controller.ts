import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiPageResponse } from 'src/common/api-page-response';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, PageQuery, SearchPageQuery } from 'src/common/validation';
import { DatasetsService } from 'src/datasets/datasets.service';
import { CreateDatasetDto, UpdateDatasetDto } from 'src/datasets/dto/create-dataset.dto';
import {
  ChunkResponse,
  DatasetItemResponse,
  DatasetResponse,
  toChunkResponse,
  toDatasetItemResponse,
  toDatasetResponse,
} from 'src/datasets/dto/dataset.response';

@ApiTags('datasets')
@Controller('api/datasets')
export class DatasetsController {
  constructor(private readonly datasets: DatasetsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a dataset' })
  async create(@CurrentOwner() owner: Owner, @Body() dto: CreateDatasetDto): Promise<DatasetResponse> {
    return toDatasetResponse(await this.datasets.create(owner, dto), { items: 0, chunks: 0 });
  }

  @Get()
  @ApiOperation({ summary: 'List datasets with item and chunk counts' })
  @ApiPageResponse(DatasetResponse)
  async list(@CurrentOwner() owner: Owner, @Query() query: SearchPageQuery): Promise<Page<DatasetResponse>> {
    const page = await this.datasets.list(owner, query.limit, query.offset, query.search);
    const counts = await this.datasets.counts(page.items.map((dataset) => dataset.id));
    return { ...page, items: page.items.map((dataset) => toDatasetResponse(dataset, counts.get(dataset.id)!)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a dataset' })
  async get(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<DatasetResponse> {
    const dataset = await this.datasets.get(owner, id);
    return toDatasetResponse(dataset, (await this.datasets.counts([id])).get(id)!);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update a dataset' })
  async update(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateDatasetDto,
  ): Promise<DatasetResponse> {
    const dataset = await this.datasets.update(owner, id, dto);
    return toDatasetResponse(dataset, (await this.datasets.counts([id])).get(id)!);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a dataset with its items, chunks, transforms and vectors' })
  async delete(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.datasets.delete(owner, id);
  }

  @Get(':id/items')
  @ApiOperation({ summary: 'List the items of a dataset with their chunk counts' })
  @ApiPageResponse(DatasetItemResponse)
  async listItems(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<DatasetItemResponse>> {
    const page = await this.datasets.listItems(owner, id, query.limit, query.offset);
    return {
      items: page.items.map((item) => toDatasetItemResponse(item, page.chunkCounts.get(item.id) ?? 0)),
      total_count: page.total_count,
      limit: page.limit,
      offset: page.offset,
    };
  }

  @Get(':id/items/:itemId/chunks')
  @ApiOperation({ summary: 'List the chunks of an item in order' })
  async listChunks(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<ChunkResponse[]> {
    return (await this.datasets.listItemChunks(owner, id, itemId)).map(toChunkResponse);
  }

  @Delete(':id/items/:itemId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an item with its chunks and vectors' })
  async deleteItem(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('itemId', ParseUUIDPipe) itemId: string,
  ): Promise<void> {
    await this.datasets.deleteItem(owner, id, itemId);
  }
}
