/**
 * Rule 4 (v1-v5 and v12: rule 5): authorization of m.room.member events. The
 * text is the same in all versions except:
 * - 4.3.1: v1-v10 compare with `content.creator`, v11+ with the create sender;
 * - knocking (the join rule and membership) exists from v7;
 * - the restricted join rule and rule 4.2 (join_authorised_via_users_server) from v8;
 * - knock_restricted from v10.
 * Rule numbers below use the v10/v11 numbering.
 */
import type { Pdu } from '../events/pdu.ts';
import type { RoomVersion } from '../room-versions.ts';
import { domainOf, isValidUserId } from './identifiers.ts';
import { currentPowerLevels, userPowerLevel } from './power-levels.ts';
import { checkThirdPartyInvite } from './third-party-invite.ts';
import { ALLOW, type AuthOptions, type AuthResult, type AuthStateLookup, deny, EventType } from './types.ts';

/** A user's membership in `state`, or undefined if they have no member event. */
export function membershipOf(userId: string, state: AuthStateLookup): string | undefined {
  const m = state(EventType.Member, userId)?.content['membership'];
  return typeof m === 'string' ? m : undefined;
}

/** The current join rule, or undefined when the room has no (valid) join rules event. */
export function joinRuleOf(state: AuthStateLookup): string | undefined {
  const rule = state(EventType.JoinRules, '')?.content['join_rule'];
  return typeof rule === 'string' ? rule : undefined;
}

function hasSignatureFrom(event: Pdu, serverName: string): boolean {
  const sigs = event.signatures[serverName];
  return sigs !== undefined && Object.keys(sigs).length > 0;
}

export function checkMemberEvent(event: Pdu, state: AuthStateLookup, version: RoomVersion, options: AuthOptions = {}): AuthResult {
  const membership = event.content['membership'];
  // 4.1
  if (event.state_key === undefined || membership === undefined) {
    return deny('m.room.member: missing state_key or content.membership');
  }

  // 4.2 (v8+): the authorising server vouches for a restricted join by signing it.
  const via = event.content['join_authorised_via_users_server'];
  if (via !== undefined && version.restrictedJoins) {
    const server = typeof via === 'string' && isValidUserId(via) ? domainOf(via) : undefined;
    const signed =
      server !== undefined &&
      (options.verifyServerSignature ? options.verifyServerSignature(event, server) : hasSignatureFrom(event, server));
    if (!signed) return deny('m.room.member: not signed by the server of join_authorised_via_users_server');
  }

  switch (membership) {
    case 'join':
      return checkJoin(event, state, version);
    case 'invite':
      return checkInvite(event, state, version);
    case 'leave':
      return checkLeave(event, state, version);
    case 'ban':
      return checkBan(event, state, version);
    case 'knock':
      // Before v7 knock is an unknown membership.
      if (version.knocking) return checkKnock(event, state, version);
      return deny('m.room.member: knocking is not supported by this room version');
    default:
      // 4.8
      return deny('m.room.member: unknown membership');
  }
}

/** 4.3 */
function checkJoin(event: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  const target = event.state_key ?? '';
  const create = state(EventType.Create, '');

  // 4.3.1: the creator's own first join, right after the create event.
  // v10 names the creator in content.creator; v11+ uses the create sender.
  if (
    create !== undefined &&
    event.prev_events.length === 1 &&
    event.prev_events[0] === create.event_id &&
    target === (version.implicitRoomCreator ? create.sender : create.content['creator'])
  ) {
    return ALLOW;
  }
  // 4.3.2: nobody can join on someone else's behalf.
  if (event.sender !== target) return deny('join: sender does not match state_key');

  const current = membershipOf(event.sender, state);
  // 4.3.3
  if (current === 'ban') return deny('join: sender is banned');

  const rule = joinRuleOf(state);
  // 4.3.4 (before v7 a `knock` join rule means nothing, and joins fall to 4.3.7)
  if (rule === 'invite' || (rule === 'knock' && version.knocking)) {
    if (current === 'invite' || current === 'join') return ALLOW;
    return deny(`join: join_rule is ${rule} and sender is not invited`);
  }
  // 4.3.5: restricted was added in v8, knock_restricted in v10.
  if ((rule === 'restricted' && version.restrictedJoins) || (rule === 'knock_restricted' && version.knockRestricted)) {
    if (current === 'join' || current === 'invite') return ALLOW;
    const via = event.content['join_authorised_via_users_server'];
    if (typeof via !== 'string') return deny(`join: ${rule} room needs join_authorised_via_users_server`);
    if (membershipOf(via, state) !== 'join') {
      return deny('join: join_authorised_via_users_server is not a joined member');
    }
    if (userPowerLevel(via, state, version) < currentPowerLevels(state, version).invite) {
      return deny('join: join_authorised_via_users_server lacks invite power');
    }
    return ALLOW;
  }
  // 4.3.6
  if (rule === 'public') return ALLOW;
  // 4.3.7
  return deny(`join: join_rule ${rule ?? '(none)'} does not allow joining`);
}

