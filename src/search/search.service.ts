import { Injectable, Logger } from '@nestjs/common';
import { InvalidInputError } from 'src/common/app-error';
import { hasUnsafeText } from 'src/common/postgres-json';
import { Owner } from 'src/common/owner';
import { EmbeddedDatasetEntity } from 'src/embedded-datasets/embedded-dataset.entity';
import { EmbeddedDatasetsService } from 'src/embedded-datasets/embedded-datasets.service';
import { EmbeddersService } from 'src/embedders/embedders.service';
import { searchMetrics } from 'src/platform/observability/metrics';
import { FieldCondition, VectorStore } from 'src/platform/vectors/vector-store';
import { FILTERABLE_FIELDS, SearchRequestDto } from 'src/search/dto/search-request.dto';
import { EmbeddedDatasetSearchResult, SearchMatch, SearchResponse } from 'src/search/dto/search.response';

@Injectable()
export class SearchService {
  private readonly logger = new Logger(SearchService.name);

  constructor(
    private readonly embeddedDatasets: EmbeddedDatasetsService,
    private readonly embedders: EmbeddersService,
    private readonly vectors: VectorStore,
  ) {}

  /** Dense search of each embedded dataset with its own embedder; one dataset's failure does not fail the rest. */
  async search(owner: Owner, request: SearchRequestDto): Promise<SearchResponse> {
    const endTimer = searchMetrics.duration().startTimer({ endpoint: 'semantic' });
    searchMetrics.requests().inc({ endpoint: 'semantic' });
    try {
      const conditions = toConditions(request.filters);
      const targets = await this.embeddedDatasets.getMany(owner, request.embedded_dataset_ids);
      const results = await Promise.all(targets.map((target) => this.searchOne(owner, target, request, conditions)));
      return { query: request.query, results };
    } catch (error) {
      searchMetrics.failures().inc({ endpoint: 'semantic' });
      throw error;
    } finally {
      endTimer();
    }
  }

  private async searchOne(
    owner: Owner,
    target: EmbeddedDatasetEntity,
    request: SearchRequestDto,
    conditions: FieldCondition[],
  ): Promise<EmbeddedDatasetSearchResult> {
    const result: EmbeddedDatasetSearchResult = {
      embedded_dataset_id: target.id,
      embedded_dataset_title: target.title,
      embedder_id: target.embedderId,
      embedder_name: null,
      matches: [],
    };
    if (!target.embedderId) {
      result.error = 'this embedded dataset has no embedder, so text queries cannot be embedded for it';
      return result;
    }
    try {
      const embedderRow = await this.embedders.get(owner, target.embedderId);
      result.embedder_name = embedderRow.name;
      if (!(await this.vectors.collectionExists(target.collectionName))) {
        result.error = 'not processed yet: no vectors are stored for this embedded dataset';
        return result;
      }
      const [vector] = await this.embedders.instantiate(embedderRow).embed([request.query], 'query');
      const points = await this.vectors.search(target.collectionName, vector, {
        limit: request.limit,
        scoreThreshold: request.score_threshold,
        filter: conditions.length > 0 ? { must: conditions } : undefined,
      });
      result.matches = points.map((point): SearchMatch => ({
        id: point.id,
        score: point.score,
        text: String(point.payload.text ?? ''),
        item_id: String(point.payload.item_id ?? ''),
        item_title: String(point.payload.item_title ?? ''),
        source_file: (point.payload.source_file as string | null) ?? null,
        file_id: (point.payload.file_id as string | null) ?? null,
        chunk_index: Number(point.payload.chunk_index ?? 0),
        metadata: (point.payload.metadata as Record<string, unknown>) ?? {},
      }));
    } catch (error) {
      this.logger.error({ err: error, embedded_dataset_id: target.id }, 'search of one embedded dataset failed');
      result.error = error instanceof Error ? error.message : 'search failed';
    }
    return result;
  }
}

function toConditions(filters: Record<string, unknown> | undefined): FieldCondition[] {
  if (!filters) return [];
  return Object.entries(filters).map(([key, value]) => {
    if (!(FILTERABLE_FIELDS as readonly string[]).includes(key)) {
      throw new InvalidInputError('invalid_filter', `cannot filter on "${key}"; filterable fields: ${FILTERABLE_FIELDS.join(', ')}`);
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new InvalidInputError('invalid_filter', `filter "${key}" must be a string or a number`);
    }
    if (typeof value === 'string' && hasUnsafeText(value)) {
      throw new InvalidInputError('invalid_filter', `filter "${key}" contains a NUL character or an unpaired surrogate`);
    }
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new InvalidInputError('invalid_filter', `filter "${key}" must be a finite number`);
    }
    return { key, match: { value } };
  });
}
