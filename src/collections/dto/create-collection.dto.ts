import { PartialType } from '@nestjs/swagger';
import { TitledResourceDto } from 'src/common/titled-resource.dto';

export class CreateCollectionDto extends TitledResourceDto {}

export class UpdateCollectionDto extends PartialType(CreateCollectionDto) {}
