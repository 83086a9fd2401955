/**
 * The Wsne session (two parties, one loop) as the overhead benchmark plays
 * it with our runtime: c asks w, then `extras` more times about the same
 * query (the runtime checks `query == Request.query`), then exits.
 */
import type { RoleDefinition, SessionDescriptor } from "../../interceptors/index.js";
import { defineRole } from "../../interceptors/api/role.js";
import { file_wsne_wsne } from "../../gen/wsne/wsne_pb.js";
import { WsneSession, type WsneCMachine, type WsneWMachine } from "../../gen/wsne/wsne_secsession.js";
import type { Cluster } from "../../test/support/parties.js";

export interface WsneShape {
  readonly extras: number;
  /** The query of every request (its length sets the message size). */
  readonly query: string;
}

/** Messages of one session: Request and its reply, each Extra and its reply, Exit. */
export function wsneMessages(s: WsneShape): number {
  return 3 + 2 * s.extras;
}

export const WSNE_PRINCIPALS = { c: "client", w: "worker" } as const;

/** The Wsne roles played on `descriptor`. */
export function wsneRoles(descriptor: SessionDescriptor = WsneSession): { c: RoleDefinition<WsneCMachine>; w: RoleDefinition<WsneWMachine> } {
  return { c: defineRole<WsneCMachine>(descriptor, "c", file_wsne_wsne), w: defineRole<WsneWMachine>(descriptor, "w", file_wsne_wsne) };
}

/** Serves w: a reply to every request until c exits. */
export function serveWsne(c: Cluster, roles: ReturnType<typeof wsneRoles>, onError: (e: unknown) => void): void {
  const w = c.peers[WSNE_PRINCIPALS.w]!;
  let fare = 0n;
  const reply = () => ({ outcome: { case: "reply", value: { result: ++fare } } }) as const;
  w.runtime.serve(w.server, roles.w, {
    request: async ({ next }) => {
      try {
        let s = await next.requestReply(reply());
        for (;;) {
          const m = await s.receive();
          if (m.kind === "exit") return;
          s = await m.next.extraReply(reply());
        }
      } catch (e: unknown) {
        onError(e);
      }
    },
  });
}

/** c plays one session; resolves when w has accepted Exit. */
export async function playWsne(c: Cluster, roles: ReturnType<typeof wsneRoles>, shape: WsneShape): Promise<void> {
  const rt = c.peers[WSNE_PRINCIPALS.c]!.runtime;
  const first = await (await rt.start(roles.c, WSNE_PRINCIPALS)).request({ query: shape.query });
  if (first.kind !== "requestReply") throw new Error("Wsne: w answered with a fault");
  let s = first.next;
  for (let i = 0; i < shape.extras; i++) {
    const more = await s.extra({ query: shape.query });
    if (more.kind !== "extraReply") throw new Error("Wsne: w answered with a fault");
    s = more.next;
  }
  await s.exit({});
}
