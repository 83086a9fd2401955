/**
 * Conf with signatures and non-repudiation on every edge, played by three
 * real peers over gRPC on loopback, each appending to its own evidence log.
 *
 * The generated ConfSession uses HMAC; the variant here sets every edge's and
 * the session's security to Ed25519 with non-repudiation and recomputes the
 * session code, and every role (on both sides) is defined on the variant so
 * the codes match.
 */
import type * as grpc from "@grpc/grpc-js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sessionCode, type SessionDescriptor, type DirectionSecurity } from "../../interceptors/index.js";
import { defineRole } from "../../interceptors/api/role.js";
import { keyringJson, publicKeysOf } from "../../interceptors/keys/identity.js";
import { createFileEvidenceLog } from "../../interceptors/evidence/index.js";
import { ConfSession, type ConfAuthorMachine, type ConfConfmanMachine, type ConfPcMachine } from "../../gen/conf/conf_secsession.js";
import { file_conf_conf } from "../../gen/conf/conf_pb.js";
import { cluster } from "../support/parties.js";

const signed = <T extends DirectionSecurity>(s: T): T => ({ ...s, authenticity: "ed25519", nonRepudiation: true });

const body: Omit<SessionDescriptor, "code"> = {
  ...ConfSession,
  security: signed(ConfSession.security),
  edges: ConfSession.edges.map((e) => ({ ...e, security: signed(e.security) })),
};

/** ConfSession with Ed25519 and non-repudiation everywhere. */
export const SignedConfSession: SessionDescriptor = { ...body, code: sessionCode(body) };
export const SignedConfPc = defineRole<ConfPcMachine>(SignedConfSession, "pc", file_conf_conf);
export const SignedConfAuthor = defineRole<ConfAuthorMachine>(SignedConfSession, "author", file_conf_conf);
export const SignedConfConfman = defineRole<ConfConfmanMachine>(SignedConfSession, "confman", file_conf_conf);

export const PRINCIPALS = { pc: "committee", author: "alice", confman: "easychair" } as const;

export interface SignedConfRun {
  /** Evidence log file of each principal. */
  readonly logs: Record<string, string>;
  /** Keyring file with the public keys of the three principals. */
  readonly keyring: string;
  /** The messages pc saw, in order (for sanity checks). */
  readonly trace: string[];
}

/**
 * Runs two sessions in `dir` (`interceptors`: extra client interceptors of a
 * principal, which see sealed envelopes): (1) Upload bad_format then ok; Submit;
 * ReqRevision/Revise; Submit; Close; Shepherd twice; Accept. (2) Upload ok;
 * Withdraw; Retract.
 */
export async function runSignedConf(dir: string, options: { interceptors?: Record<string, grpc.Interceptor[]> } = {}): Promise<SignedConfRun> {
  const ids = Object.values(PRINCIPALS);
  const logs = Object.fromEntries(ids.map((id) => [id, join(dir, `${id}.evidence.jsonl`)]));
  const c = cluster(ids, (id) => ({ evidence: createFileEvidenceLog(logs[id]!), interceptors: options.interceptors?.[id] ?? [] }));
  const trace: string[] = [];
  const peer = (id: string) => c.peers[id]!;
  const done: Array<Promise<void>> = [];
  let rounds: Array<"submit" | "withdraw"> = [];

  peer(PRINCIPALS.pc).runtime.serve(peer(PRINCIPALS.pc).server, SignedConfPc, {});
  peer(PRINCIPALS.author).runtime.serve(peer(PRINCIPALS.author).server, SignedConfAuthor, {
    cfp: async ({ next }) => {
      let finish!: () => void;
      done.push(new Promise<void>((r) => (finish = r)));
      try {
        const files = ["paper.docx", "paper.pdf"];
        let upload = await next.upload({ paper: files.shift()! });
        while (upload.kind === "uploadBadFormat") upload = await upload.next.upload({ paper: files.shift() ?? "paper.pdf" });
        let ready = upload.next;
        for (let version = 1; ; version++) {
          if ((rounds.shift() ?? "submit") === "withdraw") {
            await ready.withdraw({});
            return;
          }
          const m = await (await ready.submit({ paper: `paper v${version}` })).receive();
          if (m.kind === "revise") {
            ready = m.next;
            continue;
          }
          let d = m;
          for (;;) {
            if (d.kind === "reject") return;
            if (d.kind === "accept") {
              await d.next.acceptResponse({ paper: "camera-ready" });
              return;
            }
            d = await (await d.next.shepherdResponse({ rebuttal: `answer to ${d.message.comments}` })).receive();
          }
        }
      } finally {
        finish();
      }
    },
  });
  peer(PRINCIPALS.confman).runtime.serve(peer(PRINCIPALS.confman).server, SignedConfConfman, {
    upload: async (first) => {
      let finish!: () => void;
      done.push(new Promise<void>((r) => (finish = r)));
      try {
        let upload = first;
        while (!upload.message.paper.endsWith(".pdf")) {
          upload = await (await upload.next.uploadBadFormat({ outcome: { case: "badFormat", value: { reason: "PDF only" } } })).receive();
        }
        let ready = await upload.next.uploadOk({ outcome: { case: "ok", value: {} } });
        for (;;) {
          const m = await ready.receive();
          if (m.kind === "withdraw") {
            await m.next.retract({});
            return;
          }
          const review = await (await m.next.paper({ paper: m.message.paper })).receive();
          if (review.kind === "close") {
            await review.next.closeResponse({});
            return;
          }
          ready = await review.next.revise({});
        }
      } finally {
        finish();
      }
    },
  });
  await c.listen();
  try {
    // Session 1: revision, two shepherding rounds, accept.
    rounds = ["submit", "submit"];
    const pc = peer(PRINCIPALS.pc).runtime;
    let waiting = await (await pc.start(SignedConfPc, PRINCIPALS)).cfp({ call: "CSF 2026" });
    let reviews = ["revise", "close"];
    for (;;) {
      const m = await waiting.receive();
      if (m.kind === "retract") throw new Error("unexpected retract");
      trace.push(`Paper(${m.message.paper})`);
      if (reviews.shift() === "revise") {
        waiting = await m.next.reqRevision({ comments: "shorten section 3" });
        continue;
      }
      let s = (await m.next.close({})).next;
      for (let round = 1; round <= 2; round++) {
        const r = await s.shepherd({ comments: `round ${round}` });
        trace.push(`Rebuttal(${r.message.rebuttal})`);
        s = r.next;
      }
      const final = await s.accept({ comments: "congratulations" });
      trace.push(`FinalVersion(${final.message.paper})`);
      break;
    }
    await Promise.all(done);

    // Session 2: withdraw.
    rounds = ["withdraw"];
    reviews = [];
    const m = await (await (await pc.start(SignedConfPc, PRINCIPALS)).cfp({ call: "CSF 2027" })).receive();
    trace.push(m.kind);
    await Promise.all(done);
    for (const p of Object.values(c.peers)) {
      const refused = Object.keys(p.runtime.metrics.refused);
      if (refused.length > 0) throw new Error(`${p.id} refused messages: ${refused.join(", ")}`);
    }
  } finally {
    await c.close();
  }
  const keyring = join(dir, "keyring.json");
  writeFileSync(keyring, keyringJson(Object.values(c.peers).map((p) => [p.id, publicKeysOf(p.identity)] as const)));
  return { logs, keyring, trace };
}
