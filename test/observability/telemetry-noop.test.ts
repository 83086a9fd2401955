/**
 * Telemetry with `@opentelemetry/api` installed and no SDK registered
 * (runtime/telemetry.ts, docs/observability.md, "Cost"): the runtime makes no
 * span and no instrument, since they would record nothing; a tracer provider
 * registered after the runtime was created still gets its spans.
 */
import test from "ava";
import { createNoopMeter, ProxyTracer, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { runC, serveW } from "../../examples/wsne/parties.js";
import { cluster, type Peer } from "../support/parties.js";

const fares = { "CDG-JFK": [420n, 455n] };

test.serial("no SDK registered: no span and no instrument is made per message; an SDK registered later gets the spans", async (t) => {
  // Counts what the API's no-op objects are asked for: the proxy tracer's spans and the no-op meter's instruments.
  let spans = 0;
  let instruments = 0;
  const startSpan = Object.getOwnPropertyDescriptor(ProxyTracer.prototype, "startSpan")!;
  Object.defineProperty(ProxyTracer.prototype, "startSpan", {
    ...startSpan,
    value(this: ProxyTracer, ...args: Parameters<ProxyTracer["startSpan"]>) {
      spans++;
      return (startSpan.value as ProxyTracer["startSpan"]).apply(this, args);
    },
  });
  const meter = createNoopMeter() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const made = ["createCounter", "createHistogram", "createObservableGauge"] as const;
  const originals = made.map((k) => meter[k]!);
  made.forEach((k, i) => {
    meter[k] = (...a: unknown[]) => {
      instruments++;
      return originals[i]!.apply(meter, a);
    };
  });
  const c = cluster(["client", "fares"], () => ({}));
  try {
    const { client, fares: worker } = c.peers as Record<string, Peer>;
    serveW(worker!.runtime, worker!.server, { fares });
    await c.listen();
    t.deepEqual(await runC(client!.runtime, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 2 }), [420n, 455n]);
    t.is(spans, 0, "no span is started while no tracer provider is registered");
    t.is(instruments, 0, "no instrument is made on the API's no-op meter");

    // Registered after the runtimes were created: the proxy now delegates, and every message gets its span.
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    try {
      t.deepEqual(await runC(client!.runtime, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 2 }), [420n, 455n]);
      const names = exporter.getFinishedSpans().map((s) => s.name);
      // Request, Extra and Exit from c, two replies from w: each sealed once and opened once.
      t.is(names.filter((n) => n === "secsession.seal").length, 5);
      t.is(names.filter((n) => n === "secsession.open").length, 5);
    } finally {
      trace.disable();
    }
  } finally {
    await c.close();
    Object.defineProperty(ProxyTracer.prototype, "startSpan", startSpan);
    made.forEach((k, i) => (meter[k] = originals[i]!));
  }
});
