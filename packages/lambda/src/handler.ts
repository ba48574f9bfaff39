import { createHandler } from './create-handler.js';
import { createLambdaRuntime } from './runtime.js';

// Module scope runs once per container: configuration, SDK clients and the logger are built
// here and reused by every warm invocation. A configuration error fails the cold start.
const deps = createLambdaRuntime(process.env);

/** The Lambda entry point (`index.handler` in the bundle). */
export const handler = createHandler(deps);
