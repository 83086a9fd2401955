/**
 * The client interceptor: seals the outgoing session message when it really
 * passes to the transport (so steps and history follow the order messages
 * leave, even if grpc-js calls us asynchronously), and opens the response
 * (a response envelope, or the receipt of a one-way message).
 */
import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";
import { SecSessionError } from "../errors.js";
import { CheckedReceipt, PendingSend, RefusedResponse, SealedBytes, sealThenPass } from "./sealed.js";
import { fromBinary } from "@bufbuild/protobuf";
import { EnvelopeSchema } from "../../gen/secsession/v1/envelope_pb.js";
import { defences } from "../monitor/defences.js";
import { hex } from "../wire/encoding.js";

/** The session a response names when it is not `sessionKey` (undefined: same session, or not decodable — unwrap refuses that). */
function otherSession(bytes: Uint8Array, sessionKey: string): { sid: string; edge: number } | undefined {
  let sid: string;
  let edge: number;
  try {
    const env = fromBinary(EnvelopeSchema, bytes);
    sid = hex(env.sessionId);
    edge = env.edge;
  } catch {
    return undefined;
  }
  return sid === sessionKey ? undefined : { sid, edge };
}

/** Creates the client interceptor of a runtime. */
export function createClientInterceptor(): Interceptor {
  return (options, nextCall) => {
    let pending: PendingSend | undefined;
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveMessage(message: unknown, nextMessage: (m: unknown) => void) {
            if (pending === undefined || !(message instanceof SealedBytes)) return nextMessage(message);
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
            // A response names its session; it must be the session of this call, or a
            // response swapped in from another session would be checked (and committed) there.
            const foreign = defences.responseSession ? otherSession(message.bytes, p.sessionKey) : undefined;
            if (foreign !== undefined) {
              const reason = `the response belongs to session ${foreign.sid}, not to session ${p.sessionKey} of this call`;
              nextMessage(new RefusedResponse(p.party.core.alert(new SecSessionError("not-addressed", reason), foreign.sid, foreign.edge, peer)));
              return;
            }
            p.party.unwrap(message.bytes, p.edge.rpc, ["response"], peer).then(
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
