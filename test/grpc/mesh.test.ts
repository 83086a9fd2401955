/**
 * Mesh plumbing on a server that runs the runtime's interceptor: the gRPC
 * health-checking protocol (grpc.health.v1, unary Check and server-streaming
 * Watch) and server reflection (grpc.reflection.v1 and v1alpha) pass through
 * untouched beside a session role, and a session runs over grpc-js TLS
 * (mutual, with a test-only CA in test/fixtures/tls) with the envelope
 * protection on top. Real gRPC on loopback.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { HealthImplementation, protoPath as healthProto } from "grpc-health-check";
import { ReflectionService } from "@grpc/reflection";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type SessionRuntime } from "../../interceptors/index.js";
import { runC, serveW } from "../../examples/wsne/parties.js";
import { file_wsne_wsne } from "../../gen/wsne/wsne_pb.js";
import { toBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";

const fares = { "CDG-JFK": [420n, 455n, 510n] };
const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url)));

interface Credentials {
  readonly server: grpc.ServerCredentials;
  readonly client: grpc.ChannelCredentials;
  readonly host: string;
}
const insecure = (): Credentials => ({ server: grpc.ServerCredentials.createInsecure(), client: grpc.credentials.createInsecure(), host: "127.0.0.1" });
const mutualTls = (): Credentials => {
  const [ca, key, cert] = [fixture("ca.crt"), fixture("peer.key"), fixture("peer.crt")];
  return {
    server: grpc.ServerCredentials.createSsl(ca, [{ cert_chain: cert, private_key: key }], true),
    client: grpc.credentials.createSsl(ca, key, cert),
    host: "localhost", // the certificate's name
  };
};

interface Mesh {
  readonly client: SessionRuntime;
  /** A client runtime like `client` (same identity, resolver and peers) but with other channel credentials. */
  clientWith(credentials: grpc.ChannelCredentials): SessionRuntime;
  readonly fares: SessionRuntime;
  readonly server: grpc.Server;
  readonly address: string;
  close(): void;
}

/** A client runtime and a fares runtime whose server also serves `extra` services, over `creds`. */
async function mesh(creds: Credentials, extra: (server: grpc.Server) => void = () => undefined): Promise<Mesh> {
  const ids = [generateIdentity("client"), generateIdentity("fares")];
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const peers: Record<string, string> = {};
  const options = { resolver, peers, credentials: creds.client, channelOptions: { "grpc.use_local_subchannel_pool": 1 } };
  const client = createSessionRuntime({ identity: ids[0]!, ...options });
  const fares_ = createSessionRuntime({ identity: ids[1]!, ...options });
  const server = new grpc.Server({ interceptors: [fares_.serverInterceptor()] });
  serveW(fares_, server, { fares });
  extra(server);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds.server, (e, p) => (e ? reject(e) : resolve(p))));
  peers["fares"] = `${creds.host}:${port}`;
  return {
    client,
    clientWith: (credentials) => createSessionRuntime({ identity: ids[0]!, ...options, credentials }),
    fares: fares_,
    server,
    address: peers["fares"],
    close() {
      client.close();
      fares_.close();
      server.forceShutdown();
    },
  };
}

const healthDefinition = () => grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, { enums: String })) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };

