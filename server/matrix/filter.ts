import { z } from 'zod';

// Ids a filter names must be ids at all: a filter that can match nothing because of a typo
// is better refused when it is uploaded than silently empty on every /sync. 255 bytes is the
// appendices' limit for both; v12 room ids have no server part.
const withinIdLimit = (s: string) => Buffer.byteLength(s) <= 255;
const roomId = z
  .string()
  .regex(/^![^\s:]+(:[^\s]+)?$/, 'must be a room ID')
  .refine(withinIdLimit, 'must be at most 255 bytes');
const userId = z
  .string()
  .regex(/^@[^\s:]+:[^\s]+$/, 'must be a user ID')
  .refine(withinIdLimit, 'must be at most 255 bytes');

/**
 * The Filter object of the client-server API. Unknown keys are kept (clients add
 * unstable ones, e.g. org.matrix.msc3773.unread_thread_notifications) but known
 * keys must have the right types.
 */
const eventFilter = z
  .object({
    limit: z.number().int().min(0).optional(),
    types: z.array(z.string()).optional(),
    not_types: z.array(z.string()).optional(),
    senders: z.array(userId).optional(),
    not_senders: z.array(userId).optional(),
  })
  .loose();

export const roomEventFilterSchema = eventFilter
  .extend({
    rooms: z.array(roomId).optional(),
    not_rooms: z.array(roomId).optional(),
    contains_url: z.boolean().optional(),
    lazy_load_members: z.boolean().optional(),
    include_redundant_members: z.boolean().optional(),
    unread_thread_notifications: z.boolean().optional(),
  })
  .loose();

export const filterSchema = z
  .object({
    event_fields: z.array(z.string()).optional(),
    event_format: z.enum(['client', 'federation']).optional(),
    presence: eventFilter.optional(),
    account_data: eventFilter.optional(),
    room: z
      .object({
        rooms: z.array(roomId).optional(),
        not_rooms: z.array(roomId).optional(),
        include_leave: z.boolean().optional(),
        timeline: roomEventFilterSchema.optional(),
        state: roomEventFilterSchema.optional(),
        ephemeral: roomEventFilterSchema.optional(),
        account_data: roomEventFilterSchema.optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

export type Filter = z.infer<typeof filterSchema>;
