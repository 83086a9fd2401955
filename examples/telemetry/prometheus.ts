/**
 * secsession's metrics in Prometheus: an OpenTelemetry MeterProvider whose
 * reader is the Prometheus exporter (`@opentelemetry/exporter-prometheus`),
 * given to the runtime as `telemetry.meterProvider`; a Wsne session over
 * gRPC on loopback and one forged message; then the exporter's scrape
 * endpoint, as Prometheus would read it (docs/observability.md).
 *
 *   npx tsx examples/telemetry/prometheus.ts
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver } from "../../interceptors/index.js";
import { runC, serveW } from "../wsne/parties.js";

/** Runs the session and returns the `secsession_*` lines of one scrape. */
export async function scrapeAfterSession(): Promise<string[]> {
  // The exporter is a metric reader; its handler serves the text format on a server of ours (any port).
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const http = createServer((req, res) => exporter.getMetricsRequestHandler(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));

  const ids = [generateIdentity("client"), generateIdentity("fares")];
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const peers: Record<string, string> = {};
  const client = createSessionRuntime({ identity: ids[0]!, resolver, peers, telemetry: { meterProvider } });
  const fares = createSessionRuntime({ identity: ids[1]!, resolver, peers, telemetry: { meterProvider } });
  const server = new grpc.Server({ interceptors: [fares.serverInterceptor()] });
  serveW(fares, server, { fares: { "CDG-JFK": [420n, 455n, 510n] } });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  peers["fares"] = `127.0.0.1:${port}`;
  try {
    await runC(client, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 3 });
    // One message the network made up: refused, and counted by its alert kind.
    const raw = new grpc.Client(peers["fares"], grpc.credentials.createInsecure());
    await new Promise<void>((resolve) =>
      raw.makeUnaryRequest("/wsne.Worker/Request", (b: Buffer) => b, (b: Buffer) => b, Buffer.from("not an envelope"), () => resolve()),
    );
    raw.close();
    const { port: metricsPort } = http.address() as AddressInfo;
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text.split("\n").filter((l) => l.startsWith("secsession_"));
  } finally {
    client.close();
    fares.close();
    server.forceShutdown();
    http.close();
    await meterProvider.shutdown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // The counters and the gauge, and each histogram's count and sum (its buckets left out here).
  for (const line of await scrapeAfterSession()) if (!line.includes("_bucket{")) process.stdout.write(`${line}\n`);
}
