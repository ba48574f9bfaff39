import * as z from 'zod';
import { logIdSchema } from '../job.js';
import { RUN_KINDS } from '../state/types.js';

/**
 * The direct re-run payload: what the admin (`logzip reenqueue --via lambda`) invokes the function
 * with, and what the on-failure destination echoes back as the request payload.
 */
export const rerunPayloadSchema = z
  .object({
    logId: logIdSchema,
    bucket: z.string().min(1).max(255),
    key: z.string().min(1).max(1024),
    force: z.boolean().optional(),
    /** A fallback code page for entry names without the UTF-8 flag, instead of LOGZIP_FALLBACK_ENCODING. */
    encoding: z.string().min(1).max(64).optional(),
    /** The run the attempts belong to (default `reenqueue`: an operator asked for this re-run). */
    run: z.enum(RUN_KINDS).optional(),
  })
  .strict();

export type RerunPayload = z.infer<typeof rerunPayloadSchema>;
