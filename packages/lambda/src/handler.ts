import { createHandler } from './create-handler.js';
import { createLambdaRuntime, createLambdaTracer } from './runtime.js';

// Module scope runs once per container: configuration, SDK clients and the logger are built
// here and reused by every warm invocation. A configuration error fails the cold start.
const deps = createLambdaRuntime(process.env);
// The OpenTelemetry SDK is a lazy chunk of the bundle: loaded only when OTEL_* names an endpoint.
const tracer = await createLambdaTracer(process.env, deps.logger);

/** The Lambda entry point (`index.handler` in the bundle). */
export const handler = createHandler({ ...deps, tracer });
