/**
 * Public API of the authorization rules (room versions 10, 11, 12).
 * Everything here is pure: callers supply the state to check against.
 */
export type { AuthOptions, AuthResult, AuthStateLookup, EventShape } from './types.ts';
export { ALLOW, deny, EventType } from './types.ts';

export { type AuthEventKey, authTypesForEvent, selectAuthEvents, thirdPartyInviteToken } from './auth-events.ts';
export { type AuthEventsShapeOptions, checkAuthEventsShape } from './auth-events-shape.ts';
export { checkEventAuth, roomIdForCreateEvent } from './auth-rules.ts';
export { type AuthEventsCheckOptions, checkEventAgainstAuthEvents } from './auth-check.ts';

export {
  CREATOR_DEFAULT_POWER_LEVEL,
  currentPowerLevels,
  notificationPowerLevel,
  parsePowerLevel,
  POWER_LEVEL_DEFAULTS,
  type PowerLevels,
  powerLevelsFromContent,
  requiredPowerLevel,
  roomCreators,
  userPowerLevel,
} from './power-levels.ts';
export { joinRuleOf, membershipOf } from './membership-rules.ts';
export { checkRedactionApplies, redactionTarget } from './redaction.ts';
export { domainOf, isValidServerName, isValidUserId } from './identifiers.ts';
