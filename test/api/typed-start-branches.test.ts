/**
 * What a user writes to start a session and to answer with a response
 * branch. The types: `start` takes the starting role's generated bindings
 * (every static role, its own optional; no dynamic or unknown role), and a
 * branch's move takes only its own oneof case (checked by `tsc --noEmit`: each
 * `@ts-expect-error` fails the build if the line below it compiles). The
 * runtime refuses the same calls made without the types: the bindings with
 * precise errors, a branch's wrong case at the sender, before it is sealed.
 */
import test from "ava";
import { create } from "@bufbuild/protobuf";
import { RequestResponseSchema } from "../../gen/ws/ws_pb.js";
import { WsC, WsW, type WsCBindings, type WsWMachine } from "../../gen/ws/ws_secsession.js";
import { ShoppingC, ShoppingO } from "../../gen/shopping/shopping_secsession.js";
import { SelectC } from "../../gen/select/select_secsession.js";
import { ProxyW } from "../../gen/proxy/proxy_secsession.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, SecSessionError, staticResolver, type RoleState, type SecurityAlert, type SendMessage, type SessionRuntime } from "../../interceptors/index.js";
import { cluster } from "../support/parties.js";

/** Compile-time only: never called. */
export async function compileChecksStart(rt: SessionRuntime): Promise<void> {
  await rt.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" }); // legal
  await rt.start(ShoppingC, { o: "office", w: "warehouse" }); // legal: c is this runtime's identity
  // @ts-expect-error w has no principal
  await rt.start(ShoppingC, { c: "customer", o: "office" });
  // @ts-expect-error x is not a role of Shopping
  await rt.start(ShoppingC, { o: "office", w: "warehouse", x: "other" });
  // @ts-expect-error a principal must be a string
  await rt.start(ShoppingC, { o: "office", w: 7 });
  await rt.start(SelectC, { p: "proxy" }); // legal: w is dynamic
  // @ts-expect-error w of Select is dynamic: the proxy's Forward binds it
  await rt.start(SelectC, { p: "proxy", w: "server" });
  // @ts-expect-error the office does not start Shopping
  await rt.start(ShoppingO, { c: "customer", o: "office", w: "warehouse" });
  // @ts-expect-error nor does it with no bindings
  await rt.start(ShoppingO, {});
  // The bindings type is not inferred from the argument: a wider variable is not accepted either.
  const wide: Record<string, string> = { w: "worker" };
  // @ts-expect-error a record of any roles is not WsC's bindings
  await rt.start(WsC, wide);
  const typed: WsCBindings = { w: "worker" };
  await rt.start(WsC, typed); // legal
}

/** Compile-time only: a response branch's move takes its own case only. */
export async function compileChecksBranch(w1: RoleState<WsWMachine, 1>): Promise<void> {
  await w1.requestReply({ outcome: { case: "reply", value: { result: 1n } } }); // legal
  await w1.requestFault({ outcome: { case: "fault", value: {} } }); // legal
  // @ts-expect-error requestReply is the reply branch: a fault is not its case
  await w1.requestReply({ outcome: { case: "fault", value: {} } });
  // @ts-expect-error requestFault is the fault branch: a reply is not its case
  await w1.requestFault({ outcome: { case: "reply", value: { result: 1n } } });
  // @ts-expect-error the branch's case must be set
  await w1.requestReply({});
  // @ts-expect-error nor may it be unset explicitly
  await w1.requestReply({ outcome: { case: undefined } });
  // @ts-expect-error a message whose case is not known to be reply is not accepted either
  await w1.requestReply(create(RequestResponseSchema, { outcome: { case: "reply", value: { result: 1n } } }));
  const prepared: SendMessage<WsWMachine[1]["requestReply"]> = { outcome: { case: "reply", value: { result: 2n } } };
  await w1.requestReply(prepared); // legal: a value of the move's own type
}

const byKind = (alerts: readonly SecurityAlert[]): string[] => alerts.map((a) => a.kind);

