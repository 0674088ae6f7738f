import type { JsonObject } from '../../../federation/events/pdu.ts';
import type { Sql, Tx } from '../../db/database.ts';
import type { EphemeralDeps } from './ephemeral.ts';

export interface TagsDeps {
  sql: Sql;
  findAccountData: (tx: Tx, userId: string, roomId: string, type: string) => Promise<JsonObject | undefined>;
  updateAccountData: EphemeralDeps['updateAccountData'];
}

function tagsOf(content: JsonObject | undefined): Record<string, JsonObject> {
  const tags = content?.tags;
  return tags && typeof tags === 'object' && !Array.isArray(tags) ? ({ ...tags } as Record<string, JsonObject>) : {};
}

/** Room tags: the `tags` map of the room's m.tag account data, which /sync delivers. */
export function createTags({ sql, findAccountData, updateAccountData }: TagsDeps) {
  return {
    async get(userId: string, roomId: string): Promise<Record<string, JsonObject>> {
      return tagsOf(await findAccountData(sql, userId, roomId, 'm.tag'));
    },

    async put(userId: string, roomId: string, tag: string, content: JsonObject): Promise<void> {
      await updateAccountData(userId, roomId, 'm.tag', async (current) => ({ tags: { ...tagsOf(current), [tag]: content } }));
    },

    async remove(userId: string, roomId: string, tag: string): Promise<void> {
      await updateAccountData(userId, roomId, 'm.tag', async (current) => {
        const tags = tagsOf(current);
        if (!(tag in tags)) return undefined;
        delete tags[tag];
        return { tags };
      });
    },
  };
}

export type Tags = ReturnType<typeof createTags>;
