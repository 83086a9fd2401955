/**
 * The secsession demo: the Shopping session of the s2ml paper, three parties
 * (customer c, order office o, warehouse w), each with its own identity,
 * runtime and gRPC server on loopback. First an honest negotiation with
 * several Offer/Change rounds; then the paper's attacks — and a few more —
 * each refused while the honest session goes on to complete.
 *
 *   npm run demo                    (-- --telemetry: also print the OpenTelemetry counters)
 */
import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { ConfirmRequestSchema, RejectRequestSchema } from "../../gen/shopping/shopping_pb.js";
import { ShoppingC, ShoppingO, ShoppingSession, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type SecurityAlert, type SessionRuntime } from "../../interceptors/index.js";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { forge, pretend } from "../support/adversary/forge.js";
import { mitm, rawCall, rewrite, type Mitm, type Outcome, type Policy } from "../support/adversary/mitm.js";

const edge = (rpc: string) => ShoppingSession.edges.find((e) => e.rpc.endsWith(rpc))!;
const [REQUEST, OFFER, REJECT, ACCEPT, CONFIRM] = ["/Request", "/Offer", "/Reject", "/Accept", "/Confirm"].map(edge) as Array<ReturnType<typeof edge>>;
const names = { c: "customer", o: "office", w: "warehouse" } as const;
const out = (line = "") => process.stdout.write(`${line}\n`);
const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));

interface Party {
  readonly runtime: SessionRuntime;
  readonly server: grpc.Server;
  address: string;
}

/** What the warehouse does before its first offer of a session (a compromised warehouse acts here). */
let beforeFirstOffer: ((sid: string) => Promise<void>) | undefined;
let verbose = false;
let prices: number[] = [];
let finished: () => void = () => undefined;
let contracted: () => void = () => undefined;

/**
 * `--telemetry`: the runtimes also report to an OpenTelemetry MeterProvider (docs/observability.md), whose counters are
 * printed at the end, read back through the SDK as an exporter would.
 */
async function telemetry(): Promise<{ meterProvider: MeterProvider; print: () => Promise<void> } | undefined> {
  if (!process.argv.includes("--telemetry")) return undefined;
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async print() {
      out("\nOpenTelemetry counters (meter secsession):");
      const { resourceMetrics } = await reader.collect();
      for (const m of resourceMetrics.scopeMetrics.flatMap((x) => x.metrics)) {
        if (!m.descriptor.name.startsWith("secsession.messages.") && m.descriptor.name !== "secsession.sessions.open") continue;
        for (const d of m.dataPoints) {
          const labels = Object.entries(d.attributes).map(([k, v]) => `${k.replace(/^secsession\./, "")}=${String(v)}`).join(", ");
          out(`  ${pad(m.descriptor.name, 28)} {${labels}} ${String(d.value)}`);
        }
      }
      await meterProvider.shutdown();
    },
  };
}

