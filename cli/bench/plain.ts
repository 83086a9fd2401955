/**
 * The baseline of `secsession bench`: the same messages over plain grpc-js,
 * with none of our code (no interceptors, no envelopes; protobuf-es
 * toBinary/fromBinary). It replays the runs the driver played: one unary call
 * per request or one-way message of a trace, from its sender's client to its
 * receiver's server, which answers with the rpc's response message. Calls
 * run one after another, a nested call before the call it is nested in
 * returns: the same messages and round trips, not the same overlap.
 */
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type FileRegistry } from "@bufbuild/protobuf";
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import type { Trace } from "./driver.js";

export interface PlainReplay {
  play(trace: Trace): Promise<void>;
  close(): void;
}

export async function createPlainReplay(d: SessionDescriptor, registry: FileRegistry): Promise<PlainReplay> {
  const servers: grpc.Server[] = [];
  const clients = new Map<string, grpc.Client>();
  const addresses = new Map<string, string>();
  const methods = new Map<string, { input: DescMessage; output: DescMessage }>();
  for (const r of d.roles) {
    if (r.service === null) continue;
    const svc = registry.getService(r.service);
    if (svc === undefined) throw new Error(`no service ${r.service}`);
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    const impl: grpc.UntypedServiceImplementation = {};
    for (const m of svc.methods) {
      const path = `/${svc.typeName}/${m.name}`;
      methods.set(path, { input: m.input, output: m.output });
      definition[m.name] = {
        path,
        requestStream: false,
        responseStream: false,
        requestSerialize: (v: unknown) => Buffer.from(toBinary(m.input, v as never)),
        requestDeserialize: (b: Buffer) => fromBinary(m.input, b),
        responseSerialize: (v: unknown) => Buffer.from(toBinary(m.output, v as never)),
        responseDeserialize: (b: Buffer) => fromBinary(m.output, b),
      };
      impl[m.name] = (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, create(m.output));
    }
    const server = new grpc.Server();
    server.addService(definition as grpc.ServiceDefinition, impl);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    addresses.set(r.name, `127.0.0.1:${port}`);
    servers.push(server);
  }
  const client = (from: string, to: string) => {
    const key = `${from}->${to}`;
    let c = clients.get(key);
    if (c === undefined) {
      c = new grpc.Client(addresses.get(to)!, grpc.credentials.createInsecure());
      clients.set(key, c);
    }
    return c;
  };
  return {
    async play(trace) {
      for (const id of trace) {
        const e = d.edges[id]!;
        if (e.kind === "response") continue; // the answer of its call
        const m = methods.get(e.rpc)!;
        await new Promise<void>((resolve, reject) =>
          client(e.sender, e.receiver).makeUnaryRequest(
            e.rpc,
            (v: unknown) => Buffer.from(toBinary(m.input, v as never)),
            (b: Buffer) => fromBinary(m.output, b),
            create(m.input),
            (err) => (err ? reject(err) : resolve()),
          ),
        );
      }
    },
    close() {
      for (const c of clients.values()) c.close();
      for (const s of servers) s.forceShutdown();
    },
  };
}
