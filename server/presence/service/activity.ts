import type { Consumer } from '../../domain-events/index.ts';

/**
 * Sending to a room is activity (the spec's "pro-active event"): it keeps a user from going
 * idle and brings an idle one back online. Heard after the event commits, off the send path.
 * Any event a local user sends to a timeline counts, not only m.room.message as in Synapse:
 * in an encrypted room every message is an m.room.encrypted, and a reaction is activity too.
 * State events do not: the server sends some on the user's behalf (profile changes).
 * Idempotent, as consumers must be: a second delivery marks the same user active again.
 */
export function activityConsumer(active: (userId: string) => Promise<void>): Consumer<'room.event_persisted'> {
  return {
    name: 'presence.activity',
    types: ['room.event_persisted'],
    async handle({ payload: { sender, stateKey, origin } }) {
      if (origin !== 'local' || stateKey !== null) return;
      await active(sender);
    },
  };
}
