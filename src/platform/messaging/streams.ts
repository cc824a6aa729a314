/**
 * JetStream streams and subjects. `NATS_STREAM_PREFIX` namespaces both, so several
 * installations (or test runs) can share one NATS server without seeing each other's jobs.
 */
export enum WorkStream {
  CollectionTransforms = 'COLLECTION_TRANSFORMS',
  DatasetTransforms = 'DATASET_TRANSFORMS',
  VisualizationTransforms = 'VISUALIZATION_TRANSFORMS',
}

export enum JobSubject {
  CollectionTransform = 'workers.collection-transform',
  DatasetTransform = 'workers.dataset-transform',
  VisualizationTransform = 'workers.visualization-transform',
}

export const DLQ_STREAM = 'DLQ_TRANSFORMS';
export const STATUS_STREAM = 'TRANSFORM_STATUS';

export interface WorkStreamDefinition {
  stream: WorkStream;
  subject: JobSubject;
  durable: string;
  dlqSubject: string;
  /** How long one delivery may run before the server redelivers it, unless the worker reports progress. */
  ackWaitSecs: number;
}

export const WORK_STREAMS: readonly WorkStreamDefinition[] = [
  {
    stream: WorkStream.CollectionTransforms,
    subject: JobSubject.CollectionTransform,
    durable: 'collection-transform-workers',
    dlqSubject: 'dlq.collection-transforms',
    ackWaitSecs: 600,
  },
  {
    stream: WorkStream.DatasetTransforms,
    subject: JobSubject.DatasetTransform,
    durable: 'dataset-transform-workers',
    dlqSubject: 'dlq.dataset-transforms',
    ackWaitSecs: 600,
  },
  {
    stream: WorkStream.VisualizationTransforms,
    subject: JobSubject.VisualizationTransform,
    durable: 'visualization-transform-workers',
    dlqSubject: 'dlq.visualization-transforms',
    ackWaitSecs: 1800,
  },
];

export const STATUS_SUBJECTS = [
  'transforms.collection.status.>',
  'transforms.dataset.status.>',
  'transforms.visualization.status.>',
];

export function workStreamForSubject(subject: string): WorkStreamDefinition {
  const definition = WORK_STREAMS.find((candidate) => candidate.subject === subject);
  if (!definition) throw new Error(`no work stream is defined for subject "${subject}"`);
  return definition;
}

/** Applies the installation prefix to a stream name (`PREFIX_NAME`) or a subject (`PREFIX.subject`). */
export class StreamNaming {
  constructor(private readonly prefix: string) {}

  stream(name: string): string {
    return this.prefix ? `${this.prefix.toUpperCase().replace(/-/g, '_')}_${name}` : name;
  }

  subject(subject: string): string {
    return this.prefix ? `${this.prefix}.${subject}` : subject;
  }
}
