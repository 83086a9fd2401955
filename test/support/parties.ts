/**
 * Real parties on loopback: one runtime, identity and gRPC server per
 * principal, sharing one key resolver and address book.
 */
import * as grpc from "@grpc/grpc-js";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type Identity, type SessionRuntime, type SessionRuntimeOptions } from "../../interceptors/index.js";

export interface Peer {
  readonly id: string;
  readonly identity: Identity;
  readonly runtime: SessionRuntime;
  readonly server: grpc.Server;
}

export interface Cluster {
  readonly peers: Record<string, Peer>;
  /** Principal -> `host:port`, filled by `listen`. */
  readonly addresses: Record<string, string>;
  /** Binds every server on 127.0.0.1 (call after `serve`). */
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** One peer per id; `options(id)` adds runtime options per peer. */
export function cluster(ids: readonly string[], options: (id: string) => Partial<SessionRuntimeOptions> = () => ({})): Cluster {
  const identities = ids.map((id) => generateIdentity(id));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const addresses: Record<string, string> = {};
  const peers: Record<string, Peer> = {};
  for (const identity of identities) {
    const extra = options(identity.id);
    // Each peer keeps its own subchannels: grpc-js shares them process-wide by default, so a test could inherit a
    // connection state left by an earlier test's server on the same loopback port.
    const channelOptions = { "grpc.use_local_subchannel_pool": 1, ...extra.channelOptions };
    const runtime = createSessionRuntime({ identity, resolver, peers: addresses, ...extra, channelOptions });
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    peers[identity.id] = { id: identity.id, identity, runtime, server };
  }
  return {
    peers,
    addresses,
    async listen() {
      for (const p of Object.values(peers)) {
        const port = await new Promise<number>((resolve, reject) =>
          p.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
        );
        addresses[p.id] = `127.0.0.1:${port}`;
      }
    },
    async close() {
      for (const p of Object.values(peers)) {
        p.runtime.close();
        p.server.forceShutdown();
      }
    },
  };
}
