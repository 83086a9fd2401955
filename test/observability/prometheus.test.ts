/**
 * The Prometheus example (examples/telemetry/prometheus.ts, the wiring
 * docs/observability.md shows): after one Wsne session and one forged
 * message, a scrape of the exporter shows the counters by session, role and
 * alert kind, the histograms and the open-sessions gauge.
 */
import test from "ava";
import { scrapeAfterSession } from "../../examples/telemetry/prometheus.js";

test("a Prometheus scrape shows secsession's counters, histograms and gauge", async (t) => {
  const lines = await scrapeAfterSession();
  const value = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => Number(l.split(" ").pop()));
  t.deepEqual(value('secsession_messages_accepted_total{secsession_session="Wsne",secsession_role="w"'), [4]);
  t.deepEqual(value('secsession_messages_sent_total{secsession_session="Wsne",secsession_role="c"'), [4]);
  t.deepEqual(value('secsession_messages_refused_total{secsession_alert_kind="malformed"'), [1]);
  t.deepEqual(value('secsession_seal_duration_count{secsession_session="Wsne",secsession_role="c"'), [4]);
  t.true(lines.some((l) => l.startsWith('secsession_seal_duration_bucket{') && l.includes('le="0.5"')), "millisecond buckets");
  t.deepEqual(value("secsession_sessions_open{"), [0]);
});
