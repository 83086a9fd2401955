/**
 * Conf's conference manager (confman) as a replicated role: the same policy
 * as examples/conf/parties.ts (PDF uploads only; submissions go to pc,
 * withdrawals are retracted, revision requests are relayed, Close is
 * answered), written as one handler per message it receives, so that any
 * replica can take any message of a session (runtime.serveReplicated).
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { ConfConfman } from "../../gen/conf/conf_secsession.js";

/** One message a replica handled: which replica, which move, which session. */
export interface Handled {
  readonly replica: string;
  readonly move: string;
  readonly session: string;
  readonly detail: string;
}

/** Serves confman on `server` as one replica named `replica`; `onHandled` hears of every message it handles. */
export function serveConfmanReplica(runtime: SessionRuntime, server: grpc.Server, replica: string, onHandled: (h: Handled) => void = () => undefined): void {
  const seen = (move: string, session: string, detail = "") => onHandled({ replica, move, session, detail });
  runtime.serveReplicated(server, ConfConfman, {
    upload: async ({ message, next }) => {
      seen("upload", next.sessionId, message.paper);
      if (!message.paper.endsWith(".pdf")) {
        await next.uploadBadFormat({ outcome: { case: "badFormat", value: { reason: "PDF only" } } });
        return;
      }
      await next.uploadOk({ outcome: { case: "ok", value: {} } });
    },
    submit: async ({ message, next }) => {
      seen("submit", next.sessionId, message.paper);
      await next.paper({ paper: message.paper });
    },
    withdraw: async ({ next }) => {
      seen("withdraw", next.sessionId);
      await next.retract({});
    },
    reqRevision: async ({ message, next }) => {
      seen("reqRevision", next.sessionId, message.comments);
      await next.revise({});
    },
    close: async ({ next }) => {
      seen("close", next.sessionId);
      await next.closeResponse({});
    },
  });
}
