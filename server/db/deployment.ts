import type { Sql } from './database.ts';

/** This database's deployment id: what the processes sharing it have in common. */
export async function deploymentId(sql: Sql): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select id from deployment`;
  return row!.id;
}
