import { RunningApp, startApp } from 'src/main';
import { ApiClient } from './api-client';
import { TestEnvironment } from './test-environment';

export interface PipelineApp {
  running: RunningApp;
  api: ApiClient;
  pipeline: Awaited<ReturnType<ApiClient['createPipeline']>>;
}

/** Creates the environment's database, starts every role in this process and sets up one hashing pipeline. */
export async function startPipelineApp(environment: TestEnvironment, label: string, overrides: Record<string, string> = {}): Promise<PipelineApp> {
  await environment.createDatabase();
  const running = await startApp(environment.config({ ROLE: 'all', ...overrides }));
  const api = new ApiClient(running.url.replace('[::1]', '127.0.0.1'));
  const pipeline = await api.createPipeline(label);
  return { running, api, pipeline };
}
