import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { MatrixError } from '../../http/matrix-error.ts';
import { isBlockedAddress } from './blocked-addresses.ts';

export interface FetchedPage {
  url: string;
  contentType: string;
  body: Buffer;
}

const MAX_REDIRECTS = 5;

const blockedUrl = () => new MatrixError(403, 'M_FORBIDDEN', 'URL blocked: it points at a private or reserved address');

/**
 * Resolves a host and keeps only the addresses a preview may reach; the connection is
 * made to one of them, so a name that resolves differently a moment later (DNS
 * rebinding) cannot slip a private address past the check.
 */
const safeLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const allowed = addresses.filter((a) => !isBlockedAddress(a.address));
    if (allowed.length === 0) return callback(Object.assign(new Error('blocked address'), { code: 'EBLOCKED' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
    callback(null, allowed[0]!.address, allowed[0]!.family);
  });
};

/**
 * GET a public http(s) URL for a preview: private and reserved addresses refused (at
 * every redirect), at most `maxBytes` read, the whole exchange within `timeoutMs`.
 */
export async function fetchPublic(url: string, limits: { maxBytes: number; timeoutMs: number }): Promise<FetchedPage> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let target = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:')
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Only http and https URLs can be previewed');
    // A literal IP is connected to without a lookup: checked here instead.
    if (/^[\d.]+$|^\[.*\]$/.test(target.hostname) && isBlockedAddress(target.hostname)) throw blockedUrl();
    const res = await get(target, signal);
    const location = res.headers.location;
    if (res.statusCode !== undefined && res.statusCode >= 300 && res.statusCode < 400 && location) {
      res.resume();
      target = new URL(location, target);
      continue;
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new MatrixError(502, 'M_UNKNOWN', `The URL answered ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (declared > limits.maxBytes) {
      res.destroy();
      throw new MatrixError(502, 'M_TOO_LARGE', 'The page is too large to preview');
    }
    return { url: target.toString(), contentType: res.headers['content-type'] ?? '', body: await readLimited(res, limits.maxBytes) };
  }
  throw new MatrixError(502, 'M_UNKNOWN', 'Too many redirects');
}

function get(target: URL, signal: AbortSignal): Promise<IncomingMessage> {
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'GET', lookup: safeLookup, signal, headers: { 'user-agent': 'CommComms URL preview', accept: 'text/html,*/*;q=0.5' } },
      resolve,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EBLOCKED') reject(blockedUrl());
      else if (signal.aborted) reject(new MatrixError(504, 'M_UNKNOWN', 'The URL took too long to answer'));
      else reject(new MatrixError(502, 'M_UNKNOWN', `Could not fetch the URL: ${err.code ?? err.message}`));
    });
    req.end();
  });
}

function readLimited(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(new MatrixError(502, 'M_TOO_LARGE', 'The page is too large to preview'));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', () => reject(new MatrixError(504, 'M_UNKNOWN', 'The URL took too long to answer')));
  });
}
