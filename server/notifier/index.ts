/**
 * Wake-ups for long-polling readers: every committed change says where it moved
 * the streams and whom it concerns. Writers (rooms, accounts, push, presence)
 * and readers (/sync) both depend on this, and not on each other.
 */
export { createNotifier, type Change, type Notifier, type NotifierOptions, type StreamPoint, type Waiter } from './notifier.ts';
export { createTyping, type Typing } from './typing.ts';
export { bridgeNotifierOverRedis } from './redis-bridge.ts';
export { createRedisTyping, startingTypingSerial } from './redis-typing.ts';
