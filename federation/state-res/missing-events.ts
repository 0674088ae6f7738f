/**
 * An event the persister or state resolution needs (a prev event, an auth event, an event in a state
 * set being resolved) is not stored. Nothing was written; the caller (federation)
 * fetches the ids and tries again.
 */
export class MissingEventsError extends Error {
  constructor(
    readonly eventIds: readonly string[],
    what: string,
  ) {
    super(`missing ${what}: ${eventIds.slice(0, 5).join(', ')}${eventIds.length > 5 ? ', ...' : ''}`);
    this.name = 'MissingEventsError';
  }
}
