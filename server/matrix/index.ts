/** Matrix shapes that several components read: filters and the event selector they hold. */
export { filterSchema, roomEventFilterSchema, type Filter } from './filter.ts';
export { blocksAll, matchesFilter, type EventSelector } from './event-filter.ts';
