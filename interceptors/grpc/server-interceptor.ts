/**
 * The server interceptor: opens each incoming envelope before any handler
 * sees it (a refused message reaches no handler and ends the call with the
 * status of its alert kind) and seals what the handler returns (a response
 * envelope, or the receipt of a one-way message).
 */
import { ServerInterceptingCall, type ServerInterceptor } from "@grpc/grpc-js";
import { refusalStatus, SecSessionError } from "../errors.js";
import type { Party, Received } from "../runtime/party.js";
import { OpenedMessage, PendingReceipt, PendingSend, SealedBytes, sealThenPass } from "./sealed.js";

/** Finds the party that receives a message on `path` (undefined: not a session rpc). */
export type Dispatch = (path: string, bytes: Uint8Array, peer: string) => Promise<{ party: Party; received: Received }> | undefined;

/** Creates the server interceptor of a runtime. */
export function createServerInterceptor(dispatch: Dispatch): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMessage(message: unknown, nextMessage: (m: unknown) => void) {
            if (!(message instanceof SealedBytes)) return nextMessage(message);
            const opened = dispatch(method.path, message.bytes, call.getPeer());
            if (opened === undefined) return nextMessage(message);
            opened.then(
              ({ party, received }) => nextMessage(new OpenedMessage(party, received)),
              (e: unknown) => {
                call.sendStatus(refusalStatus(SecSessionError.from(e)));
              },
            );
          },
        });
      },
      sendMessage(message: unknown, next: (m: unknown) => void) {
        if (message instanceof PendingReceipt) return next(new SealedBytes(message.party.receipt(message.received)));
        if (!(message instanceof PendingSend)) return next(message);
        sealThenPass(message, next, (err) => call.sendStatus(refusalStatus(err)));
      },
    });
}