async function main(): Promise<void> {
  const otel = await telemetry();
  const identities = Object.values(names).map((id) => generateIdentity(id));
  const resolver = staticResolver(identities.map((i) => [i.id, publicKeysOf(i)] as const));
  const book: Record<string, string> = {};
  const alerts: Array<SecurityAlert & { at: string }> = [];
  const parties: Record<string, Party> = {};
  for (const identity of identities) {
    const runtime = createSessionRuntime({ identity, resolver, peers: book, ...(otel === undefined ? {} : { telemetry: { meterProvider: otel.meterProvider } }) });
    runtime.on("securityAlert", (a) => alerts.push({ ...a, at: identity.id }));
    parties[identity.id] = { runtime, server: new grpc.Server({ interceptors: [runtime.serverInterceptor()] }), address: "" };
  }
  serveOffice(parties[names.o]!);
  serveWarehouse(parties[names.w]!);
  parties[names.c]!.runtime.serve(parties[names.c]!.server, ShoppingC, {});
  for (const [id, p] of Object.entries(parties)) {
    const port = await new Promise<number>((res, rej) => p.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, n) => (e ? rej(e) : res(n))));
    p.address = `127.0.0.1:${port}`;
  }
  // The attacker owns the network: every message to every party passes through it.
  const proxies: Record<string, Mitm> = {};
  for (const [id, p] of Object.entries(parties)) {
    const role = Object.entries(names).find(([, v]) => v === id)![0];
    proxies[id] = await mitm(() => p.address, ShoppingSession.edges.filter((e) => e.receiver === role).map((e) => e.rpc));
    book[id] = proxies[id]!.address;
  }

  out(`secsession demo: session Shopping (code ${ShoppingSession.code.slice(0, 16)}…), ${ShoppingSession.edges.length} edges, security: ${describe()}`);
  for (const [id, p] of Object.entries(parties)) out(`  ${pad(id, 10)} serves ${pad(roleService(id), 22)} on ${p.address}, reached through the network at ${book[id]}`);

  out("\n1. An honest negotiation");
  await negotiate(parties, [120, 110, 100], 2, true);

  out("\n2. The attacks of the s2ml paper, and more. Each is refused; the honest session then completes.");
  const attacks: Array<{ title: string; run: () => Promise<Outcome | undefined>; victim: string }> = [
    {
      title: "the network rewrites w's Offer into a Reject",
      victim: names.c,
      run: () => withPolicy(proxies[names.c]!, (path, bytes, forward, hit) => path === OFFER!.rpc && hit(rewrite(bytes, (e) => {
        e.edge = REJECT!.id;
        e.payload = toBinary(RejectRequestSchema, create(RejectRequestSchema, { reason: "sold out" }));
      }), REJECT!.rpc), () => negotiate(parties, [90, 85], 1, false)),
    },
    {
      title: "the network replays an old Offer into a new iteration",
      victim: names.c,
      run: () => {
        let old: Uint8Array | undefined;
        return withPolicy(proxies[names.c]!, (path, bytes, _f, hit) => {
          if (path !== OFFER!.rpc) return false;
          if (old === undefined) return void (old = bytes), false;
          return hit(old, OFFER!.rpc);
        }, () => negotiate(parties, [90, 85], 1, false));
      },
    },
    {
      title: "a compromised w confirms to o although c never accepted",
      victim: names.o,
      run: async () => {
        let outcome: Outcome | undefined;
        beforeFirstOffer = async (sid) => {
          const w = parties[names.w]!.runtime.party(ShoppingW);
          const st = pretend(w, (await w.state(sid))!, [OFFER!, ACCEPT!]);
          outcome = await rawCall(parties[names.o]!.address, CONFIRM!.rpc, forge(w, st, CONFIRM!, toBinary(ConfirmRequestSchema, create(ConfirmRequestSchema))));
        };
        await negotiate(parties, [90, 85], 1, false);
        beforeFirstOffer = undefined;
        return outcome;
      },
    },
    {
      title: "the network replays the start of the first session",
      victim: names.o,
      run: async () => rawCall(parties[names.o]!.address, REQUEST!.rpc, proxies[names.o]!.seen.find((s) => s.path === REQUEST!.rpc)!.bytes),
    },
    {
      title: "the network delivers w's last Confirm a second time",
      victim: names.o,
      run: async () => rawCall(parties[names.o]!.address, CONFIRM!.rpc, proxies[names.o]!.seen.filter((s) => s.path === CONFIRM!.rpc).at(-1)!.bytes),
    },
    {
      title: "garbage bytes sent to c",
      victim: names.c,
      run: async () => rawCall(parties[names.c]!.address, OFFER!.rpc, new Uint8Array(64).fill(0x5a)),
    },
  ];
  let refused = 0;
  for (const [i, a] of attacks.entries()) {
    const before = alerts.length;
    const outcome = await a.run();
    const alert = alerts.slice(before).find((x) => x.at === a.victim);
    const ok = outcome !== undefined && !outcome.ok && alert !== undefined;
    if (ok) refused++;
    out(`  ${String.fromCharCode(97 + i)}. ${pad(a.title, 58)} ${ok ? "REFUSED" : "DELIVERED"} by ${a.victim}`);
    if (outcome !== undefined && !outcome.ok) out(`     ${grpc.status[outcome.code]} ${alert?.kind ?? ""}: ${alert?.reason ?? outcome.details}`);
  }
  out(`\n${refused}/${attacks.length} attacks refused; every honest session completed.`);
  for (const [id, p] of Object.entries(parties)) {
    const r = Object.entries(p.runtime.metrics.refused).map(([k, v]) => `${k} ${v}`).join(", ");
    out(`  ${pad(id, 10)} accepted ${p.runtime.metrics.accepted} messages, refused ${r || "none"}`);
  }
  await otel?.print();
  for (const p of Object.values(parties)) {
    p.runtime.close();
    p.server.forceShutdown();
  }
  for (const m of Object.values(proxies)) m.close();
  if (refused !== attacks.length) process.exitCode = 1;
}

