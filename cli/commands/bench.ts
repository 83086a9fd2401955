/**
 * `secsession bench <file.proto> [--session NAME]`: what protection costs on
 * the user's own session. Random legal runs of the session over gRPC on
 * loopback, in each protection mode, beside the same messages over plain
 * grpc-js; prints the overhead table.
 */
import type { Command, Io } from "../command.js";

/** The mode names, for the help (the modes themselves load with the command: they need the runtime). */
const MODE_IDS = ["off", "replay", "mac-noverify", "full", "static", "signatures", "privacy"];

export const bench: Command = {
  kind: "command",
  summary: "measure what protection costs on a session of yours: random runs over loopback gRPC in each mode, beside plain grpc-js",
  usage: "secsession bench <file.proto> [--session NAME] [--sessions N] [--reps R] [--modes LIST] [--seed S] [--json FILE] [-I DIR]...",
  help: `Usage: secsession bench <file.proto> [--session NAME] [--sessions N] [--reps R] [--modes LIST] [--seed S] [--json FILE] [-I DIR]...

Plays random legal runs of a session the file declares, over gRPC on loopback
in this process (one principal, runtime and server per role), in each
protection mode, and the same messages over plain grpc-js with none of our
code; prints a table: time per session and per message, and the ratio to
plain grpc-js and to our runtime with protection off.

Each run picks the moves of every choice at random (seeded: every mode plays
the same runs) and steers to the end after 64 messages. Messages carry
default field values, except what the protocol fixes (the case of a response
branch, a bound principal, a field a where clause makes equal to an earlier
one). The plain baseline makes one unary call per request or one-way message,
one after another. Modes: ${MODE_IDS.join(", ")}.

Options:
  --session NAME        the session, when the file declares several
  --sessions N          sessions per mode and repetition (default 20)
  --reps R              repetitions, modes interleaved; the median is reported (default 3)
  --modes LIST          comma-separated modes to run (default: all; off always runs)
  --seed S              seed of the first run (default 1)
  --json FILE           also write the measurements as JSON
  -I, --proto-path DIR  an import root (repeatable), as for secsession check
  -h, --help            this help

Needs buf, as secsession check does.
Exit codes: 0 measured, 1 the file has problems or a run failed, 2 usage error.`,
  async run(args: readonly string[], io: Io): Promise<number> {
    // Loaded when run: the runtime and grpc-js would slow every other command's start.
    const { runBench } = await import("../bench/run.js");
    return runBench(args, io);
  },
};
