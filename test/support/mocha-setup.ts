/**
 * Loaded before every test file: the programs silence gRPC's own stderr
 * diagnostics in their entry points, and the in-process tests do the same
 * so that a port-in-use test prints no stray line.
 */
import { logVerbosity, setLogVerbosity } from '@grpc/grpc-js';

setLogVerbosity(logVerbosity.NONE);
