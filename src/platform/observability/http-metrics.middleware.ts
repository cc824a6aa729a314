import { NextFunction, Request, Response } from 'express';
import { httpMetrics } from 'src/platform/observability/metrics';

/**
 * Counts and times HTTP requests. The path label is the route template (`/api/collections/:id`),
 * never the raw URL, so ids do not multiply the series.
 */
export function httpMetricsMiddleware(request: Request, response: Response, next: NextFunction): void {
  if (request.path === '/metrics') {
    next();
    return;
  }
  const inFlight = httpMetrics.inFlight();
  const started = process.hrtime.bigint();
  inFlight.inc();
  response.once('finish', () => {
    inFlight.dec();
    const route = (request.route as { path?: string } | undefined)?.path;
    const path = route ? `${request.baseUrl}${route}` : 'unmatched';
    const labels = { method: request.method, path, status: String(response.statusCode) };
    httpMetrics.requests().inc(labels);
    httpMetrics.duration().observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  });
  next();
}
