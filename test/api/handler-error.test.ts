/**
 * A handler that fails while its caller waits: the caller gets INTERNAL with
 * a generic reason — never the handler's error text, which may hold a
 * credential or a store's internals — and the runtime's `handlerError`
 * listeners get the error and where it happened. Real gRPC on loopback.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { createSessionRuntime, defineRole, generateIdentity, publicKeysOf, staticResolver, type HandlerError } from "../../interceptors/index.js";
import { inlineSession } from "../support/inline-session.js";

const ASK = `
syntax = "proto3";
package failing;
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Failing"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Ask;"
};
service Worker { rpc Ask(Msg) returns (Msg); }
message Msg { string text = 1; }
`;
const session = inlineSession(ASK);
const C = defineRole(session.descriptor, "c", session.file);
const W = defineRole(session.descriptor, "w", session.file);

test("a failing handler's error reaches handlerError listeners, and its caller only a generic INTERNAL", async (t) => {
  const ids = ["client", "worker"].map((id) => generateIdentity(id));
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const peers = new Map<string, string>();
  const client = createSessionRuntime({ identity: ids[0]!, resolver, peers });
  const worker = createSessionRuntime({ identity: ids[1]!, resolver, peers });
  const seen: HandlerError[] = [];
  worker.on("handlerError", (e) => seen.push(e));
  const server = new grpc.Server({ interceptors: [worker.serverInterceptor()] });
  worker.serve(server, W, {
    ask: async () => {
      throw new Error("redis: get s:…: password=hunter2 refused");
    },
  } as never);
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  peers.set("worker", `127.0.0.1:${port}`);
  try {
    const s0 = (await client.start(C, { w: "worker" })) as unknown as Record<string, (m: object) => Promise<unknown>>;
    const e = (await t.throwsAsync(s0["ask"]!({ text: "q" }))) as grpc.ServiceError;
    t.is(e.code, grpc.status.INTERNAL);
    t.is(e.details, "secsession: the handler failed before responding");
    t.false(JSON.stringify(e).includes("hunter2") || e.message.includes("hunter2"));
    t.is(seen.length, 1);
    t.like(seen[0], { session: "Failing", role: "w", move: "ask", callerWaiting: true });
    t.regex((seen[0]!.error as Error).message, /hunter2/);
  } finally {
    client.close();
    worker.close();
    server.forceShutdown();
  }
});
