/**
 * Push rule evaluation (client-server API, "Push Notifications": "Push Rules",
 * "Conditions", "Actions"): which rule of a user's ruleset an event matches, and
 * whether that means a notification and a highlight. Pure over plain data: the
 * caller supplies the event and the room facts the conditions need (display
 * name, member count, power levels), so the same code serves the notification
 * counts in /sync, the pushers and tests.
 *
 * Why a factory rather than a plain `evaluatePushRules` export: rules are
 * evaluated for every event and every member of the room, so each glob pattern
 * and key path is compiled once and kept in a bounded cache. That cache is
 * mutable state; owned by the evaluator made in the composition root, it stays
 * out of module scope (CONVENTIONS.md) and each test or embedded server gets its
 * own. It is memoisation only: results never depend on what it holds.
 */
import { RULE_KINDS, type PushAction, type PushCondition, type PushRule, type RuleKind, type Ruleset } from '../default-rules.ts';

export interface PushEvaluationInput {
  /** The event as clients see it (type, content, sender, state_key when state, room_id, event_id). */
  event: Record<string, unknown>;
  /** The user whose rules these are. */
  userId: string;
  /** Their display name in the room (m.room.member displayname), if any. */
  displayName?: string | undefined;
  /** Joined members of the room. */
  memberCount: number;
  /** The sender's power level in the room. */
  senderPowerLevel: number;
  /** The room's power_levels `notifications` map (e.g. `{ room: 50 }`). */
  notificationPowerLevels: Record<string, number>;
}

export interface PushEvaluation {
  ruleId: string;
  kind: RuleKind;
  /** The rule's actions without the historical `dont_notify` and `coalesce`, which the spec says to strip. */
  actions: PushAction[];
  notify: boolean;
  highlight: boolean;
}

/**
 * The first enabled rule (in the ruleset's order) whose conditions all hold; undefined when none does.
 * It does not know who sent the event: the caller skips the user's own events, as the spec requires.
 */
export type PushEvaluator = (ruleset: Ruleset, input: PushEvaluationInput) => PushEvaluation | undefined;

/** How much of `content.body` is searched (UTF-16 code units). Events are at most 64 KiB anyway. */
export const MAX_BODY_LENGTH = 65_536;
const DEFAULT_CACHE_SIZE = 5_000;
/** `notifications.room` defaults to 50 (m.room.power_levels); other keys are given the same default. */
const DEFAULT_NOTIFICATION_LEVEL = 50;
const HISTORICAL_ACTIONS = new Set<PushAction>(['dont_notify', 'coalesce']);

