import type { JsonObject } from '../../../federation/events/pdu.ts';
import { roomVersion } from '../../../federation/room-versions.ts';
import type { Config } from '../../config/load.ts';
import type { Sql } from '../../db/database.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { randomId } from '../../accounts/index.ts';
import { getAlias, insertAlias } from '../storage/aliases.ts';
import type { NewEvent, EventWriter } from './persister/index.ts';

export interface CreateRoomRequest {
  preset?: 'private_chat' | 'public_chat' | 'trusted_private_chat' | undefined;
  visibility?: 'public' | 'private' | undefined;
  room_version?: string | undefined;
  creation_content?: JsonObject | undefined;
  initial_state?: Array<{ type: string; state_key?: string | undefined; content: JsonObject }> | undefined;
  name?: string | undefined;
  topic?: string | undefined;
  invite?: string[] | undefined;
  room_alias_name?: string | undefined;
  power_level_content_override?: JsonObject | undefined;
  is_direct?: boolean | undefined;
}

export interface CreateRoomDeps {
  sql: Sql;
  config: Config;
  writer: EventWriter;
  profileOf: (userId: string) => Promise<{ displayname?: string; avatar_url?: string }>;
}

const PRESETS = {
  private_chat: { join_rule: 'invite', history_visibility: 'shared', guest_access: 'can_join' },
  trusted_private_chat: { join_rule: 'invite', history_visibility: 'shared', guest_access: 'can_join' },
  public_chat: { join_rule: 'public', history_visibility: 'shared', guest_access: 'forbidden' },
} as const;

/** createRoom, in the order of events the spec prescribes. */
export function createRoomCreator({ sql, config, writer, profileOf }: CreateRoomDeps) {
  return async function createRoom(creator: string, req: CreateRoomRequest): Promise<string> {
    const versionId = req.room_version ?? config.rooms.default_room_version;
    const version = roomVersion(versionId);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${versionId} is not supported`);
    const preset = PRESETS[req.preset ?? (req.visibility === 'public' ? 'public_chat' : 'private_chat')];
    const trusted = req.preset === 'trusted_private_chat';
    const invites = [...new Set(req.invite ?? [])];
    for (const u of invites) if (!/^@[^:]+:.+$/.test(u)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid user ID to invite: ${u}`);

    let alias: string | undefined;
    if (req.room_alias_name !== undefined) {
      if (!/^[^\s:#]+$/.test(req.room_alias_name)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room_alias_name');
      alias = `#${req.room_alias_name}:${config.server_name}`;
      if (await getAlias(sql, alias)) throw new MatrixError(400, 'M_ROOM_IN_USE', 'Room alias already taken');
    }

    const createContent: JsonObject = { ...(req.creation_content ?? {}), room_version: version.id };
    if (version.implicitRoomCreator) delete createContent.creator;
    else createContent.creator = creator;
    if (version.privilegedCreators && trusted) {
      const extra = Array.isArray(createContent.additional_creators) ? (createContent.additional_creators as string[]) : [];
      createContent.additional_creators = [...new Set([...extra, ...invites])].filter((u) => u !== creator);
    }
    const roomType = typeof createContent.type === 'string' ? createContent.type : null;

    const events: Array<Omit<NewEvent, 'roomId'>> = [];
    const state = (type: string, content: JsonObject, stateKey = '') => events.push({ type, stateKey, content, sender: creator });

    const profile = await profileOf(creator);
    state('m.room.member', { membership: 'join', ...profile }, creator);

    const users: JsonObject = version.privilegedCreators ? {} : { [creator]: 100 };
    if (trusted && !version.privilegedCreators) for (const u of invites) users[u] = 100;
    const powerLevels: JsonObject = {
      users,
      users_default: 0,
      events: {
        'm.room.name': 50,
        'm.room.power_levels': 100,
        'm.room.history_visibility': 100,
        'm.room.canonical_alias': 50,
        'm.room.avatar': 50,
        'm.room.tombstone': version.privilegedCreators ? 150 : 100,
        'm.room.server_acl': 100,
        'm.room.encryption': 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: req.preset === 'public_chat' || (!req.preset && req.visibility === 'public') ? 0 : 50,
      notifications: { room: 50 },
      ...(req.power_level_content_override ?? {}),
    };
    state('m.room.power_levels', powerLevels);
    if (alias) state('m.room.canonical_alias', { alias });
    state('m.room.join_rules', { join_rule: preset.join_rule });
    state('m.room.history_visibility', { history_visibility: preset.history_visibility });
    state('m.room.guest_access', { guest_access: preset.guest_access });
    for (const s of req.initial_state ?? []) state(s.type, s.content, s.state_key ?? '');
    if (req.name !== undefined) state('m.room.name', { name: req.name });
    if (req.topic !== undefined) {
      // m.topic is a TopicContentBlock (spec v1.15): the text blocks sit under m.text.
      state('m.room.topic', { topic: req.topic, 'm.topic': { 'm.text': [{ body: req.topic, mimetype: 'text/plain' }] } });
    }
    for (const u of invites) {
      events.push({
        type: 'm.room.member',
        stateKey: u,
        sender: creator,
        content: { membership: 'invite', ...(req.is_direct ? { is_direct: true } : {}) },
      });
    }

    const roomIdForOld = `!${randomId(18, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')}:${config.server_name}`;
    const { roomId } = await writer
      .createRoom(
        creator,
        version,
        createContent,
        roomIdForOld,
        { isPublic: req.visibility === 'public', roomType },
        events,
        async (tx, id) => {
          if (alias && !(await insertAlias(tx, alias, id, creator)))
            throw new MatrixError(400, 'M_ROOM_IN_USE', 'Room alias already taken');
        },
      )
      .catch((err: unknown) => {
        // Every initial event is the creator's: one the auth rules refuse means the request asked for invalid state.
        if (err instanceof MatrixError && err.errcode === 'M_FORBIDDEN') throw new MatrixError(400, 'M_INVALID_ROOM_STATE', err.message);
        throw err;
      });
    return roomId;
  };
}
