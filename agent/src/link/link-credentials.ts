/** gRPC channel credentials and options from the `collector` config section. */
import { credentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { Fs } from '../../../shared/src/fs.ts';
import type { LinkConfig } from './link-config.ts';

/**
 * TLS (optionally mutual) or, where the config allows it, plaintext; with
 * `tls.serverName`, the certificate is checked against that name instead
 * of the address's host.
 */
export async function linkChannel(
  config: LinkConfig,
  fs: Fs,
): Promise<{ credentials: ChannelCredentials; options: ChannelOptions }> {
  const options: ChannelOptions = {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
  };
  const tls = config.tls;
  if (tls === null)
    return { credentials: credentials.createInsecure(), options };
  const read = (file: string | null) =>
    file === null ? Promise.resolve(null) : fs.readFile(file);
  if (tls.serverName !== null) {
    options['grpc.ssl_target_name_override'] = tls.serverName;
    options['grpc.default_authority'] = tls.serverName;
  }
  return {
    credentials: credentials.createSsl(
      await read(tls.caFile),
      await read(tls.keyFile),
      await read(tls.certFile),
    ),
    options,
  };
}
