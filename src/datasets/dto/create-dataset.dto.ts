import { PartialType } from '@nestjs/swagger';
import { TitledResourceDto } from 'src/common/titled-resource.dto';

export class CreateDatasetDto extends TitledResourceDto {}

export class UpdateDatasetDto extends PartialType(CreateDatasetDto) {}
