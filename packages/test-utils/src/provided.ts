import { inject } from 'vitest';
// The ProvidedContext keys are declared next to the code that provides them.
import type {} from './global-setup.js';

/** A value the integration global setup provided, or undefined (also outside a Vitest worker). */
export function provided(key: 'motoUrl' | 'redisUrl'): string | undefined {
  try {
    const value = inject(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}
