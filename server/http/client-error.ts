import type { Duplex } from 'node:stream';

/**
 * Answers requests that Node's HTTP parser refuses before any handler sees them
 * (a request line or headers over maxHeaderSize, a malformed request), with a
 * Matrix error and a status.
 *
 * Node's default answer destroys the socket straight after writing, while the
 * client may still be sending the rest of an oversized URL: the unread bytes make
 * the kernel reset the connection, and the client often sees ECONNRESET instead
 * of the status. Here the socket is closed gracefully and drained for a while.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // The parser reports again for each later chunk of a request it already refused.
  if (answered.has(socket)) return;
  answered.add(socket);
  if (!socket.writable || (socket as Duplex & { bytesWritten?: number }).bytesWritten) {
    socket.destroy();
    return;
  }
  const [status, reason, errcode, message] = describe(err.code);
  const body = JSON.stringify({ errcode, error: message });
  socket.on('error', () => socket.destroy());
  socket.removeAllListeners('data'); // the parser's: it has nothing more to say about this request
  socket.on('data', () => {}); // drain what is left of the request, so closing does not reset
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Content-Type: application/json\r\n' +
      'Access-Control-Allow-Origin: *\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  // A client that keeps sending forever is not drained forever.
  setTimeout(() => socket.destroy(), DRAIN_MS).unref();
}

const DRAIN_MS = 5_000;
const answered = new WeakSet<Duplex>();

function describe(code: string | undefined): [number, string, string, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      // Node counts the request line with the headers, so a long URL lands here too.
      return [431, 'Request Header Fields Too Large', 'M_TOO_LARGE', 'The URL or the request headers are too large'];
    case 'HPE_HEADERS_TIMEOUT':
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout', 'M_UNKNOWN', 'The request took too long to arrive'];
    default:
      return [400, 'Bad Request', 'M_UNKNOWN', 'The request is not valid HTTP'];
  }
}
