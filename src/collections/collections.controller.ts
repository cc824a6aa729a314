import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
  StreamableFile,
} from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Request } from 'express';
import { ApiPageResponse } from 'src/common/api-page-response';
import { CurrentOwner, Owner } from 'src/common/owner';
import { Page, PageQuery, SearchPageQuery } from 'src/common/validation';
import { CollectionFilesService } from 'src/collections/collection-files.service';
import { CollectionsService } from 'src/collections/collections.service';
import {
  CollectionFileResponse,
  CollectionResponse,
  toCollectionFileResponse,
  toCollectionResponse,
  UploadResponse,
} from 'src/collections/dto/collection.response';
import { CreateCollectionDto, UpdateCollectionDto } from 'src/collections/dto/create-collection.dto';
import {
  CollectionTransformResponse,
  toCollectionTransformResponse,
} from 'src/collection-transforms/dto/collection-transform.response';
import { CollectionTransformsService } from 'src/collection-transforms/collection-transforms.service';
import { SUPPORTED_CONTENT_TYPES } from 'src/workers/collections/extraction/content-type';

@ApiTags('collections')
@Controller('api')
export class CollectionsController {
  constructor(
    private readonly collections: CollectionsService,
    private readonly files: CollectionFilesService,
    private readonly transforms: CollectionTransformsService,
  ) {}

  @Post('collections')
  @ApiOperation({ summary: 'Create a collection' })
  async create(@CurrentOwner() owner: Owner, @Body() dto: CreateCollectionDto): Promise<CollectionResponse> {
    return toCollectionResponse(await this.collections.create(owner, dto));
  }

  @Get('collections')
  @ApiOperation({ summary: 'List collections' })
  @ApiPageResponse(CollectionResponse)
  async list(@CurrentOwner() owner: Owner, @Query() query: SearchPageQuery): Promise<Page<CollectionResponse>> {
    const page = await this.collections.list(owner, query.limit, query.offset, query.search);
    return { ...page, items: page.items.map(toCollectionResponse) };
  }

  @Get('collections-allowed-file-types')
  @ApiOperation({ summary: 'Content types accepted for upload' })
  allowedFileTypes(): string[] {
    return [...SUPPORTED_CONTENT_TYPES];
  }

  @Get('collections/:id')
  @ApiOperation({ summary: 'Get a collection' })
  async get(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<CollectionResponse> {
    return toCollectionResponse(await this.collections.get(owner, id));
  }

  @Patch('collections/:id')
  @ApiOperation({ summary: 'Update a collection' })
  async update(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateCollectionDto,
  ): Promise<CollectionResponse> {
    return toCollectionResponse(await this.collections.update(owner, id, dto));
  }

  @Delete('collections/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a collection with its files, the items made from them and their vectors' })
  async delete(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.files.deleteCollection(owner, id);
  }

  @Post('collections/:id/files')
  @ApiOperation({ summary: 'Upload files (multipart field "files", repeatable); streamed to storage' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: { type: 'object', properties: { files: { type: 'array', items: { type: 'string', format: 'binary' } } } },
  })
  upload(@CurrentOwner() owner: Owner, @Param('id', ParseUUIDPipe) id: string, @Req() request: Request): Promise<UploadResponse> {
    return this.files.upload(owner, id, { headers: request.headers, body: request });
  }

  @Get('collections/:id/files')
  @ApiOperation({ summary: 'List files with their pipeline stage, failure reason and time of last change' })
  @ApiPageResponse(CollectionFileResponse)
  async listFiles(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<CollectionFileResponse>> {
    const page = await this.files.list(owner, id, query.limit, query.offset);
    return { ...page, items: page.items.map(({ file, stage }) => toCollectionFileResponse(file, stage)) };
  }

  @Get('collections/:id/failed-files')
  @ApiOperation({ summary: 'List files whose processing failed, with the reason' })
  @ApiPageResponse(CollectionFileResponse)
  async listFailedFiles(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: PageQuery,
  ): Promise<Page<CollectionFileResponse>> {
    const page = await this.files.listFailed(owner, id, query.limit, query.offset);
    return {
      ...page,
      items: page.items.map((file) =>
        toCollectionFileResponse(file, { stage: file.stage, reason: file.stageReason, changedAt: file.stageChangedAt }),
      ),
    };
  }

  @Get('collections/:id/files/:fileId')
  @ApiOperation({ summary: 'Download a file as uploaded' })
  async download(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('fileId', ParseUUIDPipe) fileId: string,
  ): Promise<StreamableFile> {
    const { file, body } = await this.files.download(owner, id, fileId);
    return new StreamableFile(body, {
      type: file.contentType,
      length: file.size,
      disposition: `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    });
  }

  @Delete('collections/:id/files/:fileId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a file with the items made from it, their chunks and vectors' })
  async deleteFile(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('fileId', ParseUUIDPipe) fileId: string,
  ): Promise<void> {
    await this.files.delete(owner, id, fileId);
  }

  @Get('collections/:id/transforms')
  @ApiOperation({ summary: 'List the collection transforms of a collection' })
  async listTransforms(
    @CurrentOwner() owner: Owner,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<CollectionTransformResponse[]> {
    await this.collections.get(owner, id);
    return (await this.transforms.listForCollection(owner, id)).map(toCollectionTransformResponse);
  }
}
