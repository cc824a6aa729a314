import { BaseRpcContext } from '@nestjs/microservices';

export interface JobDelivery {
  subject: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  maxDeliver: number;
  streamSequence: number;
  /** Aborted when the job exceeds PROCESSING_TIMEOUT_SECS or the worker shuts down. */
  signal: AbortSignal;
}

/** Delivery details a job handler can read (`@Ctx() context: JobContext`). */
export class JobContext extends BaseRpcContext<[JobDelivery]> {
  get delivery(): JobDelivery {
    return this.args[0];
  }

  /** True when a failure now would not be retried: the last delivery. */
  get isLastDelivery(): boolean {
    return this.delivery.deliveryCount >= this.delivery.maxDeliver;
  }
}
