import { JobSubject, StreamNaming, workStreamForSubject } from 'src/platform/messaging/streams';

describe(StreamNaming.name, () => {
  it('leaves names alone without a prefix', () => {
    const sut = new StreamNaming('');
    expect(sut.stream('COLLECTION_TRANSFORMS')).toBe('COLLECTION_TRANSFORMS');
    expect(sut.subject('workers.collection-transform')).toBe('workers.collection-transform');
  });

  it('prefixes streams and subjects', () => {
    const sut = new StreamNaming('tenant-a');
    expect(sut.stream('DLQ_TRANSFORMS')).toBe('TENANT_A_DLQ_TRANSFORMS');
    expect(sut.subject('dlq.>')).toBe('tenant-a.dlq.>');
  });
});

describe(workStreamForSubject.name, () => {
  it('finds the stream of a job subject', () => {
    expect(workStreamForSubject(JobSubject.DatasetTransform)).toMatchObject({
      stream: 'DATASET_TRANSFORMS',
      durable: 'dataset-transform-workers',
      dlqSubject: 'dlq.dataset-transforms',
    });
  });

  it('rejects an unknown subject', () => {
    expect(() => workStreamForSubject('workers.unknown')).toThrow('no work stream is defined for subject "workers.unknown"');
  });
});
