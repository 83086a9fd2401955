/**
 * OpenTelemetry (runtime/telemetry.ts, docs/observability.md), with the
 * SDK's in-memory exporters, over real gRPC on loopback: the counters of
 * accepted, sent and refused messages by session, role and alert kind, the
 * seal/open histograms and envelope sizes, the open-sessions gauge; a span
 * per message sealed or opened, the server's a child of the caller's trace
 * context carried in gRPC metadata (and only through it); no payload, key or
 * reason in any attribute; `telemetry: false` records nothing.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type Histogram } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type SessionRuntime, type SessionRuntimeOptions } from "../../interceptors/index.js";
import { runC, serveW } from "../../examples/wsne/parties.js";
import { cluster, type Peer } from "../support/parties.js";
import { rawCall } from "../../examples/support/adversary/mitm.js";

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const fares = { "CDG-JFK": [420n, 455n, 510n] };
const ROUTE = "CDG-JFK";

interface Observed {
  readonly spans: InMemorySpanExporter;
  readonly reader: PeriodicExportingMetricReader;
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
}
function observed(): Observed {
  const spans = new InMemorySpanExporter();
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
  return { spans, reader, tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }), meterProvider: new MeterProvider({ readers: [reader] }) };
}

interface Pair {
  readonly client: SessionRuntime;
  readonly fares: SessionRuntime;
  readonly address: string;
  close(): void;
}
async function pair(clientTelemetry: SessionRuntimeOptions["telemetry"], serverTelemetry: SessionRuntimeOptions["telemetry"], interceptors: grpc.Interceptor[] = []): Promise<Pair> {
  const telemetry = (t: SessionRuntimeOptions["telemetry"]) => (t === undefined ? {} : { telemetry: t });
  const c = cluster(["client", "fares"], (id) => (id === "client" ? { interceptors, ...telemetry(clientTelemetry) } : telemetry(serverTelemetry)));
  const { client, fares: worker } = c.peers as Record<string, Peer>;
  serveW(worker!.runtime, worker!.server, { fares });
  await c.listen();
  return { client: client!.runtime, fares: worker!.runtime, address: c.addresses["fares"]!, close: () => void c.close() };
}

/** The data points of metric `name`, from one collection. */
async function points(o: Observed, name: string): Promise<Array<DataPoint<number | Histogram>>> {
  const { resourceMetrics } = await o.reader.collect();
  return resourceMetrics.scopeMetrics.filter((s) => s.scope.name === "secsession").flatMap((s) => s.metrics.filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as Array<DataPoint<number | Histogram>>));
}
const sum = (ps: Array<DataPoint<number | Histogram>>, where: Record<string, string> = {}) =>
  ps.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v)).reduce((a, p) => a + (typeof p.value === "number" ? p.value : p.value.count), 0);

const ATTRIBUTES = new Set(["secsession.session", "secsession.session.code", "secsession.role", "secsession.edge", "secsession.peer", "secsession.alert.kind", "secsession.direction"]);

test.serial("metrics: accepted, sent and refused messages by session, role and alert kind; seal/open histograms; envelope sizes; open sessions", async (t) => {
  const c = observed();
  const s = observed();
  const p = await pair({ meterProvider: c.meterProvider }, { meterProvider: s.meterProvider });
  try {
    t.deepEqual(await runC(p.client, { c: "client", w: "fares" }, { route: ROUTE, wanted: 3 }), [420n, 455n, 510n]);
    // Request, Extra, Extra, Exit from c; the three replies from w.
    t.is(sum(await points(s, "secsession.messages.accepted"), { "secsession.session": "Wsne", "secsession.role": "w" }), 4);
    t.is(sum(await points(c, "secsession.messages.accepted"), { "secsession.session": "Wsne", "secsession.role": "c" }), 3);
    t.is(sum(await points(c, "secsession.messages.sent"), { "secsession.role": "c" }), 4);
    t.is(sum(await points(s, "secsession.messages.sent"), { "secsession.role": "w" }), 3);
    t.is(sum(await points(c, "secsession.seal.duration")), 4, "one seal duration per message sent");
    t.is(sum(await points(s, "secsession.open.duration")), 4, "one open duration per message received");
    const sizes = (await points(s, "secsession.envelope.size")).filter((x) => x.attributes["secsession.direction"] === "received");
    t.true(sizes.length > 0 && typeof sizes[0]!.value !== "number" && sizes[0]!.value.min! > 0);
    // Refusals: garbage on the session's rpc is refused `malformed` before any party (no session or role then).
    const garbage = await rawCall(p.address, "/wsne.Worker/Request", new Uint8Array([1, 2, 3, 4]));
    t.false(garbage.ok);
    t.is(sum(await points(s, "secsession.messages.refused"), { "secsession.alert.kind": "malformed" }), 1);
    t.is(sum(await points(s, "secsession.messages.refused")), Object.values(p.fares.metrics.refused).reduce((a, b) => a + b, 0));
    // The gauge: the sessions the runtime holds open (the finished one is released).
    const open = await points(s, "secsession.sessions.open");
    t.is(open.length, 1);
    t.is(open[0]!.value, p.fares.openSessions.total);
    for (const o of [c, s]) for (const name of ["secsession.messages.accepted", "secsession.messages.sent", "secsession.messages.refused", "secsession.envelope.size"]) {
      for (const x of await points(o, name)) for (const k of Object.keys(x.attributes)) t.true(ATTRIBUTES.has(k) && k !== "secsession.peer", `metric attribute ${k}`);
    }
  } finally {
    p.close();
  }
});

