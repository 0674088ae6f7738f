/**
 * Every domain event, in one place. To add one: add its payload here under a
 * `component.past_tense_verb` name; publishers and consumers are typed from this map.
 * Payloads are plain JSON (they are stored as jsonb): no Dates, no undefined values
 * that matter, no class instances. Change a payload only by adding optional fields:
 * rows written by an older version of the server may still be in the outbox.
 */

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

export interface DomainEventPayloads {
  /** An event became part of a room (sent here, or received over federation). */
  'room.event_persisted': {
    roomId: string;
    eventId: string;
    /** The Matrix event type, e.g. m.room.message. */
    type: string;
    stateKey: string | null;
    sender: string;
    streamPos: number;
    origin: 'local' | 'remote';
  };
  /** A member event changed someone's membership (not a profile-only update). */
  'room.membership_changed': {
    roomId: string;
    userId: string;
    membership: Membership;
    prevMembership: Membership | null;
    eventId: string;
  };
  /** The account can no longer log in; its sessions are gone. */
  'account.deactivated': {
    userId: string;
  };
  /** Devices of the account were deleted or renamed: their keys changed for everyone tracking them. */
  'account.devices_changed': {
    userId: string;
  };
  /** The profile after the change; an absent field is unset. */
  'account.profile_changed': {
    userId: string;
    displayname?: string;
    avatar_url?: string;
  };
}

export type DomainEventType = keyof DomainEventPayloads;

/** What a publisher hands in: the event's name and its payload. */
export type DomainEvent<K extends DomainEventType = DomainEventType> = {
  [P in K]: { type: P; payload: DomainEventPayloads[P] };
}[K];

/** What a consumer is handed: the event plus its outbox id (its place in the order). */
export type DeliveredEvent<K extends DomainEventType = DomainEventType> = DomainEvent<K> & { id: number };
