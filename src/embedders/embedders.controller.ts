import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiPageResponse } from 'src/common/api-page-response';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, SearchPageQuery } from 'src/common/validation';
import { CreateEmbedderDto } from 'src/embedders/dto/create-embedder.dto';
import { EmbedderResponse, toEmbedderResponse } from 'src/embedders/dto/embedder.response';
import { UpdateEmbedderDto } from 'src/embedders/dto/update-embedder.dto';
import { EmbeddersService } from 'src/embedders/embedders.service';

@ApiTags('embedders')
@Controller('api/embedders')
export class EmbeddersController {
  constructor(private readonly embedders: EmbeddersService) {}

  @Post()
  @ApiOperation({ summary: 'Create an embedder' })
  async create(@CurrentOwner() owner: Owner, @Body() dto: CreateEmbedderDto): Promise<EmbedderResponse> {
    return toEmbedderResponse(await this.embedders.create(owner, dto));
  }

  @Get()
  @ApiOperation({ summary: 'List embedders' })
  @ApiPageResponse(EmbedderResponse)
  async list(@CurrentOwner() owner: Owner, @Query() query: SearchPageQuery): Promise<Page<EmbedderResponse>> {
    const page = await this.embedders.list(owner, query.limit, query.offset, query.search);
    return { ...page, items: page.items.map(toEmbedderResponse) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get an embedder' })
  async get(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<EmbedderResponse> {
    return toEmbedderResponse(await this.embedders.get(owner, id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Update an embedder' })
  async update(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateEmbedderDto,
  ): Promise<EmbedderResponse> {
    return toEmbedderResponse(await this.embedders.update(owner, id, dto));
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Embed a sample text with this embedder and report dimensions and latency' })
  test(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<{ success: boolean; dimensions: number | null; latency_ms: number; message: string }> {
    return this.embedders.test(owner, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an embedder that no embedded dataset uses' })
  async delete(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.embedders.delete(owner, id);
  }
}
