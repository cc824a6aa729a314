import { PartialType, PickType } from '@nestjs/swagger';
import { CreateEmbedderDto } from 'src/embedders/dto/create-embedder.dto';

/** Dimensions and provider are fixed once vectors may exist; a new embedder is created instead. */
export class UpdateEmbedderDto extends PartialType(
  PickType(CreateEmbedderDto, [
    'name',
    'batch_size',
    'max_input_tokens',
    'config',
    'is_public',
    'base_url',
    'api_key',
    'truncate_strategy',
  ] as const),
) {}