/** 4.4 */
function checkInvite(event: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  // 4.4.1
  if (event.content['third_party_invite'] !== undefined) return checkThirdPartyInvite(event, state);
  // 4.4.2
  if (membershipOf(event.sender, state) !== 'join') return deny('invite: sender is not joined');
  // 4.4.3: joined users need no invite and banned users must be unbanned first.
  const targetMembership = membershipOf(event.state_key ?? '', state);
  if (targetMembership === 'join' || targetMembership === 'ban') {
    return deny(`invite: target is already ${targetMembership === 'join' ? 'joined' : 'banned'}`);
  }
  // 4.4.4 / 4.4.5
  if (userPowerLevel(event.sender, state, version) >= currentPowerLevels(state, version).invite) return ALLOW;
  return deny('invite: sender power level is below the invite level');
}

/** 4.5 */
function checkLeave(event: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  const target = event.state_key ?? '';
  // 4.5.1: leaving, rejecting an invite, or retracting a knock.
  if (event.sender === target) {
    const current = membershipOf(target, state);
    if (current === 'invite' || current === 'join' || (current === 'knock' && version.knocking)) return ALLOW;
    return deny(`leave: cannot leave with membership ${current ?? '(none)'}`);
  }
  // 4.5.2: kicks and unbans need the sender to be in the room.
  if (membershipOf(event.sender, state) !== 'join') return deny('leave: sender is not joined');
  const levels = currentPowerLevels(state, version);
  const senderLevel = userPowerLevel(event.sender, state, version);
  // 4.5.3: unbanning needs the ban level as well as the kick level.
  if (membershipOf(target, state) === 'ban' && senderLevel < levels.ban) {
    return deny('leave: unban needs the ban level');
  }
  // 4.5.4 / 4.5.5
  if (senderLevel >= levels.kick && userPowerLevel(target, state, version) < senderLevel) return ALLOW;
  return deny('leave: sender cannot kick the target');
}

/** 4.6 */
function checkBan(event: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  // 4.6.1
  if (membershipOf(event.sender, state) !== 'join') return deny('ban: sender is not joined');
  // 4.6.2 / 4.6.3
  const senderLevel = userPowerLevel(event.sender, state, version);
  const levels = currentPowerLevels(state, version);
  if (senderLevel >= levels.ban && userPowerLevel(event.state_key ?? '', state, version) < senderLevel) {
    return ALLOW;
  }
  return deny('ban: sender cannot ban the target');
}

/** 4.7 */
function checkKnock(event: Pdu, state: AuthStateLookup, version: RoomVersion): AuthResult {
  // 4.7.1 (changed in v10 to also allow knock_restricted)
  const rule = joinRuleOf(state);
  if (rule !== 'knock' && !(rule === 'knock_restricted' && version.knockRestricted)) {
    return deny(`knock: join_rule ${rule ?? '(none)'} forbids knocking`);
  }
  // 4.7.2
  if (event.sender !== event.state_key) return deny('knock: sender does not match state_key');
  // 4.7.3 / 4.7.4: members, invitees and banned users cannot knock.
  const current = membershipOf(event.sender, state);
  if (current !== 'ban' && current !== 'invite' && current !== 'join') return ALLOW;
  return deny(`knock: sender membership is ${current}`);
}
