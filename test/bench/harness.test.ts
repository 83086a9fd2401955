/**
 * The overhead benchmark's bookkeeping, without timing anything: workload
 * shapes, the profile attribution rules, the RESULTS.md section writer, the
 * chart, and one real (tiny) Conf session per harness flow, plain and ours,
 * with the same number of calls.
 */
import test from "ava";
import { confMessages, confShape } from "../../bench/overhead/conf.js";
import { attribute, scaled } from "../../bench/overhead/profile.js";
import { BEGIN, END, withSection } from "../../bench/overhead/report.js";
import { chartSvg } from "../../bench/overhead/chart.js";
import { MODES } from "../../bench/overhead/modes.js";
import { confSubject } from "../../bench/overhead/subjects.js";
import type { Results } from "../../bench/overhead/results.js";

test("Conf shapes carry the messages asked for, through all three loops", (t) => {
  for (const n of [8, 9, 100, 500, 501, 1000]) {
    const s = confShape(n);
    t.true(confMessages(s) <= n && confMessages(s) >= n - 1, `${n} → ${confMessages(s)}`);
  }
  t.deepEqual(confShape(500), { uploads: 71, revisions: 52, shepherds: 71 });
  t.is(confMessages(confShape(500)) * 20, 10_000);
});

test("profile samples go to the micro-protocol of their innermost telling frame; the profiler's own work is left out", (t) => {
  const frame = (functionName: string, url: string) => ({ functionName, url });
  const nodes = [
    { id: 1, callFrame: frame("(root)", ""), children: [2, 7, 9, 10] },
    { id: 2, callFrame: frame("wrap", "file:///x/interceptors/runtime/party.ts"), children: [3, 5] },
    { id: 3, callFrame: frame("sendKeys", "file:///x/interceptors/keys/pair-channel.ts"), children: [4] },
    { id: 4, callFrame: frame("x25519", "file:///x/interceptors/keys/crypto/node-backend.ts"), children: [] },
    { id: 5, callFrame: frame("sealWith", "file:///x/interceptors/monitor/seal.ts"), children: [6] },
    { id: 6, callFrame: frame("sha256", "file:///x/interceptors/keys/crypto/node-backend.ts"), children: [] },
    { id: 7, callFrame: frame("post", "node:inspector"), children: [8] },
    { id: 8, callFrame: frame("dispatch", ""), children: [] },
    { id: 9, callFrame: frame("(idle)", ""), children: [] },
    { id: 10, callFrame: frame("write", "file:///x/node_modules/@grpc/grpc-js/build/src/call.js"), children: [] },
  ];
  const ms = attribute({ nodes, samples: [4, 4, 6, 8, 8, 8, 9, 10], timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000] });
  t.deepEqual(Object.fromEntries(ms), {
    "key agreement (Noise, DH ratchet)": 2,
    "history (payload hash, transcript)": 1,
    "idle (waiting for I/O)": 1,
    "gRPC transport (grpc-js, HTTP/2)": 1,
  });
  const us = scaled(ms, 100);
  t.is(us["key agreement (Noise, DH ratchet)"], 40);
  t.is(Object.values(us).reduce((a, b) => a + (b ?? 0), 0), 100);
});

test("the overhead section replaces its own markers only, or is appended; the other sections stay", (t) => {
  const codegen = "# Benchmark results\n\nThe run-time overhead benchmark against plain gRPC is not written yet (issue 7).\n\n## Code generation\n\n| a |\n";
  const replicas = "\n## Replicated roles\n\ntheirs\n";
  const first = withSection(codegen + replicas, `${BEGIN}\nours 1\n${END}`);
  t.true(first.includes("## Code generation\n\n| a |") && first.includes("## Replicated roles\n\ntheirs"));
  t.true(first.includes("in its own section below (`npm run bench`)"));
  t.true(first.trimEnd().endsWith(`${BEGIN}\nours 1\n${END}`));
  const second = withSection(first.replace("theirs", "theirs, edited"), `${BEGIN}\nours 2\n${END}`);
  t.false(second.includes("ours 1"));
  t.is(second.split(BEGIN).length, 2);
  t.true(second.includes("theirs, edited") && second.includes("ours 2"));
});

test("the chart is one SVG with a bar per mode and the seed's four rows beside ours", (t) => {
  const row = (mode: (typeof MODES)[number]["id"], ratio: number) => ({ mode, label: mode, runsMs: [1], medianMs: 1, usPerMessage: 100 * ratio, ratio, callsPerSession: 1 });
  const r = {
    date: "2026-01-01T00:00:00Z",
    machine: { cpus: 2, model: "cpu", memoryGiB: 1, os: "linux", loadAverage: { start: 1, end: 1 } },
    versions: { node: "v20" },
    config: { confRunMessages: 10000, wsneRunMessages: 2003 },
    conf: MODES.map((m, i) => row(m.id, 1 + i / 10)),
    wsne: MODES.map((m) => row(m.id, 1)),
  } as unknown as Results;
  const svg = chartSvg(r);
  t.true(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  t.is((svg.match(/<rect x="\d/g) ?? []).length - 3, MODES.length * 2 + 4, "a bar per mode and session, four seed bars (legend swatches aside)");
  t.regex(svg, /seed: fully protected/);
});

test("a plain grpc-js Conf and ours make the same calls for the same session", async (t) => {
  const shape = confShape(40);
  const calls: number[] = [];
  for (const id of ["grpc", "full"] as const) {
    const s = await confSubject(MODES.find((m) => m.id === id)!);
    try {
      await s.play(shape);
      calls.push(s.calls());
      t.is(s.refused(), 0);
    } finally {
      await s.close();
    }
  }
  t.is(calls[0], calls[1]);
  t.is(calls[0], 1 + (shape.uploads + 1) + 2 * (shape.revisions + 1) + 2 * shape.revisions + 1 + shape.shepherds + 1);
});
