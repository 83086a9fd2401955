/**
 * Conf: conference management. The program committee pc sends a call for
 * papers to the author, who uploads files to the conference manager confman
 * until one has the right format. Then, round after round, the author
 * withdraws (confman tells pc) or submits (confman passes the paper to pc,
 * which asks for a revision, relayed to the author, or closes submission).
 * After closing, pc and the author discuss: accept (the author answers with
 * the final version), reject, or shepherd (the author answers with a
 * rebuttal, and the discussion goes on).
 */
import type * as grpc from "@grpc/grpc-js";
import type { Incoming, RoleState, SessionRuntime } from "secsession";
import { ConfAuthor, ConfConfman, ConfPc, type ConfAuthorMachine } from "../../gen/conf/conf_secsession.js";
import { Trace } from "../support/trace.js";

export type Review = "revise" | "close";
export type Verdict = "accept" | "reject" | "shepherd";
export type Outcome = "withdrawn" | "accepted" | "rejected";

/** pc serves ProgramCommittee so that confman's messages reach it (they start no session: no handlers). */
export function servePc(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, ConfPc, {});
}

/**
 * pc: calls for papers; reviews each submitted paper with the next of
 * `reviews` (default: close); then discusses with the next of `verdicts`
 * until it accepts or rejects (default: accept).
 */
export async function runPc(
  runtime: SessionRuntime,
  bindings: { pc: string; author: string; confman: string },
  choices: { call: string; reviews: readonly Review[]; verdicts: readonly Verdict[] },
  trace = new Trace(),
): Promise<Outcome> {
  const reviews = [...choices.reviews];
  const verdicts = [...choices.verdicts];
  const s0 = await runtime.start(ConfPc, bindings);
  let waiting = await s0.cfp({ call: choices.call });
  for (;;) {
    const m = await waiting.receive();
    if (m.kind === "retract") {
      trace.got("pc", "confman", "Retract");
      trace.end("pc", m.next);
      return "withdrawn";
    }
    trace.got("pc", "confman", `Paper(${m.message.paper})`);
    if ((reviews.shift() ?? "close") === "revise") {
      waiting = await m.next.reqRevision({ comments: "please shorten section 3" });
      continue;
    }
    const closed = await m.next.close({});
    trace.got("pc", "confman", "Done");
    let s = closed.next;
    for (let round = 1; ; round++) {
      const verdict = verdicts.shift() ?? "accept";
      if (verdict === "reject") {
        trace.end("pc", await s.reject({}));
        return "rejected";
      }
      if (verdict === "accept") {
        const final = await s.accept({ comments: "congratulations" });
        trace.got("pc", "author", `FinalVersion(${final.message.paper})`);
        trace.end("pc", final.next);
        return "accepted";
      }
      const rebuttal = await s.shepherd({ comments: `shepherding round ${round}` });
      trace.got("pc", "author", `Rebuttal(${rebuttal.message.rebuttal})`);
      s = rebuttal.next;
    }
  }
}

/**
 * author: uploads `files` in turn until confman takes one; then, for each
 * round of `rounds` (default: submit), submits the paper or withdraws it.
 */
export function serveAuthor(runtime: SessionRuntime, server: grpc.Server, options: { files: readonly string[]; rounds: ReadonlyArray<"submit" | "withdraw">; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ConfAuthor, {
    cfp: async ({ message, next }) => {
      trace.got("author", "pc", `Cfp(${message.call})`);
      const files = [...options.files];
      const rounds = [...options.rounds];
      let paper = files.shift() ?? "paper.pdf";
      let upload = await next.upload({ paper });
      while (upload.kind === "uploadBadFormat") {
        const reason = upload.message.outcome.case === "badFormat" ? upload.message.outcome.value.reason : "";
        trace.got("author", "confman", `BadFormat(${reason})`);
        paper = files.shift() ?? paper;
        upload = await upload.next.upload({ paper });
      }
      trace.got("author", "confman", "Ok");
      let ready = upload.next;
      for (let version = 1; ; version++) {
        if ((rounds.shift() ?? "submit") === "withdraw") return trace.end("author", await ready.withdraw({}));
        const waiting = await ready.submit({ paper: `${paper} v${version}` });
        const m = await waiting.receive();
        if (m.kind !== "revise") return discuss(m, `${paper} v${version}`);
        trace.got("author", "confman", "Revise");
        ready = m.next;
      }
    },
  });

  /** The discussion with pc, after submission closed. */
  async function discuss(m: Incoming<ConfAuthorMachine, 8>, paper: string): Promise<void> {
    for (;;) {
      if (m.kind === "reject") {
        trace.got("author", "pc", "Reject");
        return trace.end("author", m.next);
      }
      trace.got("author", "pc", `${m.kind === "accept" ? "Accept" : "Shepherd"}(${m.message.comments})`);
      if (m.kind === "accept") return trace.end("author", await m.next.acceptResponse({ paper: `${paper} (camera-ready)` }));
      const waiting: RoleState<ConfAuthorMachine, 8> = await m.next.shepherdResponse({ rebuttal: `answer to "${m.message.comments}"` });
      m = await waiting.receive();
    }
  }
}

/** confman: takes PDF uploads only; relays submissions, withdrawals and revision requests. */
export function serveConfman(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ConfConfman, {
    upload: async (first) => {
      let upload = first;
      for (;;) {
        trace.got("confman", "author", `Upload(${upload.message.paper})`);
        if (upload.message.paper.endsWith(".pdf")) break;
        const again = await upload.next.uploadBadFormat({ outcome: { case: "badFormat", value: { reason: "PDF only" } } });
        upload = await again.receive();
      }
      let ready = await upload.next.uploadOk({ outcome: { case: "ok", value: {} } });
      for (;;) {
        const m = await ready.receive();
        if (m.kind === "withdraw") {
          trace.got("confman", "author", "Withdraw");
          return trace.end("confman", await m.next.retract({}));
        }
        trace.got("confman", "author", `Submit(${m.message.paper})`);
        const review = await (await m.next.paper({ paper: m.message.paper })).receive();
        if (review.kind === "close") {
          trace.got("confman", "pc", "Close");
          return trace.end("confman", await review.next.closeResponse({}));
        }
        trace.got("confman", "pc", `ReqRevision(${review.message.comments})`);
        ready = await review.next.revise({});
      }
    },
  });
}