export function createPushEvaluator(options: { maxCachedPatterns?: number } = {}): PushEvaluator {
  const max = Math.max(1, options.maxCachedPatterns ?? DEFAULT_CACHE_SIZE);
  // Keyed by mode ('g' whole-value glob, 'w' word glob, 'l' word literal) + pattern.
  const matcher = bounded(max, (key) => compileMatcher(key.slice(1), key[0] === 'g' ? 'whole' : 'word', key[0] !== 'l'));
  const keyPath = bounded(max, parseKeyPath);

  return (ruleset, input) => {
    let body: string | null | undefined;
    const bodyOf = (): string | null => {
      if (body === undefined) {
        const value = valueAtPath(input.event, BODY_PATH);
        body = typeof value === 'string' ? truncateBody(value) : null;
      }
      return body;
    };
    const bodyMatches = (mode: 'w' | 'l', pattern: string) => {
      const text = bodyOf();
      return text !== null && matcher(mode + pattern)(text);
    };

    const holds = (c: PushCondition): boolean => {
      switch (c.kind) {
        case 'event_match': {
          if (typeof c.key !== 'string' || typeof c.pattern !== 'string') return false;
          const path = keyPath(c.key);
          if (isBodyPath(path)) return bodyMatches('w', c.pattern);
          const value = valueAtPath(input.event, path);
          return typeof value === 'string' && matcher('g' + c.pattern)(value);
        }
        case 'event_property_is':
          return typeof c.key === 'string' && isCanonicalScalar(c.value) && valueAtPath(input.event, keyPath(c.key)) === c.value;
        case 'event_property_contains': {
          if (typeof c.key !== 'string' || !isCanonicalScalar(c.value)) return false;
          const value = valueAtPath(input.event, keyPath(c.key));
          return Array.isArray(value) && value.includes(c.value);
        }
        case 'contains_display_name':
          return typeof input.displayName === 'string' && input.displayName !== '' && bodyMatches('l', input.displayName);
        case 'room_member_count':
          return memberCountMatches(c.is, input.memberCount);
        case 'sender_notification_permission': {
          if (typeof c.key !== 'string') return false;
          const levels = input.notificationPowerLevels;
          const required = Object.hasOwn(levels, c.key) && typeof levels[c.key] === 'number' ? levels[c.key]! : DEFAULT_NOTIFICATION_LEVEL;
          return input.senderPowerLevel >= required;
        }
        default:
          // Unrecognised conditions never match, which disables the rule.
          return false;
      }
    };
    const all = (conditions: PushCondition[] | undefined) => (conditions ?? []).every(holds);

    const ruleHolds = (kind: RuleKind, rule: PushRule): boolean => {
      switch (kind) {
        case 'override':
        case 'underride':
          return all(rule.conditions);
        case 'content':
          // Content rules are their pattern; a rule stored as conditions (Synapse's form) is read as such.
          if (typeof rule.pattern === 'string') return bodyMatches('w', rule.pattern) && all(rule.conditions);
          return (rule.conditions?.length ?? 0) > 0 && all(rule.conditions);
        case 'room':
          return input.event.room_id === rule.rule_id && all(rule.conditions);
        case 'sender':
          return input.event.sender === rule.rule_id && all(rule.conditions);
      }
    };

    for (const kind of RULE_KINDS) {
      for (const rule of ruleset[kind]) {
        if (rule.enabled && ruleHolds(kind, rule)) return evaluation(kind, rule);
      }
    }
    return undefined;
  };
}

function evaluation(kind: RuleKind, rule: PushRule): PushEvaluation {
  const actions = rule.actions.filter((a) => !HISTORICAL_ACTIONS.has(a));
  return { ruleId: rule.rule_id, kind, actions, notify: notifies(actions), highlight: highlights(actions) };
}

/** Whether actions ask for a notification: `notify` present. The historical `dont_notify` and `coalesce` mean nothing. */
export function notifies(actions: readonly PushAction[]): boolean {
  return actions.includes('notify');
}

/** The `highlight` tweak: true when set with no value or `true`; the last one given wins; false when absent. */
export function highlights(actions: readonly PushAction[]): boolean {
  let highlight = false;
  for (const a of actions) {
    if (typeof a === 'object' && a.set_tweak === 'highlight') highlight = a.value === undefined || a.value === true;
  }
  return highlight;
}

/** `room_member_count`'s `is`: a decimal integer, optionally after `==`, `<`, `>`, `<=` or `>=`. Anything else never matches. */
export function memberCountMatches(is: unknown, count: number): boolean {
  const m = typeof is === 'string' ? /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is) : null;
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1]) {
    case '<':
      return count < n;
    case '>':
      return count > n;
    case '<=':
      return count <= n;
    case '>=':
      return count >= n;
    default:
      return count === n;
  }
}

/**
 * A dot-separated property path (appendices): `\.` is a literal dot, `\\` a backslash,
 * any other backslash stays as it is.
 */
