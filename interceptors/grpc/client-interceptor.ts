/**
 * The client interceptor: seals the outgoing session message when it really
 * passes to the transport (so steps and history follow the order messages
 * leave, even if grpc-js calls us asynchronously), and opens the response
 * (a response envelope, or the receipt of a one-way message).
 */
import { InterceptingCall, type Interceptor, type Metadata } from "@grpc/grpc-js";
import { SecSessionError } from "../errors.js";
import { CheckedReceipt, PendingSend, RefusedResponse, SealedBytes, sealThenPass } from "./sealed.js";

/** Creates the client interceptor of a runtime. */
export function createClientInterceptor(inject: (metadata: Metadata) => void = () => undefined): Interceptor {
  return (options, nextCall) => {
    let pending: PendingSend | undefined;
    let answered = false;
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        inject(metadata); // the caller's trace context, for the server's spans (runtime/telemetry.ts)
        next(metadata, {
          onReceiveMessage(message: unknown, nextMessage: (m: unknown) => void) {
            if (pending === undefined || !(message instanceof SealedBytes)) return nextMessage(message);
            // A session rpc is unary: only the first answer is checked; grpc-js fails a call that gets more.
            if (answered) return;
            answered = true;
            const p = pending;
            const sent = p.sealed!;
            const peer = call.getPeer();
            if (p.edge.kind === "oneway") {
              try {
                p.party.checkReceipt(message.bytes, sent, p.edge, peer, p.expectedReceipt);
                nextMessage(new CheckedReceipt(sent));
              } catch (e: unknown) {
                nextMessage(new RefusedResponse(SecSessionError.from(e, "bad-ack")));
              }
              return;
            }
            // A response must belong to the session of this call (checked by unwrap, with one decode).
            p.party.unwrap(message.bytes, p.edge.rpc, ["response"], peer, p.sessionKey).then(
              (r) => nextMessage(r),
              (e: unknown) => nextMessage(new RefusedResponse(SecSessionError.from(e))),
            );
          },
        });
      },
      sendMessage(message: unknown, next: (m: unknown) => void) {
        if (!(message instanceof PendingSend)) return next(message);
        pending = message;
        sealThenPass(message, next, (err) => call.cancelWithStatus(err.code, err.message));
      },
    });
    return call;
  };
}
