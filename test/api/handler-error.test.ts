/**
 * A handler that fails while its caller waits: the caller gets INTERNAL with
 * a generic reason — never the handler's error text, which may hold a
 * credential or a store's internals — and the runtime's `handlerError`
 * listeners get the error and where it happened. Real gRPC on loopback.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { defineRole, type HandlerError } from "../../interceptors/index.js";
import { cluster, type Peer } from "../support/parties.js";
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
  const c = cluster(["client", "worker"]);
  const { client, worker } = c.peers as Record<string, Peer>;
  const seen: HandlerError[] = [];
  worker!.runtime.on("handlerError", (e) => seen.push(e));
  worker!.runtime.serve(worker!.server, W, {
    ask: async () => {
      throw new Error("redis: get s:…: password=hunter2 refused");
    },
  } as never);
  await c.listen();
  try {
    const s0 = (await client!.runtime.start(C, { w: "worker" })) as unknown as Record<string, (m: object) => Promise<unknown>>;
    const e = (await t.throwsAsync(s0["ask"]!({ text: "q" }))) as grpc.ServiceError;
    t.is(e.code, grpc.status.INTERNAL);
    t.is(e.details, "secsession: the handler failed before responding");
    t.false(JSON.stringify(e).includes("hunter2") || e.message.includes("hunter2"));
    t.is(seen.length, 1);
    t.like(seen[0], { session: "Failing", role: "w", move: "ask", callerWaiting: true });
    t.regex((seen[0]!.error as Error).message, /hunter2/);
  } finally {
    await c.close();
  }
});