test("a response branch sent with another case is refused at the sender: nothing is sent, and the state object may send again", async (t) => {
  const c = cluster(["client", "worker"]);
  const alerts: SecurityAlert[] = [];
  c.peers["client"]!.runtime.on("securityAlert", (a) => alerts.push(a));
  c.peers["worker"]!.runtime.on("securityAlert", (a) => alerts.push(a));
  const refusals: unknown[] = [];
  c.peers["worker"]!.runtime.serve(c.peers["worker"]!.server, WsW, {
    request: async ({ next }) => {
      // Untyped callers (or casts) reach the runtime: the wrong case, and no case at all.
      refusals.push(await next.requestReply({ outcome: { case: "fault", value: {} } } as never).catch((e: unknown) => e));
      refusals.push(await next.requestFault({} as never).catch((e: unknown) => e));
      await next.requestFault({ outcome: { case: "fault", value: {} } });
    },
  });
  await c.listen();
  try {
    const s0 = await c.peers["client"]!.runtime.start(WsC, { w: "worker" });
    const answer = await s0.request({ query: "Atlantis" });
    t.is(answer.kind, "requestFault");
    t.is(answer.message.outcome.case, "fault");
    t.true("final" in answer.next);
    t.is(refusals.length, 2);
    const [wrong, none] = refusals as [SecSessionError, SecSessionError];
    t.true(wrong instanceof SecSessionError);
    t.is(wrong.kind, "value");
    t.is(wrong.message, 'secsession value: requestReply is the reply branch of /ws.Worker/Request: its message must set outcome to { case: "reply", value }, got case "fault"; nothing was sent');
    t.true(none instanceof SecSessionError);
    t.regex(none.message, /requestFault is the fault branch of \/ws\.Worker\/Request: .* got no case of outcome; nothing was sent$/);
    // Neither side refused anything: the wrong messages never left the worker.
    t.deepEqual(byKind(alerts), []);
    t.is(c.peers["client"]!.runtime.metrics.accepted, 1); // the one response it received
  } finally {
    await c.close();
  }
});

const me = generateIdentity("customer");
const resolver = staticResolver([[me.id, publicKeysOf(me)]]);

test("start refuses, at run time, the bindings the types refuse", async (t) => {
  const rt = createSessionRuntime({ identity: me, resolver });
  try {
    const missing = await t.throwsAsync(rt.start(ShoppingC, { o: "office" } as never));
    t.is(missing!.message, "secsession: starting Shopping needs a principal for role w");
    const unknown = await t.throwsAsync(rt.start(ShoppingC, { o: "office", w: "warehouse", x: "other" } as never));
    t.is(unknown!.message, "secsession: role x of Shopping is unknown");
    const dynamic = await t.throwsAsync(rt.start(SelectC, { p: "proxy", w: "server" } as never));
    t.is(dynamic!.message, "secsession: role w of Select is dynamic: bind it with the message that binds it");
    const notStarter = await t.throwsAsync(rt.start(ShoppingO, { c: "customer", o: "office", w: "warehouse" } as never));
    t.is(notStarter!.message, "secsession: o does not start session Shopping; c does");
    const worker = await t.throwsAsync(rt.start(ProxyW, {} as never));
    t.regex(worker!.message, /w does not start session Proxy; c does/);
    const other = await t.throwsAsync(rt.start(ShoppingC, { c: "someone-else", o: "office", w: "warehouse" }));
    t.is(other!.message, "secsession: role c must be bound to this peer (customer)");
    t.is(rt.openSessions.total, 0);
  } finally {
    rt.close();
  }
});

test("start binds the starting role to the runtime's identity when its bindings leave it out (or undefined)", async (t) => {
  const rt = createSessionRuntime({ identity: me, resolver });
  try {
    const a = await rt.start(ShoppingC, { o: "office", w: "warehouse" });
    const b = await rt.start(ShoppingC, { c: undefined, o: "office", w: "warehouse" } as never);
    const c = await rt.start(ShoppingC, { c: "customer", o: "office", w: "warehouse" });
    t.is(rt.openSessions.total, 3);
    for (const s of [a, b, c]) t.is(s.localState, 0);
    const required = await t.throwsAsync(rt.start(ShoppingC, { o: "office", w: undefined } as never));
    t.is(required!.message, "secsession: starting Shopping needs a principal for role w");
  } finally {
    rt.close();
  }
});
