/**
 * `secsession bench`: random runs of a session in each protection mode
 * beside plain grpc-js, on a session that is not hard-wired (Proxy binds a
 * role during the session; Conf loops), and the refusals.
 */
import test from "ava";
import { PROTECTION_MODES } from "../../cli/bench/modes.js";
import { cli } from "../support/cli.js";

const rowOf = (out: string, mode: string) => out.split("\n").find((l) => l.startsWith(`| ${mode}:`));

test("bench: a table with plain grpc-js, protection off and the modes asked for; no honest message refused", async (t) => {
  const r = await cli(["bench", "examples/proxy/proxy.proto", "--sessions", "3", "--reps", "1", "--modes", "full,privacy"]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^secsession bench: session Proxy, 3 random runs \(\d+ messages, \d+ gRPC calls\)/);
  for (const mode of ["grpc", "off", "full", "privacy"]) t.truthy(rowOf(r.stdout, mode), `no row for ${mode}:\n${r.stdout}`);
  t.falsy(rowOf(r.stdout, "signatures"));
  t.regex(rowOf(r.stdout, "grpc")!, /\| 1\.00 \| – \|$/);
});

test("bench: a session with loops and choices (Conf) plays the same runs in every mode", async (t) => {
  const r = await cli(["bench", "examples/conf/conf.proto", "--sessions", "4", "--reps", "1", "--modes", "signatures", "--seed", "7"]);
  t.is(r.status, 0, r.stderr);
  t.truthy(rowOf(r.stdout, "signatures"));
});

test("bench: usage errors exit 2 and say what to do", async (t) => {
  const commit = await cli(["bench", "examples/commit/commit.proto"]);
  t.is(commit.status, 2);
  t.regex(commit.stderr, /session Commit cannot be benchmarked: its message \/commit\.Worker\/Reveal must open an earlier commitment/);
  const mode = await cli(["bench", "examples/conf/conf.proto", "--modes", "fast"]);
  t.is(mode.status, 2);
  t.regex(mode.stderr, /unknown mode "fast": the modes are off, replay/);
  const n = await cli(["bench", "examples/conf/conf.proto", "--sessions", "0"]);
  t.is(n.status, 2);
  t.regex(n.stderr, /--sessions needs a positive integer/);
});

test("bench --help lists every protection mode the command runs", async (t) => {
  const r = await cli(["bench", "--help"]);
  t.is(r.status, 0);
  t.true(r.stdout.includes(`Modes: ${PROTECTION_MODES.map((m) => m.id).join(", ")}.`), r.stdout);
});
