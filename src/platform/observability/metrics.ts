import { Counter, Gauge, Histogram, register } from 'prom-client';

// Metrics live on prom-client's default registry, which /metrics serves. Getting an existing
// metric by name keeps module re-creation (tests start several apps in one process) harmless.
function counter(name: string, help: string, labelNames: string[] = []): Counter<string> {
  return (register.getSingleMetric(name) as Counter<string>) ?? new Counter({ name, help, labelNames });
}

function gauge(name: string, help: string, labelNames: string[] = []): Gauge<string> {
  return (register.getSingleMetric(name) as Gauge<string>) ?? new Gauge({ name, help, labelNames });
}

function histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
  return (register.getSingleMetric(name) as Histogram<string>) ?? new Histogram({ name, help, labelNames, buckets });
}

const HTTP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** HTTP request metrics of every role with an HTTP listener. */
export const httpMetrics = {
  requests: () => counter('http_requests_total', 'HTTP requests handled', ['method', 'path', 'status']),
  duration: () =>
    histogram('http_request_duration_seconds', 'HTTP request latency', ['method', 'path', 'status'], HTTP_BUCKETS),
  inFlight: () => gauge('http_requests_in_flight', 'HTTP requests being processed'),
};

/** Job metrics recorded by the JetStream transport for every worker role. */
export const workerMetrics = {
  activeJobs: () => gauge('worker_active_jobs', 'Jobs being processed now', ['worker']),
  retries: () => counter('worker_job_retries_total', 'Job deliveries that failed and will be retried', ['worker']),
  deadLetters: () => counter('dlq_messages_total', 'Jobs moved to the dead-letter stream', ['worker', 'reason']),
  ready: () => gauge('worker_ready', 'Whether the worker is pulling jobs (1) or not (0)', ['worker']),
};

export const collectionTransformMetrics = {
  jobs: () => counter('collection_transform_jobs_total', 'File extraction and chunking jobs', ['status']),
  duration: () =>
    histogram('collection_transform_jobs_duration_seconds', 'Time spent extracting and chunking a file', [], JOB_BUCKETS),
  itemsCreated: () => counter('collection_transform_items_created', 'Chunks created from files'),
  failures: () => counter('collection_transform_failures_total', 'File processing failures', ['error_type']),
};

export const datasetTransformMetrics = {
  jobs: () => counter('dataset_transform_jobs_total', 'Embedding batch jobs', ['status']),
  duration: () =>
    histogram('dataset_transform_jobs_duration_seconds', 'Time spent embedding a batch', [], JOB_BUCKETS),
  itemsCreated: () => counter('dataset_transform_items_created', 'Vectors stored'),
  failures: () => counter('dataset_transform_failures_total', 'Embedding batch failures', ['error_type']),
};

export const natsMetrics = {
  streamMessages: () => gauge('nats_stream_messages', 'Messages stored in a JetStream stream', ['stream']),
  consumerPending: () =>
    gauge('nats_consumer_pending', 'Messages not yet delivered to a durable consumer', ['stream', 'consumer']),
  consumerAckPending: () =>
    gauge('nats_consumer_ack_pending', 'Delivered messages not yet acknowledged', ['stream', 'consumer']),
};

export const searchMetrics = {
  requests: () => counter('search_request_total', 'Search requests', ['endpoint']),
  duration: () =>
    histogram('search_request_duration_seconds', 'Search latency', ['endpoint'], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]),
  failures: () => counter('search_request_failures_total', 'Failed search requests', ['endpoint']),
};

export const databaseMetrics = {
  poolActive: () => gauge('database_connection_pool_active', 'Database connections in use'),
  poolIdle: () => gauge('database_connection_pool_idle', 'Idle database connections'),
};

const INFERENCE_BUCKETS = [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Metrics of the inference role, labelled by model id. */
export const inferenceMetrics = {
  embedRequests: () => counter('inference_embed_requests_total', 'Embedding requests', ['model', 'status']),
  embedDuration: () =>
    histogram('inference_embed_duration_seconds', 'Embedding request latency, queueing included', ['model', 'status'], INFERENCE_BUCKETS),
  embedItems: () => counter('inference_embed_items_total', 'Texts embedded', ['model']),
  embedPerItemDuration: () =>
    histogram('inference_embed_per_item_duration_seconds', 'Embedding request latency divided by its texts', ['model'], INFERENCE_BUCKETS),
  embedTruncated: () => counter('inference_embed_truncated_total', "Texts cut to the model's token limit", ['model']),
  rerankRequests: () => counter('inference_rerank_requests_total', 'Rerank requests', ['model', 'status']),
  rerankDuration: () =>
    histogram('inference_rerank_duration_seconds', 'Rerank request latency, queueing included', ['model', 'status'], INFERENCE_BUCKETS),
  rerankDocuments: () => counter('inference_rerank_documents_total', 'Documents scored', ['model']),
  queueDepth: () => gauge('inference_queue_depth', 'Requests queued or running per model', ['model']),
  modelLoaded: () => gauge('inference_model_loaded', 'Whether a model is loaded (1) and on which device', ['model', 'kind', 'device']),
  sessionRunDuration: () =>
    histogram('inference_session_run_duration_seconds', 'Time of one ONNX Runtime session.run', ['model'], INFERENCE_BUCKETS),
};
