import { Global, Module } from '@nestjs/common';
import { JetStreamService } from 'src/platform/messaging/jetstream.service';

@Global()
@Module({
  providers: [JetStreamService],
  exports: [JetStreamService],
})
export class MessagingModule {}
