/**
 * OpenTelemetry, through `@opentelemetry/api` only (docs/observability.md).
 * The API is an optional peer of secsession: when it is not installed, or no
 * SDK is registered, every instrument is a no-op and nothing is recorded.
 *
 * Metrics (meter `secsession`): accepted, sent and refused messages (by
 * session, role, and alert kind for refusals), seal and open durations,
 * envelope sizes, and the sessions held open. Traces (tracer `secsession`):
 * a span per message sealed (`secsession.seal`) or opened
 * (`secsession.open`), a child of the context active when it runs — on a
 * server, the caller's trace context carried in the gRPC metadata
 * (`traceparent`, injected by our client interceptor and extracted by our
 * server interceptor, with the propagator the application registered).
 *
 * Attributes name the session, the role, the edge, the peer principal and
 * the alert kind; never keys, payloads, reasons or anything a peer sent
 * besides its envelope's routing fields. Metric attributes stay of bounded
 * cardinality: no session ids or principals there, only on spans.
 */
import { createRequire } from "node:module";
import type { AlertKind } from "../errors.js";

/** What telemetry needs of a MeterProvider (`@opentelemetry/api`'s `MeterProvider`). */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}
/** What telemetry needs of a TracerProvider (`@opentelemetry/api`'s `TracerProvider`). */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/**
 * `SessionRuntimeOptions.telemetry`: `false` records nothing; otherwise the
 * given providers, or the globally registered ones (`metrics.setGlobalMeterProvider`,
 * `trace.setGlobalTracerProvider`, e.g. by the OpenTelemetry Node SDK — register them
 * before creating the runtime).
 */
export type TelemetryOptions = false | { readonly meterProvider?: MeterProviderLike; readonly tracerProvider?: TracerProviderLike };

/** The instrumentation scope's version: the package's. */
const VERSION = "0.1.0";

type Attributes = Record<string, string | number | boolean>;
interface Counter {
  add(n: number, a?: Attributes): void;
}
interface Histogram {
  record(v: number, a?: Attributes): void;
}
interface ObservableResult {
  observe(v: number, a?: Attributes): void;
}
interface Meter {
  createCounter(name: string, o?: object): Counter;
  createHistogram(name: string, o?: object): Histogram;
  createObservableGauge(name: string, o?: object): { addCallback(cb: (r: ObservableResult) => void): void };
}
interface Span {
  setAttribute(k: string, v: string | number | boolean): unknown;
  setStatus(s: { code: number; message?: string }): unknown;
  end(): void;
}
interface Tracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes }, context?: unknown): Span;
}
interface OtelApi {
  metrics: { getMeterProvider(): MeterProviderLike };
  trace: { getTracerProvider(): TracerProviderLike };
  context: { active(): unknown; with<T>(ctx: unknown, fn: () => T): T };
  propagation: {
    inject(ctx: unknown, carrier: unknown, setter: { set(c: unknown, k: string, v: string): void }): void;
    extract(ctx: unknown, carrier: unknown, getter: { get(c: unknown, k: string): string | string[] | undefined; keys(c: unknown): string[] }): unknown;
  };
  ROOT_CONTEXT: unknown;
  SpanStatusCode: { ERROR: number };
  SpanKind: { INTERNAL: number };
  createNoopMeter(): unknown;
  ProxyTracerProvider: abstract new () => ProxyTracerProviderLike;
}

/** The API's global tracer provider: it delegates to the SDK's once one is registered. */
interface ProxyTracerProviderLike {
  getDelegateTracer(name: string, version?: string): unknown;
}

let loaded: OtelApi | null | undefined;
/** `@opentelemetry/api`, or null when it is not installed. */
function otelApi(): OtelApi | null {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
  } catch (e: unknown) {
    if ((e as { code?: unknown }).code !== "MODULE_NOT_FOUND") throw e;
    loaded = null;
  }
  return loaded;
}

/** What a span or a metric says of a party. */
export interface PartyLabels {
  readonly session: string;
  readonly code: string;
  readonly role: string;
}

