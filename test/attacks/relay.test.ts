/**
 * Signed history against compromised relays: a relay cannot lie to a later
 * role about what an earlier honest role sent (Forward, Auth, Conf), and a
 * reply must come from the principal the session bound (Select).
 */
import test, { type ExecutionContext } from "ava";
import { create, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import * as forwardPb from "../../gen/forward/forward_pb.js";
import * as authPb from "../../gen/auth/auth_pb.js";
import * as confPb from "../../gen/conf/conf_pb.js";
import * as selectPb from "../../gen/select/select_pb.js";
import { ForwardC, ForwardP, ForwardSession, ForwardW } from "../../gen/forward/forward_secsession.js";
import { AuthA, AuthC, AuthD, AuthSession, AuthW } from "../../gen/auth/auth_secsession.js";
import { ConfAuthor, ConfConfman, ConfPc, ConfSession } from "../../gen/conf/conf_secsession.js";
import { SelectC, SelectP, SelectSession, SelectW } from "../../gen/select/select_secsession.js";
import type { EdgeDescriptor, SecurityAlert, SessionDescriptor } from "../../interceptors/index.js";
import { without } from "../../interceptors/monitor/defences.js";
import type { Party } from "../../interceptors/runtime/party.js";
import { cluster, type Cluster } from "../support/parties.js";
import { rawCall, type Outcome } from "../../examples/support/adversary/mitm.js";
import { forge, lieAbout } from "../../examples/support/adversary/forge.js";

const edgeOf = (d: SessionDescriptor, rpc: string, kind = "oneway"): EdgeDescriptor => d.edges.find((e) => e.rpc.endsWith(rpc) && e.kind === kind)!;
const bytesOf = <D extends DescMessage>(schema: D, init: object) => toBinary(schema, create(schema, init as never));

interface Run {
  readonly c: Cluster;
  readonly alerts: SecurityAlert[];
  readonly handled: string[];
  attempt?: Outcome;
}

function watch(c: Cluster): Run {
  const run: Run = { c, alerts: [], handled: [] };
  for (const p of Object.values(c.peers)) p.runtime.on("securityAlert", (a) => run.alerts.push(a));
  return run;
}

/** The relay lies about the message at `step`, then sends `edge` with the lie to `victim`. */
async function lie(run: Run, relay: Party, sid: string, step: bigint, fake: Uint8Array, edge: EdgeDescriptor, payload: Uint8Array, victim: string): Promise<void> {
  const st = (await relay.state(sid))!;
  const forged = forge(relay, lieAbout(relay, st, step, fake), edge, payload);
  run.attempt = await rawCall(run.c.addresses[victim]!, edge.rpc, forged);
}

function refusedAsForgery(t: ExecutionContext, run: Run, victim: string): void {
  t.false(run.attempt?.ok ?? true, "the lie is refused");
  if (run.attempt !== undefined && !run.attempt.ok) t.is(run.attempt.code, status.UNAUTHENTICATED, run.attempt.details);
  t.is(run.alerts.at(-1)?.kind, "bad-attestation");
  t.is(run.alerts.at(-1)?.peer !== undefined, true);
}

// ---- Forward: p lies to w about c's Request ----
async function forwardLie(): Promise<Run> {
  const c = cluster(["client", "proxy", "worker"]);
  const run = watch(c);
  const { client, proxy, worker } = c.peers;
  client!.runtime.serve(client!.server, ForwardC, {});
  proxy!.runtime.serve(proxy!.server, ForwardP, {
    request: async ({ message, next }) => {
      const p = proxy!.runtime.party(ForwardP);
      await lie(run, p, next.sessionId, 1n, bytesOf(forwardPb.RequestRequestSchema, { query: "transfer all" }), edgeOf(ForwardSession, "/Forward"), bytesOf(forwardPb.ForwardRequestSchema, { query: "transfer all" }), "worker");
      await next.forward({ query: message.query });
    },
  });
  worker!.runtime.serve(worker!.server, ForwardW, {
    forward: async ({ message, next }) => {
      run.handled.push(`w:forward(${message.query})`);
      await next.reply({ result: BigInt(message.query.length) });
    },
  });
  await c.listen();
  try {
    const s = await client!.runtime.start(ForwardC, { c: "client", p: "proxy", w: "worker" });
    const r = await Promise.race([(await s.request({ query: "balance" })).receive(), stuck()]);
    if (r !== "stuck") run.handled.push(`c:reply(${r.message.result})`);
    for (let i = 0; i < 600 && run.attempt === undefined; i++) await new Promise((w) => setTimeout(w, 5));
    return run;
  } finally {
    await c.close();
  }
}

test.serial("Forward: a compromised p cannot lie to w about c's Request", async (t) => {
  const run = await forwardLie();
  refusedAsForgery(t, run, "worker");
  t.deepEqual(run.handled, ["w:forward(balance)", "c:reply(7)"], "w only saw the honest Forward; the session completed");
});

test.serial("Forward: the lie passes without signed history", async (t) => {
  const run = await without("attestations", forwardLie);
  t.true(run.attempt?.ok);
  t.is(run.handled[0], "w:forward(transfer all)");
});

// ---- Auth: a lies to w about c's Request (after d's Ok) ----
async function authLie(): Promise<Run> {
  const c = cluster(["client", "gateway", "authority", "worker"]);
  const run = watch(c);
  const { client, gateway, authority, worker } = c.peers;
  client!.runtime.serve(client!.server, AuthC, {});
  gateway!.runtime.serve(gateway!.server, AuthA, {
    request: async ({ message, next }) => {
      const ok = await next.auth({});
      const a = gateway!.runtime.party(AuthA);
      await lie(run, a, ok.next.sessionId, 1n, bytesOf(authPb.RequestRequestSchema, { query: "admin" }), edgeOf(AuthSession, "/Forward"), bytesOf(authPb.ForwardRequestSchema, { query: "admin" }), "worker");
      await ok.next.forward({ query: message.query });
    },
  });
  authority!.runtime.serve(authority!.server, AuthD, {
    auth: async ({ next }) => void (await next.authResponse({})),
  });
  worker!.runtime.serve(worker!.server, AuthW, {
    forward: async ({ message, next }) => {
      run.handled.push(`w:forward(${message.query})`);
      await next.reply({ result: 1n });
    },
  });
  await c.listen();
  try {
    const s = await client!.runtime.start(AuthC, { c: "client", a: "gateway", d: "authority", w: "worker" });
    const r = await Promise.race([(await s.request({ query: "read" })).receive(), stuck()]);
    if (r !== "stuck") run.handled.push("c:reply");
    return run;
  } finally {
    await c.close();
  }
}

test.serial("Auth: a compromised gateway cannot lie to w about c's Request", async (t) => {
  const run = await authLie();
  refusedAsForgery(t, run, "worker");
  t.deepEqual(run.handled, ["w:forward(read)", "c:reply"]);
});

test.serial("Auth: the lie passes without signed history", async (t) => {
  const run = await without("attestations", authLie);
  t.true(run.attempt?.ok);
});

// ---- Conf: confman lies to pc about the author's Submit ----
async function confLie(): Promise<Run> {
  const c = cluster(["chair", "author", "manager"]);
  const run = watch(c);
  const { chair, author, manager } = c.peers;
  chair!.runtime.serve(chair!.server, ConfPc, {});
  author!.runtime.serve(author!.server, ConfAuthor, {
    cfp: async ({ next }) => {
      const up = await next.upload({ paper: "draft" });
      if (up.kind !== "uploadOk") throw new Error(`unexpected ${up.kind}`);
      const waiting = await up.next.submit({ paper: "my paper" });
      const verdict = await waiting.receive();
      run.handled.push(`author:${verdict.kind}`);
    },
  });
  manager!.runtime.serve(manager!.server, ConfConfman, {
    upload: async ({ next }) => {
      const sub = await (await next.uploadOk({ outcome: { case: "ok", value: {} } })).receive();
      if (sub.kind !== "submit") throw new Error(`unexpected ${sub.kind}`);
      const m = manager!.runtime.party(ConfConfman);
      const st = (await m.state(sub.next.sessionId))!;
      await lie(run, m, sub.next.sessionId, st.step, bytesOf(confPb.SubmitRequestSchema, { paper: "plagiarised" }), edgeOf(ConfSession, "/Paper"), bytesOf(confPb.PaperRequestSchema, { paper: "plagiarised" }), "chair");
      const close = await (await sub.next.paper({ paper: sub.message.paper })).receive();
      if (close.kind === "close") await close.next.closeResponse({});
    },
  });
  await c.listen();
  try {
    const s = await chair!.runtime.start(ConfPc, { pc: "chair", author: "author", confman: "manager" });
    const paper = await Promise.race([(await s.cfp({ call: "CSF" })).receive(), stuck()]);
    if (paper === "stuck" || paper.kind !== "paper") return run;
    run.handled.push(`pc:paper(${paper.message.paper})`);
    try {
      const closed = await paper.next.close({});
      await closed.next.reject({});
    } catch {
      run.handled.push("pc:!failed"); // once a forgery got through, the honest parties disagree
    }
    return run;
  } finally {
    await new Promise((r) => setTimeout(r, 50));
    await c.close();
  }
}

test.serial("Conf: a compromised confman cannot lie to pc about the author's Submit", async (t) => {
  const run = await confLie();
  refusedAsForgery(t, run, "chair");
  t.deepEqual(run.handled, ["pc:paper(my paper)", "author:reject"]);
});

test.serial("Conf: the lie passes without signed history", async (t) => {
  const run = await without("attestations", confLie);
  t.true(run.attempt?.ok);
  t.is(run.handled[0], "pc:paper(plagiarised)");
});

// ---- Select: the reply must come from the principal p bound to w ----
async function selectImpostor(): Promise<Run> {
  const c = cluster(["client", "portal", "server-a", "server-b"]);
  const run = watch(c);
  const { client, portal } = c.peers;
  client!.runtime.serve(client!.server, SelectC, {});
  portal!.runtime.serve(portal!.server, SelectP, {
    query: async ({ message, next }) => void (await next.forward({ query: message.query, server: "server-a" })),
  });
  for (const id of ["server-a", "server-b"]) {
    const peer = c.peers[id]!;
    peer.runtime.serve(peer.server, SelectW, {
      forward: async ({ message, next }) => {
        run.handled.push(`${id}:forward(${message.query})`);
        // server-b is not bound, but knows the session: it tries to answer c as w.
        const impostor = c.peers["server-b"]!.runtime.party(SelectW);
        const honest = peer.runtime.party(SelectW);
        const st = (await honest.state(next.sessionId))!;
        const reply = edgeOf(SelectSession, "/Reply");
        run.attempt = await rawCall(c.addresses["client"]!, reply.rpc, forge(impostor, st, reply, bytesOf(selectPb.ReplyRequestSchema, { result: 666n })));
        await next.reply({ result: 42n }).catch(() => run.handled.push(`${id}:!failed`));
      },
    });
  }
  await c.listen();
  try {
    const s = await client!.runtime.start(SelectC, { c: "client", p: "portal" });
    const r = await Promise.race([(await s.query({ credentials: "alice", query: "weather" })).receive(), stuck()]);
    if (r !== "stuck") run.handled.push(`c:reply(${r.message.result})`);
    for (let i = 0; i < 600 && run.attempt === undefined; i++) await new Promise((w) => setTimeout(w, 5));
    return run;
  } finally {
    await c.close();
  }
}

test.serial("Select: a reply from a principal other than the one p bound is refused", async (t) => {
  const run = await selectImpostor();
  refusedAsForgery(t, run, "client");
  t.deepEqual(run.handled, ["server-a:forward(weather)", "c:reply(42)"]);
});

test.serial("Select: the impostor's reply passes without MAC checks", async (t) => {
  const run = await without("attestations", selectImpostor);
  t.true(run.attempt?.ok, JSON.stringify(run.attempt));
  t.true(run.handled.includes("c:reply(666)"), run.handled.join(", "));
});

function stuck(): Promise<"stuck"> {
  return new Promise((resolve) => setTimeout(() => resolve("stuck"), 3000).unref());
}
