import type { Context, Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { RULE_KINDS, type PushAction, type PushCondition, type RuleKind } from '../default-rules.ts';
import type { PushRules } from '../service/push-rules.ts';

export interface PushRuleRouteDeps {
  auth: MiddlewareHandler<AppEnv>;
  pushRules: PushRules;
}

const action = z.union([z.string(), z.object({ set_tweak: z.string() }).loose()]);
const condition = z.object({ kind: z.string() }).loose();
const putRuleBody = z
  .object({
    actions: z.array(action),
    conditions: z.array(condition).optional(),
    pattern: z.string().optional(),
  })
  .loose();
const enabledBody = z.object({ enabled: z.boolean() });
const actionsBody = z.object({ actions: z.array(action) });

const BASE = '/_matrix/client/v3/pushrules';

/** Only the `global` scope exists (device scopes were removed from the spec). */
function checkScope(c: Context<AppEnv>): void {
  if (c.req.param('scope') !== 'global') throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown push rule scope: only "global" exists');
}

function ruleParams(c: Context<AppEnv>): { kind: RuleKind; ruleId: string } {
  checkScope(c);
  const kind = c.req.param('kind') ?? '';
  // The five kinds are the only endpoints there are: another kind is an unknown endpoint.
  if (!(RULE_KINDS as readonly string[]).includes(kind)) throw new MatrixError(404, 'M_UNRECOGNIZED', `Unknown push rule kind: ${kind}`);
  const ruleId = c.req.param('ruleId') ?? '';
  if (ruleId === '') throw new MatrixError(400, 'M_INVALID_PARAM', 'Missing rule ID');
  return { kind: kind as RuleKind, ruleId };
}

export function pushRuleRoutes(app: Hono<AppEnv>, { auth, pushRules }: PushRuleRouteDeps): void {
  // matrix-js-sdk asks for `/pushrules/` with the slash, and retries until it answers.
  const all = async (c: Context<AppEnv>) => c.json({ global: await pushRules.ruleset(c.get('requester').userId) });
  app.get(`${BASE}/`, auth, all);
  app.get(BASE, auth, all);

  const scope = async (c: Context<AppEnv>) => {
    checkScope(c);
    return c.json(await pushRules.ruleset(c.get('requester').userId));
  };
  app.get(`${BASE}/:scope/`, auth, scope);
  app.get(`${BASE}/:scope`, auth, scope);

  const rulePath = `${BASE}/:scope/:kind/:ruleId`;
  app.get(rulePath, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    return c.json(await pushRules.rule(c.get('requester').userId, kind, ruleId));
  });

  app.put(rulePath, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    const body = await readBody(c, putRuleBody);
    await pushRules.putRule(
      c.get('requester').userId,
      kind,
      ruleId,
      { actions: body.actions as PushAction[], conditions: body.conditions as PushCondition[] | undefined, pattern: body.pattern },
      { before: c.req.query('before'), after: c.req.query('after') },
    );
    return c.json({});
  });

  app.delete(rulePath, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    await pushRules.deleteRule(c.get('requester').userId, kind, ruleId);
    return c.json({});
  });

  app.get(`${rulePath}/enabled`, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    return c.json({ enabled: (await pushRules.rule(c.get('requester').userId, kind, ruleId)).enabled });
  });

  app.put(`${rulePath}/enabled`, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    const body = await readBody(c, enabledBody);
    await pushRules.setEnabled(c.get('requester').userId, kind, ruleId, body.enabled);
    return c.json({});
  });

  app.get(`${rulePath}/actions`, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    return c.json({ actions: (await pushRules.rule(c.get('requester').userId, kind, ruleId)).actions });
  });

  app.put(`${rulePath}/actions`, auth, async (c) => {
    const { kind, ruleId } = ruleParams(c);
    const body = await readBody(c, actionsBody);
    await pushRules.setActions(c.get('requester').userId, kind, ruleId, body.actions as PushAction[]);
    return c.json({});
  });
}
