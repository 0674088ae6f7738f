/** What the push evaluator's table tests share: a viewer, events, rulesets and actions. */
import type { PushAction, PushCondition, Ruleset } from '../default-rules.ts';
import { createPushEvaluator, type PushEvaluationInput } from './evaluate.ts';

export const USER = '@alice:example.org';
export const ROOM = '!room:example.org';
export const SENDER = '@bob:example.org';
export const evaluate = createPushEvaluator();

export type Event = Record<string, unknown>;
export const message = (content: Record<string, unknown>, extra: Event = {}): Event => ({
  type: 'm.room.message',
  content: { msgtype: 'm.text', ...content },
  sender: SENDER,
  room_id: ROOM,
  event_id: '$e:example.org',
  ...extra,
});
export const text = (body: string) => message({ body });

export function input(event: Event, over: Partial<PushEvaluationInput> = {}): PushEvaluationInput {
  return { event, userId: USER, memberCount: 5, senderPowerLevel: 0, notificationPowerLevels: {}, ...over };
}

/** A ruleset holding one override rule with `conditions` (actions ['notify']). */
export const only = (conditions: PushCondition[]): Ruleset => ({
  override: [{ rule_id: 'r', default: false, enabled: true, conditions, actions: ['notify'] }],
  content: [],
  room: [],
  sender: [],
  underride: [],
});
export const holds = (condition: PushCondition, event: Event, over: Partial<PushEvaluationInput> = {}) =>
  evaluate(only([condition]), input(event, over)) !== undefined;

export const sound = (value: string): PushAction => ({ set_tweak: 'sound', value });
export const HIGHLIGHT: PushAction = { set_tweak: 'highlight' };