export function parseKeyPath(key: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charAt(i);
    const next = key.charAt(i + 1);
    if (c === '\\' && (next === '.' || next === '\\')) {
      current += next;
      i++;
    } else if (c === '.') {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** The value at `path`, through objects only (not arrays) and own properties only; undefined when absent. */
export function valueAtPath(event: Record<string, unknown>, path: readonly string[]): unknown {
  let node: unknown = event;
  for (const name of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, name)) return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

/**
 * Glob matching (appendices: `*` any sequence, `?` exactly one character), case-insensitive.
 * `whole`: the entire value must match. `word`: some substring starting and ending at a word
 * boundary must match (event_match on `content.body`, content rules). Compiles every call;
 * the evaluator caches compiled patterns.
 */
export function globMatches(pattern: string, value: string, mode: 'whole' | 'word'): boolean {
  return compileMatcher(pattern, mode, true)(value);
}

const BODY_PATH = ['content', 'body'] as const;
const isBodyPath = (path: readonly string[]) => path.length === 2 && path[0] === 'content' && path[1] === 'body';

/** The first MAX_BODY_LENGTH code units, never ending in half a surrogate pair. */
function truncateBody(body: string): string {
  if (body.length <= MAX_BODY_LENGTH) return body;
  const cut = body.slice(0, MAX_BODY_LENGTH);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Strings, booleans, null and integers in [-(2**53)+1, (2**53)-1]: what event_property_is/contains compare. */
function isCanonicalScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || Number.isSafeInteger(value);
}

/**
 * A word boundary (spec: the start or end of the value, or any character not in
 * [A-Za-z0-9_]): a position at either end, or next to such a character. The class is
 * exact because the regexes carry no `i` flag (case-insensitivity is spelt out per
 * character instead, which under `u` would otherwise fold ſ and K into [A-Za-z]).
 */
const BOUNDARY = '(?:^|$|(?<=[^A-Za-z0-9_])|(?=[^A-Za-z0-9_]))';

/**
 * Compiles a pattern into a test. Every literal character becomes a `\u{…}` escape or a
 * class of its case variants, so no input reaches RegExp unescaped. The pattern is split
 * at its `*`s and matched segment by segment, each segment at its leftmost position: with
 * globs that is exact (an earlier match never leaves less room for what follows) and it
 * keeps the cost near (value length × pattern length), where one regex with a lazy `.*?`
 * per star could backtrack exponentially in the number of stars.
 */
function compileMatcher(pattern: string, mode: 'whole' | 'word', wildcards: boolean): (value: string) => boolean {
  const segments = [''];
  for (const ch of pattern) {
    if (wildcards && ch === '*') segments.push('');
    else segments[segments.length - 1] += wildcards && ch === '?' ? '.' : caseClass(ch);
  }
  const [start, end] = mode === 'word' ? [BOUNDARY, BOUNDARY] : ['^', '$'];
  if (segments.length === 1) {
    const re = new RegExp(start + segments[0] + end, 'su');
    return (value) => re.test(value);
  }
  const first = new RegExp(start + segments[0], 'su');
  const middle = segments.slice(1, -1).flatMap((s) => (s === '' ? [] : [new RegExp(s, 'gsu')]));
  const last = new RegExp(segments[segments.length - 1] + end, 'gsu');
  return (value) => {
    const head = first.exec(value);
    if (!head) return false;
    let at = head.index + head[0].length;
    for (const re of middle) {
      re.lastIndex = at;
      const m = re.exec(value);
      if (!m) return false;
      at = m.index + m[0].length;
    }
    last.lastIndex = at;
    return last.test(value);
  };
}

/** A character and its single-character upper- and lower-case forms, as regex source. */
function caseClass(ch: string): string {
  const variants = new Set([ch, ch.toLowerCase(), ch.toUpperCase(), ch.toLowerCase().toUpperCase(), ch.toUpperCase().toLowerCase()]);
  const escaped = [...variants].flatMap((v) => {
    const cps = [...v];
    return cps.length === 1 ? [`\\u{${cps[0]!.codePointAt(0)!.toString(16)}}`] : [];
  });
  return escaped.length === 1 ? escaped[0]! : `[${escaped.join('')}]`;
}

/** Memoises `make` in a Map of at most `max` entries, emptied when full. */
function bounded<V>(max: number, make: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      if (cache.size >= max) cache.clear();
      value = make(key);
      cache.set(key, value);
    }
    return value;
  };
}