/** Runs `session` with a network policy that may inject one attack; returns the attack's outcome. */
async function withPolicy(
  proxy: Mitm,
  attack: (path: string, bytes: Uint8Array, forward: Parameters<Policy>[2], hit: (bytes: Uint8Array, path: string) => true) => boolean,
  session: () => Promise<void>,
): Promise<Outcome | undefined> {
  let outcome: Outcome | undefined;
  let pending: Promise<void> = Promise.resolve();
  proxy.policy = async (path, bytes, forward) => {
    if (outcome === undefined) {
      attack(path, bytes, forward, (b, p) => {
        pending = forward(p, b).then((o) => void (outcome = o));
        return true;
      });
      await pending;
    }
    return forward(path, bytes);
  };
  await session();
  proxy.policy = (path, bytes, forward) => forward(path, bytes);
  return outcome;
}

/** One session: w offers `offers` in turn; c asks for `changes` changes, then accepts. */
async function negotiate(parties: Record<string, Party>, offers: number[], changes: number, loud: boolean): Promise<void> {
  prices = [...offers];
  verbose = loud;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const contractSent = new Promise<void>((resolve) => (contracted = resolve));
  const say = (from: string, to: string, what: string) => verbose && out(`  ${from} → ${to}  ${what}`);
  const s0 = await parties[names.c]!.runtime.start(ShoppingC, { c: names.c, o: names.o, w: names.w });
  say("c", "o", "Request(item: bicycle)");
  let waiting = await s0.request({ item: "bicycle" });
  await contractSent;
  for (let round = 0; ; round++) {
    const r = await waiting.receive();
    if (r.kind === "reject") {
      say("w", "c", `Reject(${r.message.reason})`);
      await r.next.abort({});
      say("c", "o", "Abort");
      break;
    }
    say("w", "c", `Offer(${r.message.offer})`);
    if (round < changes) {
      say("c", "w", "Change(a little cheaper?)");
      waiting = await r.next.change({ change: "a little cheaper?" });
    } else {
      say("c", "w", "Accept");
      await r.next.accept({});
      break;
    }
  }
  await done;
  if (verbose) out(`  w → o  Confirm                                  the session is complete (session id ${s0.sessionId.slice(0, 16)}…)`);
}

function serveOffice(p: Party): void {
  p.runtime.serve(p.server, ShoppingO, {
    request: async ({ message, next }) => {
      const waiting = await next.contract({ contract: `deliver one ${message.item}` });
      if (verbose) out(`  o → w  Contract(deliver one ${message.item})`);
      contracted();
      const end = await waiting.receive();
      if (end.kind === "confirm" || end.kind === "abort") finished();
    },
  });
}

function serveWarehouse(p: Party): void {
  p.runtime.serve(p.server, ShoppingW, {
    contract: async ({ next }) => {
      let s = next;
      for (let first = true; ; first = false) {
        const price = prices.shift();
        if (price === undefined) return void (await s.reject({ reason: "no better price" }));
        if (first && beforeFirstOffer !== undefined) await beforeFirstOffer(next.sessionId);
        const waiting = await s.offer({ offer: `${price} EUR` });
        const answer = await waiting.receive();
        if (answer.kind === "accept") return void (await answer.next.confirm({}));
        s = answer.next;
      }
    },
  });
}

function roleService(id: string): string {
  const role = Object.entries(names).find(([, v]) => v === id)![0];
  return ShoppingSession.roles.find((r) => r.name === role)!.service ?? "";
}

function describe(): string {
  const s = ShoppingSession.security;
  return `${s.authenticity} attestations, ${s.history} history, replay prevention ${s.replayPrevention ? "on" : "off"}`;
}

await main();
