import { z } from 'zod';
import { MatrixError } from '../../http/matrix-error.ts';

/**
 * Where the next page of a search starts: for `recent`, below a stream position; for `rank`,
 * so many rows into the ranked matches, of events up to the newest one indexed when the first
 * page was read (`upTo`): newer events would shift the offsets and repeat results. Offsets stay
 * exact only against those; an older event indexed late, or a redaction, still moves them by one. A group's token also names its room or sender, so
 * paging it continues that group only. Opaque to clients (base64url JSON).
 */
export type BatchToken =
  | { order: 'recent'; before: number; room?: string | undefined; sender?: string | undefined }
  | { order: 'rank'; offset: number; upTo: number; room?: string | undefined; sender?: string | undefined };

const tokenSchema = z.discriminatedUnion('order', [
  z.object({
    order: z.literal('recent'),
    before: z.number().int().safe(),
    room: z.string().optional(),
    sender: z.string().optional(),
  }),
  z.object({
    order: z.literal('rank'),
    offset: z.number().int().min(0).max(1_000_000),
    upTo: z.number().int().safe(),
    room: z.string().optional(),
    sender: z.string().optional(),
  }),
]);

export function formatBatchToken(t: BatchToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function parseBatchToken(text: string): BatchToken {
  try {
    return tokenSchema.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid next_batch token');
  }
}
