/**
 * Loads the wire contract `proto/gpuwarden/v1/link.proto`.
 *
 * The gRPC service definition comes from @grpc/proto-loader (longs as
 * strings, enums as strings, no defaults, oneof names) and is used as is
 * for the collector's answers, which are small. The agent's frames take a
 * faster path: the client writes frames it built itself from per-message
 * bytes it keeps in its outbox, and the server receives the raw frame and
 * decodes each message straight into gpuwarden's types: snapshots in one
 * pass over the bytes (`snapshot-reader.ts`), everything else with
 * protobufjs, the library proto-loader is built on (`message-codec.ts`).
 * That skips proto-loader's generic object conversion, which costs about
 * three times the decoding itself for a snapshot.
 */
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { StringTable } from './string-table.ts';

/** The loaded contract: the gRPC service and the message types. */
export interface LinkProto {
  /**
   * `gpuwarden.v1.Link` with pass-through request (de)serializers: the
   * client writes frame `Buffer`s, the server receives them raw.
   */
  service: ServiceDefinition;
  /**
   * Decoding memo: epoch ms → ISO text. Process start times repeat in
   * every snapshot of an agent, and rendering them was a tenth of the
   * collector's decode time. Cleared when it reaches 65,536 entries.
   */
  isoByMs: Map<number, string>;
  /** Decoding memo of short strings (`string-table.ts`); bounded. */
  strings: StringTable;
  /** protobufjs types of the agent's side. */
  types: {
    agentMessage: protobuf.Type;
    streamOpen: protobuf.Type;
    collectorMessage: protobuf.Type;
  };
}

/** Path of the `.proto` file, for tools and docs. */
export const LINK_PROTO_FILE = fileURLToPath(
  new URL('../../../proto/gpuwarden/v1/link.proto', import.meta.url),
);

/** Full gRPC method path of the agent stream. */
export const LINK_STREAM_PATH = '/gpuwarden.v1.Link/Stream';

/** Options proto-loader loads the contract with (see the module doc). */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
} as const;

/** Reads and compiles the contract; throws if the file is missing. */
export function loadLinkProto(): LinkProto {
  const definition = loadSync(LINK_PROTO_FILE, PROTO_LOADER_OPTIONS);
  const link = definition['gpuwarden.v1.Link'] as ServiceDefinition;
  const stream = link.Stream as MethodDefinition<unknown, unknown>;
  const passThrough = (value: Buffer): Buffer => value;
  const service: ServiceDefinition = {
    Stream: {
      path: stream.path,
      requestStream: true,
      responseStream: true,
      requestSerialize: passThrough,
      requestDeserialize: passThrough,
      responseSerialize: stream.responseSerialize,
      responseDeserialize: stream.responseDeserialize,
    },
  };
  const root = protobuf.loadSync(LINK_PROTO_FILE);
  return {
    service,
    isoByMs: new Map(),
    strings: new StringTable(),
    types: {
      agentMessage: root.lookupType('gpuwarden.v1.AgentMessage'),
      streamOpen: root.lookupType('gpuwarden.v1.StreamOpen'),
      collectorMessage: root.lookupType('gpuwarden.v1.CollectorMessage'),
    },
  };
}