test("health checks (Check and the streaming Watch) pass through the server interceptor, beside a session", async (t) => {
  const health = new HealthImplementation({ "": "SERVING", "wsne.Worker": "SERVING" });
  const m = await mesh(insecure(), (s) => health.addToServer(s));
  try {
    const Health = healthDefinition().grpc.health.v1.Health;
    const hc = new Health(m.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }) as grpc.Client & Record<string, (...a: unknown[]) => unknown>;
    const check = (service: string) =>
      new Promise<{ status: string }>((resolve, reject) => (hc["check"] as (r: object, cb: (e: grpc.ServiceError | null, v: { status: string }) => void) => void)({ service }, (e, v) => (e ? reject(e) : resolve(v))));
    t.is((await check("")).status, "SERVING");
    t.is((await check("wsne.Worker")).status, "SERVING");
    const unknown = await t.throwsAsync(check("nope"));
    t.is((unknown as grpc.ServiceError).code, grpc.status.NOT_FOUND);

    // Watch: a server stream of statuses, through the interceptor.
    const watch = (hc["watch"] as (r: object) => grpc.ClientReadableStream<{ status: string }>)({ service: "wsne.Worker" });
    const seen: string[] = [];
    const twoUpdates = new Promise<void>((resolve) =>
      watch.on("data", (d: { status: string }) => {
        seen.push(d.status);
        if (seen.length === 1) health.setStatus("wsne.Worker", "NOT_SERVING");
        if (seen.length === 2) resolve();
      }),
    );
    watch.on("error", () => undefined); // the cancel below
    await twoUpdates;
    watch.cancel();
    t.deepEqual(seen, ["SERVING", "NOT_SERVING"]);

    // The session on the same server is unaffected.
    t.deepEqual(await runC(m.client, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 3 }), [420n, 455n, 510n]);
    t.is(Object.values(m.fares.metrics.refused).reduce((a, b) => a + b, 0), 0);
    hc.close();
  } finally {
    m.close();
  }
});

test("server reflection lists the session's service and describes it, through the server interceptor", async (t) => {
  // The descriptors protobuf-es generated (protobufjs cannot parse the session option's multi-line protocol text).
  const files: DescFile[] = [];
  const add = (f: DescFile): void => {
    if (files.includes(f)) return;
    f.dependencies.forEach(add);
    files.push(f);
  };
  add(file_wsne_wsne);
  const definition = { "wsne.Worker": { fileDescriptorProtos: files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto))) } };
  const reflection = new ReflectionService(definition as unknown as protoLoader.PackageDefinition);
  const m = await mesh(insecure(), (s) => reflection.addToServer(s));
  try {
    const reflectionProto = join(dirname(createRequire(import.meta.url).resolve("@grpc/reflection")), "..", "proto", "grpc", "reflection", "v1", "reflection.proto");
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto)) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
    const rc = new pkg.grpc.reflection.v1.ServerReflection(m.address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 }) as grpc.Client & Record<string, () => grpc.ClientDuplexStream<object, Record<string, unknown>>>;
    const ask = (request: object) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const call = rc["serverReflectionInfo"]!();
        call.on("data", (d: Record<string, unknown>) => {
          resolve(d);
          call.end();
        });
        call.on("error", reject);
        call.write(request);
      });
    const listed = (await ask({ listServices: "*" })) as { listServicesResponse?: { service: Array<{ name: string }> } };
    t.true(listed.listServicesResponse?.service.some((s) => s.name === "wsne.Worker"), JSON.stringify(listed));
    const described = (await ask({ fileContainingSymbol: "wsne.Worker" })) as { fileDescriptorResponse?: { fileDescriptorProto: Buffer[] } };
    t.true((described.fileDescriptorResponse?.fileDescriptorProto.length ?? 0) > 0, JSON.stringify(described));
    t.deepEqual(await runC(m.client, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 2 }), [420n, 455n]);
    rc.close();
  } finally {
    m.close();
  }
});

test("a session runs over grpc-js mutual TLS, with the envelope protection on top", async (t) => {
  const m = await mesh(mutualTls());
  try {
    t.deepEqual(await runC(m.client, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 3 }), [420n, 455n, 510n]);
    t.is(m.fares.metrics.accepted, 4); // Request, two Extras, Exit
    t.is(Object.values(m.fares.metrics.refused).reduce((a, b) => a + b, 0), 0);
  } finally {
    m.close();
  }
});

test("over TLS, a client without a certificate the server trusts gets no session message through", async (t) => {
  const m = await mesh(mutualTls());
  try {
    // A caller presenting no client certificate: the TLS handshake fails before any envelope is read.
    const stranger = m.clientWith(grpc.credentials.createSsl(fixture("ca.crt")));
    const e = await t.throwsAsync(runC(stranger, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 1 }));
    t.is((e as Partial<grpc.ServiceError>).code ?? (e?.cause as Partial<grpc.ServiceError> | undefined)?.code, grpc.status.UNAVAILABLE, e?.message);
    t.is(m.fares.metrics.accepted, 0);
    stranger.close();
  } finally {
    m.close();
  }
});
