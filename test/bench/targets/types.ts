import type { Server } from '../matrix.ts';

export type TargetName = 'commcomms-pglite' | 'commcomms-postgres' | 'synapse' | 'dendrite';

/** The servers CommComms is compared with; each figure's factor is against the best of them. */
export const PEERS: readonly TargetName[] = ['synapse', 'dendrite'];
export const isPeer = (name: TargetName): boolean => PEERS.includes(name);

export const TARGET_LABELS: Record<TargetName, string> = {
  'commcomms-pglite': 'CommComms/PGlite',
  'commcomms-postgres': 'CommComms/PG',
  synapse: 'Synapse/PG',
  dendrite: 'Dendrite/PG',
};

/** A homeserver process started for the bench, with what the scenarios need to measure it. */
export interface RunningTarget extends Server {
  name: TargetName;
  /** The homeserver process itself (for /proc/<pid>/status). */
  pid: number;
  /** e.g. "PGlite (in-process)" or "PostgreSQL 15.x on 127.0.0.1:5432". */
  database: string;
  /** The PostgreSQL database it uses (for its backends' CPU time); undefined when embedded. */
  dbName?: string | undefined;
  version: string;
  startupMs: number;
  /** Bytes the database takes on disk now (pg_database_size, or PGlite's base/ directory). */
  dbSize(): Promise<number>;
  /** The last lines the server printed, for failure reports. */
  output(): string;
  /** Stops the server (SIGTERM, so a --cpu-prof profile gets written) and removes its data. */
  stop(): Promise<void>;
}