test.serial("spans: one per message sealed or opened; the server's are children of the caller's trace context from the gRPC metadata; nothing secret in them", async (t) => {
  const o = observed();
  const p = await pair({ tracerProvider: o.tracerProvider }, { tracerProvider: o.tracerProvider });
  try {
    const app = o.tracerProvider.getTracer("app");
    const root = await app.startActiveSpan("checkout", async (span) => {
      await runC(p.client, { c: "client", w: "fares" }, { route: ROUTE, wanted: 2 });
      span.end();
      return span.spanContext();
    });
    const spans = o.spans.getFinishedSpans().filter((x) => x.name.startsWith("secsession."));
    const by = (name: string, role: string) => spans.filter((x) => x.name === name && x.attributes["secsession.role"] === role);
    t.is(by("secsession.seal", "c").length, 3); // Request, Extra, Exit
    t.is(by("secsession.open", "w").length, 3);
    t.is(by("secsession.seal", "w").length, 2); // the replies
    t.is(by("secsession.open", "c").length, 2);
    for (const x of spans) {
      t.is(x.spanContext().traceId, root.traceId, `${x.name} ${String(x.attributes["secsession.edge"])} is in the caller's trace`);
      t.is(x.parentSpanContext?.spanId, root.spanId);
    }
    const request = by("secsession.open", "w").find((x) => String(x.attributes["secsession.edge"]).includes("/Request (request)"))!;
    t.like(request.attributes, { "secsession.session": "Wsne", "secsession.role": "w", "secsession.peer": "client", "secsession.edge": "c -> w: wsne.Worker/Request (request)" });
    t.is(request.attributes["secsession.session.code"], p.fares.party((await import("../../gen/wsne/wsne_secsession.js")).WsneW).descriptor.code);
    for (const x of spans) {
      for (const [k, v] of Object.entries(x.attributes)) {
        t.true(ATTRIBUTES.has(k), `span attribute ${k}`);
        t.false(String(v).includes(ROUTE), `no payload in ${k}`);
      }
    }
  } finally {
    p.close();
  }
});

test.serial("spans: the server's parent comes only from the metadata (a client that injects nothing starts no shared trace); a refusal's span says its kind, not its reason", async (t) => {
  const o = observed();
  // What c sends, as sealed envelopes (an interceptor after ours).
  const sent: Array<{ path: string; bytes: Uint8Array }> = [];
  const capture: grpc.Interceptor = (options, next) =>
    new grpc.InterceptingCall(next(options), {
      sendMessage(message: { bytes: Uint8Array }, nextMessage) {
        sent.push({ path: options.method_definition.path, bytes: message.bytes });
        nextMessage(message);
      },
    });
  const p = await pair(false, { tracerProvider: o.tracerProvider }, [capture]);
  try {
    const app = o.tracerProvider.getTracer("app");
    const root = await app.startActiveSpan("checkout", async (span) => {
      await runC(p.client, { c: "client", w: "fares" }, { route: ROUTE, wanted: 1 });
      span.end();
      return span.spanContext();
    });
    const opened = o.spans.getFinishedSpans().filter((x) => x.name === "secsession.open");
    t.is(opened.length, 2); // Request, Exit
    for (const x of opened) {
      t.not(x.spanContext().traceId, root.traceId);
      t.is(x.parentSpanContext, undefined);
    }
    // The captured Request replayed: refused by w's party; its span carries the alert kind and an error status, not the reason.
    o.spans.reset();
    const request = sent.find((x) => x.path.endsWith("/Request"))!;
    const replay = await rawCall(p.address, request.path, request.bytes);
    t.false(replay.ok);
    const refused = o.spans.getFinishedSpans().filter((x: ReadableSpan) => x.name === "secsession.open");
    t.is(refused.length, 1);
    t.is(refused[0]!.status.code, 2);
    t.is(refused[0]!.attributes["secsession.alert.kind"], "replay");
    t.is(refused[0]!.status.message, "replay");
  } finally {
    p.close();
  }
});

test.serial("telemetry: false records nothing, even with providers registered globally", async (t) => {
  const o = observed();
  trace.setGlobalTracerProvider(o.tracerProvider);
  try {
    const p = await pair(false, false);
    try {
      await runC(p.client, { c: "client", w: "fares" }, { route: ROUTE, wanted: 1 });
      t.deepEqual(o.spans.getFinishedSpans().map((x) => x.name), []);
      // The same runtimes with the default use the global provider.
      const q = await pair(undefined, undefined);
      try {
        await runC(q.client, { c: "client", w: "fares" }, { route: ROUTE, wanted: 1 });
        t.true(o.spans.getFinishedSpans().some((x) => x.name === "secsession.seal"));
      } finally {
        q.close();
      }
    } finally {
      p.close();
    }
  } finally {
    trace.disable();
  }
});

test("bad telemetry options are refused with a clear error", (t) => {
  const base = { identity: generateIdentity("x"), resolver: staticResolver([]) };
  t.throws(() => createSessionRuntime({ ...base, telemetry: "yes" as never }), { message: /options\.telemetry must be false or \{ meterProvider\?, tracerProvider\? \}, got/ });
  t.throws(() => createSessionRuntime({ ...base, telemetry: { meterProvider: {} as never } }), { message: /options\.telemetry\.meterProvider must be an OpenTelemetry MeterProvider \(with getMeter\(\)\)/ });
  t.throws(() => createSessionRuntime({ ...base, telemetry: { tracerProvider: null as never } }), { message: /options\.telemetry\.tracerProvider must be an OpenTelemetry TracerProvider/ });
});
