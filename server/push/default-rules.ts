/**
 * The spec's server-default push rules (client-server API, "Predefined Rules"),
 * as a pure function of the user they are for. The rules marked legacy were
 * dropped from the spec in v1.17 but are still served, as Synapse does, because
 * deployed clients look for them (mention settings in Element keep using them).
 */

export const RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export type PushAction = string | { set_tweak: string; value?: unknown; [k: string]: unknown };

export interface PushCondition {
  kind: string;
  key?: string;
  pattern?: string;
  is?: string;
  value?: string | number | boolean | null;
  [k: string]: unknown;
}

export interface PushRule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

export type Ruleset = Record<RuleKind, PushRule[]>;

const sound = (value: string): PushAction => ({ set_tweak: 'sound', value });
const highlight: PushAction = { set_tweak: 'highlight' };
const match = (key: string, pattern: string): PushCondition => ({ kind: 'event_match', key, pattern });

function rule(rule_id: string, conditions: PushCondition[], actions: PushAction[], enabled = true): PushRule {
  return { rule_id, default: true, enabled, conditions, actions };
}

/** `.m.rule.master`: above every other rule, user-defined ones included; off unless the user mutes everything. */
export function masterRule(): PushRule {
  return rule('.m.rule.master', [], [], false);
}

/** The server-default rules for `userId`, each kind in priority order. `.m.rule.master` comes first in override. */
export function defaultRules(userId: string): Ruleset {
  const localpart = userId.startsWith('@') ? userId.slice(1).split(':')[0]! : userId;
  return {
    override: [
      masterRule(),
      rule('.m.rule.suppress_notices', [match('content.msgtype', 'm.notice')], []),
      rule(
        '.m.rule.invite_for_me',
        [match('type', 'm.room.member'), match('content.membership', 'invite'), match('state_key', userId)],
        ['notify', sound('default')],
      ),
      rule('.m.rule.member_event', [match('type', 'm.room.member')], []),
      rule(
        '.m.rule.is_user_mention',
        [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
        ['notify', sound('default'), highlight],
      ),
      // Legacy: the display name anywhere in the body.
      rule('.m.rule.contains_display_name', [{ kind: 'contains_display_name' }], ['notify', sound('default'), highlight]),
      rule(
        '.m.rule.is_room_mention',
        [
          { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
          { kind: 'sender_notification_permission', key: 'room' },
        ],
        ['notify', highlight],
      ),
      // Legacy: "@room" in the body.
      rule(
        '.m.rule.roomnotif',
        [match('content.body', '@room'), { kind: 'sender_notification_permission', key: 'room' }],
        ['notify', highlight],
      ),
      rule('.m.rule.tombstone', [match('type', 'm.room.tombstone'), match('state_key', '')], ['notify', highlight]),
      rule('.m.rule.reaction', [match('type', 'm.reaction')], []),
      rule('.m.rule.room.server_acl', [match('type', 'm.room.server_acl'), match('state_key', '')], []),
      rule('.m.rule.suppress_edits', [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }], []),
    ],
    content: [
      // Legacy: the user's localpart as a word in the body.
      {
        rule_id: '.m.rule.contains_user_name',
        default: true,
        enabled: true,
        pattern: localpart,
        actions: ['notify', sound('default'), highlight],
      },
    ],
    room: [],
    sender: [],
    underride: [
      rule('.m.rule.call', [match('type', 'm.call.invite')], ['notify', sound('ring')]),
      rule(
        '.m.rule.encrypted_room_one_to_one',
        [{ kind: 'room_member_count', is: '2' }, match('type', 'm.room.encrypted')],
        ['notify', sound('default')],
      ),
      rule(
        '.m.rule.room_one_to_one',
        [{ kind: 'room_member_count', is: '2' }, match('type', 'm.room.message')],
        ['notify', sound('default')],
      ),
      rule('.m.rule.message', [match('type', 'm.room.message')], ['notify']),
      rule('.m.rule.encrypted', [match('type', 'm.room.encrypted')], ['notify']),
    ],
  };
}
