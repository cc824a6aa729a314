import { InvalidInputError, UnavailableError } from 'src/common/app-error';
import { DatasetTransformJob } from 'src/dataset-transforms/dataset-transform.job';
import { EmbeddingBatchService } from 'src/dataset-transforms/embedding-batch.service';
import { JobContext } from 'src/platform/messaging/job-context';
import { DatasetTransformConsumer } from 'src/workers/datasets/dataset-transform.consumer';

const JOB: DatasetTransformJob = {
  job_id: 'job-1',
  batch_id: '00000000-0000-4000-8000-000000000001',
  dataset_transform_id: '00000000-0000-4000-8000-000000000002',
  embedded_dataset_id: '00000000-0000-4000-8000-000000000003',
  embedder_id: '00000000-0000-4000-8000-000000000004',
  owner_id: 'local',
};

function contextAt(deliveryCount: number): JobContext {
  return new JobContext([{ subject: 'workers.dataset-transform', deliveryCount, maxDeliver: 5, streamSequence: 1, signal: new AbortController().signal }]);
}

function consumerFailingWith(error: Error) {
  const batches = {
    process: jest.fn().mockRejectedValue(error),
    markFailed: jest.fn().mockResolvedValue(undefined),
    deferAfterOutage: jest.fn().mockResolvedValue(undefined),
  };
  return { batches, consumer: new DatasetTransformConsumer(batches as unknown as EmbeddingBatchService) };
}

describe('DatasetTransformConsumer', () => {
  const outage = new UnavailableError('embedder_circuit_open', 'provider is failing', { retryInMs: 1000 });

  it('rethrows an outage before the last delivery', async () => {
    const { batches, consumer } = consumerFailingWith(outage);
    await expect(consumer.handle(JOB, contextAt(2))).rejects.toBe(outage);
    expect(batches.deferAfterOutage).not.toHaveBeenCalled();
    expect(batches.markFailed).not.toHaveBeenCalled();
  });

  it('defers the batch after an outage on the last delivery', async () => {
    const { batches, consumer } = consumerFailingWith(outage);
    await expect(consumer.handle(JOB, contextAt(5))).resolves.toBeUndefined();
    expect(batches.deferAfterOutage).toHaveBeenCalledWith(JOB, outage);
    expect(batches.markFailed).not.toHaveBeenCalled();
  });

  it('fails the batch on a rejected input at once', async () => {
    const rejected = new InvalidInputError('embedder_rejected_input', 'input rejected by policy');
    const { batches, consumer } = consumerFailingWith(rejected);
    await expect(consumer.handle(JOB, contextAt(1))).rejects.toBe(rejected);
    expect(batches.markFailed).toHaveBeenCalledWith(JOB, rejected);
    expect(batches.deferAfterOutage).not.toHaveBeenCalled();
  });

  it('fails the batch on an unknown error at the last delivery', async () => {
    const crash = new Error('vector length mismatch');
    const { batches, consumer } = consumerFailingWith(crash);
    await expect(consumer.handle(JOB, contextAt(5))).rejects.toBe(crash);
    expect(batches.markFailed).toHaveBeenCalledWith(JOB, crash);
  });
});
