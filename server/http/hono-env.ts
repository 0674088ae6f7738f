/** Who made an authenticated request. */
export interface Requester {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
  accessTokenId: number;
}

/** Per-request values every route can read from the Hono context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    requester: Requester;
  };
}
