import { MatrixError } from '../../http/matrix-error.ts';
import { defaultRules, type PushAction, type PushCondition, type PushRule, type RuleKind, type Ruleset } from '../default-rules.ts';

/** A rule the user defined. Room and sender rules take their meaning from rule_id alone. */
export interface UserRule {
  rule_id: string;
  enabled: boolean;
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

/**
 * What a user changed, persisted as one document: their own rules per kind (most
 * important first) and their changes to server-default rules, keyed `kind/rule_id`.
 * The effective ruleset is the defaults merged with this.
 */
export interface UserPushRules {
  rules: Partial<Record<RuleKind, UserRule[]>>;
  defaults: Record<string, { enabled?: boolean; actions?: PushAction[] }>;
}

export interface NewRule {
  actions: PushAction[];
  conditions?: PushCondition[] | undefined;
  pattern?: string | undefined;
}

export const emptyUserRules = (): UserPushRules => ({ rules: {}, defaults: {} });

const notFound = () => new MatrixError(404, 'M_NOT_FOUND', 'The push rule was not found.');
const KNOWN_STRING_ACTIONS = new Set(['notify', 'dont_notify', 'coalesce']);

/**
 * Checks actions and keeps them as sent. The historical `dont_notify` and `coalesce`
 * must be ignored, which is the evaluator's job (they mean no action): a client that
 * wrote them reads back what it wrote, as with Synapse, rather than a rule it no
 * longer recognises.
 */
export function normalizeActions(actions: readonly unknown[]): PushAction[] {
  const out: PushAction[] = [];
  for (const a of actions) {
    if (typeof a === 'string' && KNOWN_STRING_ACTIONS.has(a)) out.push(a);
    else if (a && typeof a === 'object' && !Array.isArray(a) && typeof (a as { set_tweak?: unknown }).set_tweak === 'string')
      out.push(a as PushAction);
    else throw new MatrixError(400, 'M_INVALID_PARAM', `Unrecognised action: ${JSON.stringify(a)}`);
  }
  return out;
}

function formatUserRule(kind: RuleKind, r: UserRule): PushRule {
  return {
    rule_id: r.rule_id,
    default: false,
    enabled: r.enabled,
    actions: r.actions,
    ...(kind === 'override' || kind === 'underride' ? { conditions: r.conditions ?? [] } : {}),
    ...(kind === 'content' ? { pattern: r.pattern ?? '' } : {}),
  };
}

/** The ruleset clients see: `.m.rule.master` first, then per kind the user's rules before the server's. */
export function effectiveRuleset(userId: string, doc: UserPushRules): Ruleset {
  const defaults = defaultRules(userId);
  const withChanges = (kind: RuleKind) =>
    defaults[kind].map((r) => {
      const change = doc.defaults[`${kind}/${r.rule_id}`];
      if (!change) return r;
      return {
        ...r,
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        ...(change.actions ? { actions: change.actions } : {}),
      };
    });
  const users = (kind: RuleKind) => (doc.rules[kind] ?? []).map((r) => formatUserRule(kind, r));
  const [master, ...override] = withChanges('override');
  return {
    override: [master!, ...users('override'), ...override],
    content: [...users('content'), ...withChanges('content')],
    room: users('room'),
    sender: users('sender'),
    underride: [...users('underride'), ...withChanges('underride')],
  };
}

export function findRule(userId: string, doc: UserPushRules, kind: RuleKind, ruleId: string): PushRule {
  const found = effectiveRuleset(userId, doc)[kind].find((r) => r.rule_id === ruleId);
  if (!found) throw notFound();
  return found;
}

function isServerDefault(userId: string, kind: RuleKind, ruleId: string): boolean {
  return defaultRules(userId)[kind].some((r) => r.rule_id === ruleId);
}

/** Adds or replaces a user rule, placed by `before`/`after` (other user rules of the kind) or first when new. */
export function putRule(
  doc: UserPushRules,
  kind: RuleKind,
  ruleId: string,
  rule: NewRule,
  place: { before?: string | undefined; after?: string | undefined },
): UserPushRules {
  if (ruleId === '' || ruleId.startsWith('.'))
    throw new MatrixError(400, 'M_INVALID_PARAM', "Rule IDs starting with '.' are reserved for server-default rules");
  if (/[/\\]/.test(ruleId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Rule IDs cannot contain slashes or backslashes');
  if (kind === 'content' && rule.pattern === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Content rules need a pattern');
  const list = [...(doc.rules[kind] ?? [])];
  const index = list.findIndex((r) => r.rule_id === ruleId);
  const existing = index >= 0 ? list.splice(index, 1)[0] : undefined;
  const next: UserRule = {
    rule_id: ruleId,
    // New rules are enabled; an update keeps the rule's switch as it was.
    enabled: existing?.enabled ?? true,
    actions: normalizeActions(rule.actions),
    ...(kind === 'override' || kind === 'underride' ? { conditions: rule.conditions ?? [] } : {}),
    ...(kind === 'content' ? { pattern: rule.pattern! } : {}),
  };
  const anchor = place.before ?? place.after;
  let at = existing ? index : 0;
  if (anchor !== undefined) {
    if (anchor.startsWith('.')) throw new MatrixError(400, 'M_INVALID_PARAM', 'Rules cannot be placed relative to a server-default rule');
    const anchorAt = list.findIndex((r) => r.rule_id === anchor);
    if (anchorAt < 0) throw new MatrixError(400, 'M_UNKNOWN', `before/after rule not found: ${anchor}`);
    at = place.before !== undefined ? anchorAt : anchorAt + 1;
  }
  list.splice(at, 0, next);
  return { ...doc, rules: { ...doc.rules, [kind]: list } };
}

export function deleteRule(userId: string, doc: UserPushRules, kind: RuleKind, ruleId: string): UserPushRules {
  if (isServerDefault(userId, kind, ruleId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Server-default push rules cannot be deleted');
  const list = doc.rules[kind] ?? [];
  if (!list.some((r) => r.rule_id === ruleId)) throw notFound();
  return { ...doc, rules: { ...doc.rules, [kind]: list.filter((r) => r.rule_id !== ruleId) } };
}

/** Changes `enabled` or `actions` of any rule, server-default ones included. */
export function changeRule(
  userId: string,
  doc: UserPushRules,
  kind: RuleKind,
  ruleId: string,
  change: { enabled?: boolean; actions?: PushAction[] },
): UserPushRules {
  const actions = change.actions ? normalizeActions(change.actions) : undefined;
  const patch = { ...(change.enabled !== undefined ? { enabled: change.enabled } : {}), ...(actions ? { actions } : {}) };
  if (isServerDefault(userId, kind, ruleId)) {
    const key = `${kind}/${ruleId}`;
    return { ...doc, defaults: { ...doc.defaults, [key]: { ...doc.defaults[key], ...patch } } };
  }
  const list = doc.rules[kind] ?? [];
  if (!list.some((r) => r.rule_id === ruleId)) throw notFound();
  return { ...doc, rules: { ...doc.rules, [kind]: list.map((r) => (r.rule_id === ruleId ? { ...r, ...patch } : r)) } };
}

const namesRoom = (roomId: string) => (c: PushCondition) => c.kind === 'event_match' && c.key === 'room_id' && c.pattern === roomId;

/**
 * The user's enabled rules about room `from`, repeated for room `to` (its upgrade), as Synapse
 * carries them over: the room rule named after it, and override/underride rules with a room_id
 * condition naming it (room ID swapped in the conditions and, where it appears, the rule ID).
 * A rule `to` already has is left as the user set it. Undefined when there is nothing to copy.
 */
export function copyRoomRules(doc: UserPushRules, from: string, to: string): UserPushRules | undefined {
  let copied = false;
  const rules = { ...doc.rules };
  for (const kind of ['override', 'room', 'underride'] as const) {
    const list = doc.rules[kind] ?? [];
    const next: UserRule[] = [];
    for (const r of list) {
      next.push(r);
      const aboutRoom = kind === 'room' ? r.rule_id === from : (r.conditions ?? []).some(namesRoom(from));
      if (!r.enabled || !aboutRoom) continue;
      const ruleId = kind === 'room' ? to : r.rule_id.includes(from) ? r.rule_id.replaceAll(from, to) : `${r.rule_id}-${to}`;
      if (list.some((other) => other.rule_id === ruleId)) continue;
      const conditions = r.conditions?.map((c) => (namesRoom(from)(c) ? { ...c, pattern: to } : c));
      next.push({ ...r, rule_id: ruleId, ...(conditions ? { conditions } : {}) });
      copied = true;
    }
    if (list.length > 0) rules[kind] = next;
  }
  return copied ? { ...doc, rules } : undefined;
}
