/**
 * The spec's list of types safe to serve `inline` ("Serving inline content"): a
 * client renders them only as what they claim to be. Everything else is served as
 * an attachment, so an uploaded HTML page or SVG never runs as the media origin.
 */
const INLINE_TYPES = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

/** `Text/Plain; charset=utf-8` -> `text/plain`. */
export function baseType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/**
 * `inline` or `attachment` by the type, with the upload's filename when there is one: a
 * quoted `filename` when it is plain printable ASCII, else RFC 6266's `filename*` in
 * UTF-8 (what browsers and Synapse use for any other name).
 */
export function contentDisposition(contentType: string, filename: string | null): string {
  const kind = INLINE_TYPES.has(baseType(contentType)) ? 'inline' : 'attachment';
  if (!filename) return kind;
  if (/^[\x20-\x7e]*$/.test(filename) && !/["\\]/.test(filename)) return `${kind}; filename="${filename}"`;
  return `${kind}; filename*=utf-8''${encodeRfc5987(filename)}`;
}

/** RFC 5987 attr-chars stay; encodeURIComponent leaves `'()*` bare, which attr-char does not allow. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A filename or content type with control characters would be unsafe to echo in a header. */
export const HEADER_SAFE = /^[^\u0000-\u001f\u007f]*$/;

/**
 * Sent with every piece of media: the spec's recommended sandbox policy (a document
 * opened from the media origin can run nothing), CORP so web clients with cross-origin
 * isolation can load it, and no type sniffing past the declared type.
 */
export const MEDIA_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';",
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'X-Content-Type-Options': 'nosniff',
};
