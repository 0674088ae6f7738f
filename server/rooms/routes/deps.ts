import type { MiddlewareHandler } from 'hono';
import type { Config } from '../../config/load.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { RateLimiter } from '../../http/rate-limiter.ts';
import type { Membership } from '../service/membership.ts';
import type { RoomReads } from '../service/room-reads.ts';
import type { RoomWrites } from '../service/room-writes.ts';
import type { CreateRoomRequest } from '../service/create-room.ts';

export interface RoomsRouteDeps {
  config: Config;
  auth: MiddlewareHandler<AppEnv>;
  rateLimiter: RateLimiter;
  createRoom: (creator: string, req: CreateRoomRequest) => Promise<string>;
  membership: Membership;
  writes: RoomWrites;
  reads: RoomReads;
}
