/** gRPC channel credentials and options from the `collector` config section. */
import { credentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { ConfigError } from '../../../shared/src/errors.ts';
import type { Fs } from '../../../shared/src/fs.ts';
import type { LinkConfig } from './link-config.ts';

/**
 * TLS (optionally mutual) or, where the config allows it, plaintext; with
 * `tls.serverName`, the certificate is checked against that name instead
 * of the address's host.
 *
 * @throws ConfigError naming the `collector.tls` key of a file that cannot
 *   be read.
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
  const read = (file: string | null, key: string) =>
    file === null ? Promise.resolve(null) : readPem(fs, file, key);
  if (tls.serverName !== null) {
    options['grpc.ssl_target_name_override'] = tls.serverName;
    options['grpc.default_authority'] = tls.serverName;
  }
  return {
    credentials: credentials.createSsl(
      await read(tls.caFile, 'caFile'),
      await read(tls.keyFile, 'keyFile'),
      await read(tls.certFile, 'certFile'),
    ),
    options,
  };
}

/** Reads a PEM file named by `collector.tls.<key>`; a config error if not. */
async function readPem(fs: Fs, file: string, key: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(
      `collector.tls.${key}`,
      'must name a readable PEM file',
      `${file} (${code})`,
    );
  }
}
