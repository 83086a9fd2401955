/**
 * The server interceptor: opens each incoming envelope before any handler
 * sees it (a refused message reaches no handler and ends the call with the
 * status of its alert kind) and seals what the handler returns (a response
 * envelope, or the receipt of a one-way message).
 *
 * Session rpcs are unary: a call carries exactly one envelope. The
 * interceptor reads on to the client's half-close before opening anything,
 * and refuses a call that carries a second message without opening either
 * (opening each would commit each, and grpc-js would then fail the call with
 * no handler run). Once a message is opened and committed, the runtime
 * delivers it to its session at once (Dispatch), so commit and delivery
 * happen together even if the call is cancelled meanwhile; the gRPC handler
 * only connects the call to the session's answer.
 */
import { ServerInterceptingCall, type Metadata, type ServerInterceptor } from "@grpc/grpc-js";
import { refusalStatus, SecSessionError } from "../errors.js";
import { OpenedMessage, PendingReceipt, PendingSend, SealedBytes, sealThenPass } from "./sealed.js";
import { defences } from "../monitor/defences.js";

/**
 * Opens a message received on `path` and delivers it to its session
 * (undefined: not a session rpc). Rejects with the refusal.
 */
export type Dispatch = (path: string, bytes: Uint8Array, peer: string, metadata?: Metadata) => Promise<OpenedMessage> | undefined;

/** Reports a refusal the interceptor makes itself (a call with several messages). */
export type RefusalSink = (e: SecSessionError, peer: string) => void;

/** Creates the server interceptor of a runtime. */
export function createServerInterceptor(dispatch: Dispatch, refused: RefusalSink = () => undefined): ServerInterceptor {
  return (method, call) => {
    let first: SealedBytes | undefined;
    let deliver: ((m: unknown) => void) | undefined;
    let done = false;
    let metadata: Metadata | undefined; // the caller's, for the trace context of the message's span
    // The defence switched off (tests only): each message is opened as it arrives, as before it existed.
    const openAtOnce = (message: SealedBytes, nextMessage: (m: unknown) => void): void => {
      const opened = dispatch(method.path, message.bytes, call.getPeer(), metadata);
      if (opened === undefined) return nextMessage(message);
      opened.then(nextMessage, (e: unknown) => call.sendStatus(refusalStatus(SecSessionError.from(e))));
    };
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(m: Metadata, nextMetadata: (m: Metadata) => void) {
            metadata = m;
            nextMetadata(m);
          },
          onReceiveMessage(message: unknown, nextMessage: (m: unknown) => void) {
            if (!(message instanceof SealedBytes)) return nextMessage(message);
            if (!defences.oneMessagePerCall) return openAtOnce(message, nextMessage);
            if (done) return;
            if (first !== undefined) {
              done = true;
              const err = new SecSessionError("malformed", "a session rpc carries exactly one message per call; this call carried more, and none of them was opened");
              refused(err, call.getPeer());
              call.sendStatus(refusalStatus(err));
              return;
            }
            first = message;
            deliver = nextMessage;
            call.startRead(); // read on to the half-close (or a second message) before opening anything
          },
          onReceiveHalfClose(halfClose: () => void) {
            if (!defences.oneMessagePerCall) return halfClose();
            if (done) return;
            if (first === undefined || deliver === undefined) return halfClose();
            done = true;
            const pass = deliver;
            const opened = dispatch(method.path, first.bytes, call.getPeer(), metadata);
            if (opened === undefined) {
              pass(first);
              halfClose();
              return;
            }
            opened.then(
              (m) => {
                pass(m);
                halfClose();
              },
              (e: unknown) => call.sendStatus(refusalStatus(SecSessionError.from(e))),
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
  };
}
