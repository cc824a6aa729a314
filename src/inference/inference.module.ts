import { Module } from '@nestjs/common';
import { InferenceController } from 'src/inference/inference.controller';
import { InferenceService } from 'src/inference/inference.service';
import { ModelRegistry } from 'src/inference/model-registry.service';
import { OpenAiCompatController } from 'src/inference/openai-compat.controller';

/** The `inference` role: local ONNX embedding and reranking models over HTTP. */
@Module({
  controllers: [InferenceController, OpenAiCompatController],
  providers: [ModelRegistry, InferenceService],
  exports: [ModelRegistry],
})
export class InferenceModule {}