/** gRPC metadata as the propagator reads and writes it. */
interface MetadataLike {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
}
const setter = { set: (c: unknown, k: string, v: string) => (c as MetadataLike).set(k, v) };
const getter = {
  get: (c: unknown, k: string) => {
    const v = (c as MetadataLike).get(k).filter((x): x is string => typeof x === "string");
    return v.length === 0 ? undefined : v;
  },
  keys: (c: unknown) => Object.keys((c as MetadataLike).getMap()),
};

export class Telemetry {
  private readonly api: OtelApi | null;
  private readonly tracer: Tracer | undefined;
  /**
   * While set, `tracer` is the API's proxy and no SDK is behind it yet: it
   * would make no-op spans, so none are made (checked on each message, so an
   * SDK registered later still gets them).
   */
  private proxy: ProxyTracerProviderLike | undefined;
  private readonly acceptedCount: Counter | undefined;
  private readonly sentCount: Counter | undefined;
  private readonly refusedCount: Counter | undefined;
  private readonly sealTime: Histogram | undefined;
  private readonly openTime: Histogram | undefined;
  private readonly size: Histogram | undefined;

  constructor(options: TelemetryOptions | undefined, openSessions: () => number) {
    this.api = options === false ? null : otelApi();
    if (options === false) return;
    const api = this.api;
    const meterProvider = options?.meterProvider ?? api?.metrics.getMeterProvider();
    const tracerProvider = options?.tracerProvider ?? api?.trace.getTracerProvider();
    const given = meterProvider?.getMeter("secsession", VERSION) as Meter | undefined;
    this.tracer = tracerProvider?.getTracer("secsession", VERSION) as Tracer | undefined;
    if (api !== null && tracerProvider instanceof api.ProxyTracerProvider) this.proxy = tracerProvider;
    // The API's no-op meter (no SDK registered): its instruments would record nothing, so none are made.
    const meter = api !== null && given === api.createNoopMeter() ? undefined : given;
    if (meter === undefined) return;
    this.acceptedCount = meter.createCounter("secsession.messages.accepted", { description: "Session messages accepted (opened, checked and committed)", unit: "{message}" });
    this.sentCount = meter.createCounter("secsession.messages.sent", { description: "Session messages sealed and committed for sending", unit: "{message}" });
    this.refusedCount = meter.createCounter("secsession.messages.refused", { description: "Messages refused, by alert kind", unit: "{message}" });
    const ms = { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000] };
    this.sealTime = meter.createHistogram("secsession.seal.duration", { description: "Time to seal and commit one message", unit: "ms", advice: ms });
    this.openTime = meter.createHistogram("secsession.open.duration", { description: "Time to open, check and commit one message (refused or not)", unit: "ms", advice: ms });
    const bytes = { explicitBucketBoundaries: [128, 256, 512, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304] };
    this.size = meter.createHistogram("secsession.envelope.size", { description: "Envelope size (its body and MAC)", unit: "By", advice: bytes });
    meter
      .createObservableGauge("secsession.sessions.open", { description: "Sessions this runtime holds open", unit: "{session}" })
      .addCallback((r) => r.observe(openSessions()));
  }

  /** Counts a refusal (every alert). */
  refused(kind: AlertKind, labels: PartyLabels | undefined): void {
    this.refusedCount?.add(1, { ...(labels === undefined ? {} : metricLabels(labels).party), "secsession.alert.kind": kind });
  }

  /**
   * The tracer, when spans are recorded: undefined with no tracer, or with
   * the API's proxy while no SDK is registered behind it.
   */
  private tracing(): Tracer | undefined {
    if (this.proxy === undefined) return this.tracer;
    if (this.proxy.getDelegateTracer("secsession", VERSION) === undefined) return undefined;
    this.proxy = undefined; // an SDK is registered: the proxy delegates to it from now on
    return this.tracer;
  }

  /** Seals one message under a span and the seal histograms; `bytes` of the result is the envelope. */
  seal<T extends { readonly bytes: Uint8Array }>(labels: PartyLabels, edge: string, run: () => Promise<T>, peer: (r: T) => string | undefined): Promise<T> {
    const tracer = this.tracing();
    // Nothing to record: no span, no timing, no promise of our own around the seal.
    if (tracer === undefined && this.sealTime === undefined) return run();
    return this.sealObserved(tracer, labels, edge, run, peer);
  }

  private async sealObserved<T extends { readonly bytes: Uint8Array }>(tracer: Tracer | undefined, labels: PartyLabels, edge: string, run: () => Promise<T>, peer: (r: T) => string | undefined): Promise<T> {
    const span = tracer?.startSpan("secsession.seal", { kind: this.api?.SpanKind.INTERNAL ?? 0, attributes: spanLabels(labels, edge) });
    const t0 = performance.now();
    try {
      const r = await run();
      const p = peer(r);
      if (p !== undefined) span?.setAttribute("secsession.peer", p);
      const m = metricLabels(labels);
      this.sealTime?.record(performance.now() - t0, m.party);
      this.size?.record(r.bytes.length, m.sent);
      this.sentCount?.add(1, m.party);
      return r;
    } catch (e: unknown) {
      this.fail(span, e);
      throw e;
    } finally {
      span?.end();
    }
  }

  /** Opens one message of `bytes` bytes under a span and the open histograms (accepted messages are counted here). */
  open<T>(labels: PartyLabels, edge: string, bytes: number, run: () => Promise<T>, peer: (r: T) => string | undefined): Promise<T> {
    const tracer = this.tracing();
    if (tracer === undefined && this.openTime === undefined) return run();
    return this.openObserved(tracer, labels, edge, bytes, run, peer);
  }

  private async openObserved<T>(tracer: Tracer | undefined, labels: PartyLabels, edge: string, bytes: number, run: () => Promise<T>, peer: (r: T) => string | undefined): Promise<T> {
    const span = tracer?.startSpan("secsession.open", { kind: this.api?.SpanKind.INTERNAL ?? 0, attributes: spanLabels(labels, edge) });
    const t0 = performance.now();
    const m = metricLabels(labels);
    this.size?.record(bytes, m.received);
    try {
      const r = await run();
      const p = peer(r);
      if (p !== undefined) span?.setAttribute("secsession.peer", p);
      this.acceptedCount?.add(1, m.party);
      return r;
    } catch (e: unknown) {
      this.fail(span, e);
      throw e;
    } finally {
      this.openTime?.record(performance.now() - t0, m.party);
      span?.end();
    }
  }

  /** Writes the active trace context into outgoing gRPC metadata (the application's propagator). */
  inject(metadata: MetadataLike): void {
    if (this.api === null || this.tracing() === undefined) return;
    this.api.propagation.inject(this.api.context.active(), metadata, setter);
  }

  /** Runs `fn` in the trace context carried by incoming gRPC metadata, if any. */
  within<T>(metadata: MetadataLike | undefined, fn: () => T): T {
    if (this.api === null || metadata === undefined || this.tracing() === undefined) return fn();
    return this.api.context.with(this.api.propagation.extract(this.api.context.active(), metadata, getter), fn);
  }

  private fail(span: Span | undefined, e: unknown): void {
    if (span === undefined) return;
    const kind = (e as { kind?: unknown }).kind;
    // The kind only: a refusal's reason may quote what a peer sent, and internal errors stay local.
    if (typeof kind === "string") span.setAttribute("secsession.alert.kind", kind);
    span.setStatus({ code: this.api?.SpanStatusCode.ERROR ?? 2, ...(typeof kind === "string" ? { message: kind } : {}) });
  }
}

interface MetricLabels {
  readonly party: Attributes;
  readonly sent: Attributes;
  readonly received: Attributes;
}
const metricLabelsOf = new WeakMap<PartyLabels, MetricLabels>();

/** A party's metric attributes, made once per party (not per message). */
function metricLabels(l: PartyLabels): MetricLabels {
  let m = metricLabelsOf.get(l);
  if (m === undefined) {
    const party = { "secsession.session": l.session, "secsession.role": l.role };
    m = { party, sent: { ...party, "secsession.direction": "sent" }, received: { ...party, "secsession.direction": "received" } };
    metricLabelsOf.set(l, m);
  }
  return m;
}

function spanLabels(l: PartyLabels, edge: string): Attributes {
  return { "secsession.session": l.session, "secsession.session.code": l.code, "secsession.role": l.role, "secsession.edge": edge };
}
