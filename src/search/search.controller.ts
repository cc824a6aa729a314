import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentOwner, Owner } from 'src/common/owner';
import { SearchRequestDto } from 'src/search/dto/search-request.dto';
import { SearchResponse } from 'src/search/dto/search.response';
import { SearchService } from 'src/search/search.service';

@ApiTags('search')
@Controller('api/search')
export class SearchController {
  constructor(private readonly searchService: SearchService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Search one or more embedded datasets; returns ranked chunks with their sources' })
  search(@CurrentOwner() owner: Owner, @Body() request: SearchRequestDto): Promise<SearchResponse> {
    return this.searchService.search(owner, request);
  }
}
