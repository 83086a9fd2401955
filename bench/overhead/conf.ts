/**
 * The Conf session as the overhead benchmark plays it with our runtime: its
 * three roles on three runtimes and gRPC servers on loopback, and sessions
 * whose loops carry a given number of messages (the seed's Conf benchmark:
 * 10,000 messages in all).
 *
 * One session: Cfp; `uploads` rounds of Upload / BadFormat, then Upload / Ok;
 * `revisions` rounds of Submit, Paper, ReqRevision, Revise; Submit, Paper,
 * Close / Done; `shepherds` rounds of Shepherd / Rebuttal; Reject. The shape
 * travels in the Cfp call (`"uploads revisions shepherds"`), so that sessions
 * can run concurrently without shared state.
 */
import type { RoleDefinition, SessionDescriptor } from "../../interceptors/index.js";
import { defineRole } from "../../interceptors/api/role.js";
import { file_conf_conf } from "../../gen/conf/conf_pb.js";
import { ConfSession, type ConfAuthorMachine, type ConfConfmanMachine, type ConfPcMachine } from "../../gen/conf/conf_secsession.js";
import type { Cluster } from "../../test/support/parties.js";

/** How many rounds each loop of one Conf session makes. */
export interface ConfShape {
  readonly uploads: number;
  readonly revisions: number;
  readonly shepherds: number;
}

/** Messages (envelopes: requests, responses and one-way messages) of one session of `shape`. */
export function confMessages(s: ConfShape): number {
  return 8 + 2 * s.uploads + 4 * s.revisions + 2 * s.shepherds;
}

/** A shape of about `messages` messages (at least 8), spread over the three loops as 1 : 1.5 : 1 rounds. */
export function confShape(messages: number): ConfShape {
  const rest = Math.max(0, Math.floor((messages - 8) / 2)); // in units of two messages
  const revisions = Math.floor((rest * 3) / 7 / 2);
  const uploads = Math.floor((rest - 2 * revisions) / 2);
  return { uploads, revisions, shepherds: rest - 2 * revisions - uploads };
}

export const PRINCIPALS = { pc: "committee", author: "alice", confman: "easychair" } as const;

/** The Conf roles played on `descriptor` (the generated one, or a variant with other attributes). */
export function confRoles(descriptor: SessionDescriptor = ConfSession): {
  pc: RoleDefinition<ConfPcMachine>;
  author: RoleDefinition<ConfAuthorMachine>;
  confman: RoleDefinition<ConfConfmanMachine>;
} {
  return {
    pc: defineRole<ConfPcMachine>(descriptor, "pc", file_conf_conf),
    author: defineRole<ConfAuthorMachine>(descriptor, "author", file_conf_conf),
    confman: defineRole<ConfConfmanMachine>(descriptor, "confman", file_conf_conf),
  };
}

/** Serves author and confman (and pc, for the messages it receives) on the cluster's servers. */
export function serveConf(c: Cluster, roles: ReturnType<typeof confRoles>, onError: (e: unknown) => void): void {
  const peer = (id: string) => c.peers[id]!;
  peer(PRINCIPALS.pc).runtime.serve(peer(PRINCIPALS.pc).server, roles.pc, {});
  peer(PRINCIPALS.author).runtime.serve(peer(PRINCIPALS.author).server, roles.author, {
    cfp: async ({ message, next }) => {
      try {
        let bad = Number(message.call.split(" ")[0]);
        let upload = await next.upload({ paper: bad > 0 ? "paper.docx" : "paper.pdf" });
        while (upload.kind === "uploadBadFormat") {
          bad--;
          upload = await upload.next.upload({ paper: bad > 0 ? "paper.docx" : "paper.pdf" });
        }
        let ready = upload.next;
        for (let version = 1; ; version++) {
          const m = await (await ready.submit({ paper: `paper.pdf v${version}` })).receive();
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
      } catch (e: unknown) {
        onError(e);
      }
    },
  });
  peer(PRINCIPALS.confman).runtime.serve(peer(PRINCIPALS.confman).server, roles.confman, {
    upload: async (first) => {
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
      } catch (e: unknown) {
        onError(e);
      }
    },
  });
}

/** pc plays one session of `shape`; resolves when the author has accepted the final Reject. */
export async function playConf(c: Cluster, roles: ReturnType<typeof confRoles>, shape: ConfShape): Promise<void> {
  const pc = c.peers[PRINCIPALS.pc]!.runtime;
  let revisions = shape.revisions;
  let waiting = await (await pc.start(roles.pc, PRINCIPALS)).cfp({ call: `${shape.uploads} ${shape.revisions} ${shape.shepherds}` });
  for (;;) {
    const m = await waiting.receive();
    if (m.kind === "retract") throw new Error("Conf: the author withdrew, which this benchmark never does");
    if (revisions-- > 0) {
      waiting = await m.next.reqRevision({ comments: "please shorten section 3" });
      continue;
    }
    let s = (await m.next.close({})).next;
    for (let round = 1; round <= shape.shepherds; round++) s = (await s.shepherd({ comments: `round ${round}` })).next;
    await s.reject({});
    return;
  }
}
