/**
 * How much an agent can send the collector before it reads: the HTTP/2
 * flow-control window of the ingest's connections, and the frames a
 * stream reads ahead.
 *
 * Node's HTTP/2 gives every connection and stream a 64 KiB receive window;
 * an agent sending its backlog must then wait a round trip for a
 * WINDOW_UPDATE after every 64 KiB, and the collector idles in between.
 * grpc-js reads `grpc-node.flow_control_window` only on the client side,
 * and its `Server` has no way to pass HTTP/2 settings, so this takes the
 * HTTP/2 servers grpc-js created while binding (its `http2Servers` field,
 * which it does not document) and uses Node's public API on them:
 * `updateSettings({ initialWindowSize })` for the streams of new
 * connections and `setLocalWindowSize()` for each new connection. When a
 * grpc-js version has no such field, nothing changes and the caller says
 * so in its log; the link still works, only slower.
 *
 * A paused stream can hold up to one window of bytes nobody has read, and
 * (`limitReadAhead`) one frame already read, so the window plus one frame
 * times the number of connected agents bounds that memory.
 */
import type { ServerHttp2Session } from 'node:http2';
import type { Readable } from 'node:stream';

/** Default window: 1 MiB per connection and per stream. */
export const DEFAULT_FLOW_CONTROL_WINDOW_BYTES = 1024 * 1024;

/** What this needs of an HTTP/2 server. */
interface Http2ServerLike {
  updateSettings(settings: { initialWindowSize: number }): void;
  on(event: 'session', listener: (session: ServerHttp2Session) => void): void;
}

function isHttp2Server(value: unknown): value is Http2ServerLike {
  const candidate = value as Partial<Http2ServerLike> | null;
  return (
    typeof candidate?.updateSettings === 'function' &&
    typeof candidate.on === 'function'
  );
}

/**
 * Sets the receive window of every connection the gRPC `server` accepts
 * from now on; call it after binding. False when the server's HTTP/2
 * servers could not be found (the defaults then stay).
 */
export function setFlowControlWindow(
  server: object,
  windowBytes: number,
): boolean {
  const servers = (server as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return false;
  const http2Servers = [...servers.keys()].filter(isHttp2Server);
  for (const http2Server of http2Servers) {
    http2Server.updateSettings({ initialWindowSize: windowBytes });
    http2Server.on('session', (session) => {
      // A session that is already closing cannot take it; nothing to do.
      if (!session.destroyed) session.setLocalWindowSize(windowBytes);
    });
  }
  return http2Servers.length > 0;
}

/**
 * Lets a gRPC server stream read at most one frame ahead of its consumer.
 * grpc-js streams are object-mode Readables with Node's default high-water
 * mark of 16, which they fill even while paused: 16 frames of up to
 * `maxMessageBytes` each, per agent, on top of the HTTP/2 window. Node has
 * no public setter for the mark of an existing stream, so this sets the
 * one in its `_readableState`; false when that is not there (the default
 * then stays).
 */
export function limitReadAhead(stream: Readable): boolean {
  const state = (stream as { _readableState?: { highWaterMark?: unknown } })
    ._readableState;
  if (typeof state?.highWaterMark !== 'number') return false;
  state.highWaterMark = 1;
  return true;
}
