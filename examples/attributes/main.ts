/**
 * Runs the Attributes session on loopback with a passive tap in front of the
 * bank and the auditor, and prints every envelope that crosses the wire: the
 * security attributes in force for its direction (from the session
 * descriptor), its size, and what the tap can read of it.
 *
 *   npx tsx examples/attributes/main.ts
 */
import * as grpc from "@grpc/grpc-js";
import type { Envelope } from "../../gen/secsession/v1/envelope_pb.js";
import { AttributesSession } from "../../gen/attributes/attributes_secsession.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type DirectionSecurity, type EvidenceEntry, type SecurityAlert, type SessionRuntime } from "secsession";
import { decode, mitm, type Mitm } from "../support/adversary/mitm.js";
import { runClient, serveAuditor, serveBank, type Bindings } from "./parties.js";

const out = (line = "") => void process.stdout.write(`${line}\n`);
const bindings: Bindings = { c: "client", b: "bank", a: "auditor" };
const roleOf = (principal: string) => Object.entries(bindings).find(([, p]) => p === principal)![0];

/** The attributes of one direction, as one column. */
function describe(s: DirectionSecurity): string {
  const auth = s.authenticity === "none" ? "no auth" : s.nonRepudiation ? `${s.authenticity}+nr` : s.authenticity;
  const privacy = s.privacy === "none" ? "clear" : s.privacy;
  return `${privacy} · ${auth} · history ${s.history} · replay ${s.replayPrevention ? "on" : "off"}`;
}

/** What a tap reads off an envelope: payload, key version, attestations. */
function onTheWire(env: Envelope, sender: string): string {
  const payload = env.payloadKeyVersion === 0 ? `payload ${env.payload.length} B clear` : `payload ${env.payload.length} B sealed (key v${env.payloadKeyVersion})`;
  const atts = env.attestations.map((a) => {
    const what = a.target === "" ? `${a.role} sig ${a.tag.length} B` : `${a.role}→${a.target} MAC ${a.tag.length} B`;
    return a.role === sender && a.step === env.step ? what : `(${what})`;
  });
  return `${payload}; ${atts.length === 0 ? "no attestations" : atts.join(", ")}`;
}

const pad = (s: string, n: number) => s.padEnd(n);

/** Prints one line per session message (and receipt) that passes a tap. */
function print(bytes: Uint8Array): void {
  const env = decode(bytes);
  const e = AttributesSession.edges[env.edge]!;
  const method = e.rpc.slice(e.rpc.lastIndexOf("/") + 1);
  if (env.ack) {
    out(`        ${pad(`${e.receiver} → ${e.sender}  receipt`, 24)} ${pad("", 66)} ${String(bytes.length).padStart(4)} B  ${onTheWire(env, e.receiver)}`);
    return;
  }
  const label = `${e.sender} → ${e.receiver}  ${method}${e.kind === "response" ? " response" : ""}`;
  out(`  ${String(env.step).padStart(4)}  ${pad(label, 24)} ${pad(describe(e.security), 66)} ${String(bytes.length).padStart(4)} B  ${onTheWire(env, e.sender)}`);
}

async function main(): Promise<void> {
  const identities = Object.values(bindings).map((id) => generateIdentity(id));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const taps: Record<string, Mitm> = {};
  const alerts: Array<SecurityAlert & { at: string }> = [];
  const evidence: EvidenceEntry[] = [];
  const runtimes: Record<string, SessionRuntime> = {};
  const servers: grpc.Server[] = [];
  for (const identity of identities) {
    const runtime = createSessionRuntime({
      identity,
      resolver,
      // Every message to a party goes through the tap in front of it.
      peers: (principal) => taps[principal]?.address,
      ...(identity.id === bindings.b ? { evidence: { append: (e: EvidenceEntry) => void evidence.push(e) } } : {}),
    });
    runtime.on("securityAlert", (a) => alerts.push({ ...a, at: identity.id }));
    runtimes[identity.id] = runtime;
  }
  const listen = async (principal: string, serve: (runtime: SessionRuntime, server: grpc.Server) => void) => {
    const runtime = runtimes[principal]!;
    const server = new grpc.Server({ interceptors: [runtime.serverInterceptor()] });
    servers.push(server);
    serve(runtime, server);
    const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, n) => (e ? rej(e) : res(n))));
    const role = roleOf(principal);
    const tap = await mitm(() => `127.0.0.1:${port}`, [...new Set(AttributesSession.edges.filter((e) => e.receiver === role && e.kind !== "response").map((e) => e.rpc))]);
    tap.policy = async (path, bytes, forward) => {
      print(bytes);
      const outcome = await forward(path, bytes);
      if (outcome.ok) print(outcome.bytes);
      return outcome;
    };
    taps[principal] = tap;
  };
  let report = "";
  await listen(bindings.b, (runtime, server) => serveBank(runtime, server));
  await listen(bindings.a, (runtime, server) =>
    serveAuditor(runtime, server, { onReport: (account, transfers, balance) => void (report = `${account}: ${transfers} transfers, closed at ${balance} cents`) }),
  );

  try {
    out("\nAttributes: c opens an account at b, checks rates, transfers twice, closes; b reports the closing to the auditor a");
    out(`  ${pad("step", 6)}${pad("message", 25)}${pad("attributes in force (privacy · authenticity · history · replay)", 67)}envelope  what a tap reads: payload; own attestations, (carried ones)`);
    const transfer = { payee: "FR76-3000-4000", amountCents: 12_500n, memo: "rent" };
    const result = await runClient(runtimes[bindings.c]!, bindings, {
      owner: "alice",
      moves: [{ rates: "USD" }, { transfer }, { transfer }, { rates: "GBP" }],
      reason: "moving abroad",
    });
    out();
    out(`  c: account ${result.accountId} opened with ${result.openingBalanceCents} cents; rates ${result.rates.map(([cur, r]) => `${cur} ${r} µEUR`).join(", ")}`);
    out(`  c: ${result.receipts.length} transfers confirmed (${result.receipts.join("; ")}); closed at ${result.finalBalanceCents} cents, audit reference ${result.auditReference}`);
    out(`  a: ${report}`);
    const signed = evidence.filter((e) => e.direction === "received").flatMap((e) => e.signatures.filter((s) => s.role === "c"));
    out(`  b: its evidence log keeps ${signed.length} Ed25519 signature(s) of c (the Close order, non-repudiation): step ${signed.map((s) => s.step).join(", ")}`);
    if (alerts.length > 0) {
      for (const a of alerts) out(`  ! ${a.at} refused a message (${a.kind}): ${a.reason}`);
      process.exitCode = 1;
    } else out("  every message accepted");
  } finally {
    for (const r of Object.values(runtimes)) r.close();
    for (const s of servers) s.forceShutdown();
    for (const t of Object.values(taps)) t.close();
  }
}

await main();
