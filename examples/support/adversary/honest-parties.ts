/**
 * Honest parties of the two sessions whose example directories have no
 * parties module (Shopping runs as a demo, Escrow as a wire test): written
 * against the generated role APIs exactly like the other examples' parties.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { ShoppingC, ShoppingO, ShoppingW } from "../../../gen/shopping/shopping_secsession.js";
import { EscrowB, EscrowE, EscrowS } from "../../../gen/escrow/escrow_secsession.js";
import { Trace } from "../trace.js";

/** Shopping c serves Customer so that w's Offer or Reject reaches it (neither starts a session). */
export function serveCustomer(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, ShoppingC, {});
}

/** Shopping c: asks for `item`, asks for a change `changes` times, then accepts (or aborts on a Reject). */
export async function runCustomer(runtime: SessionRuntime, bindings: { c: string; o: string; w: string }, choices: { item: string; changes: number }, trace = new Trace()): Promise<string> {
  const s0 = await runtime.start(ShoppingC, bindings);
  let waiting = await s0.request({ item: choices.item });
  for (let round = 0; ; round++) {
    const r = await waiting.receive();
    if (r.kind === "reject") {
      trace.got("c", "w", `Reject(${r.message.reason})`);
      trace.end("c", await r.next.abort({}));
      return "aborted";
    }
    trace.got("c", "w", `Offer(${r.message.offer})`);
    if (round >= choices.changes) {
      trace.end("c", await r.next.accept({}));
      return `bought at ${r.message.offer}`;
    }
    waiting = await r.next.change({ change: `round ${round + 1}: cheaper please` });
  }
}

/** Shopping o: passes each request on as a contract, then learns the outcome. */
export function serveOffice(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ShoppingO, {
    request: async ({ message, next }) => {
      trace.got("o", "c", `Request(${message.item})`);
      const end = await (await next.contract({ contract: message.item })).receive();
      trace.got("o", end.kind === "confirm" ? "w" : "c", end.kind === "confirm" ? "Confirm" : "Abort");
      trace.end("o", end.next);
    },
  });
}

/** Shopping w: offers each of `prices` in turn while c asks for changes, rejects when none is left, confirms an accept. */
export function serveWarehouse(runtime: SessionRuntime, server: grpc.Server, options: { prices: readonly number[]; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, ShoppingW, {
    contract: async ({ message, next }) => {
      trace.got("w", "o", `Contract(${message.contract})`);
      const prices = [...options.prices];
      let s = next;
      for (;;) {
        const price = prices.shift();
        if (price === undefined) return trace.end("w", await s.reject({ reason: "out of stock" }));
        const answer = await (await s.offer({ offer: `${price} EUR` })).receive();
        trace.got("w", "c", answer.kind === "accept" ? "Accept" : `Change(${answer.message.change})`);
        if (answer.kind === "accept") return trace.end("w", await answer.next.confirm({}));
        s = answer.next;
      }
    },
  });
}

/** Escrow b: deposits, gets the deposit id once the seller shipped, closes the deal. */
export async function runBuyer(runtime: SessionRuntime, bindings: { b: string; e: string; s: string }, choices: { amountCents: bigint }, trace = new Trace()): Promise<string> {
  const s0 = await runtime.start(EscrowB, bindings);
  const deposited = await s0.deposit({ card: "4111 1111 1111 1111", amountCents: choices.amountCents });
  trace.got("b", "e", `Deposit(${deposited.message.depositId})`);
  trace.end("b", await deposited.next.close({ note: "received, thanks" }));
  return deposited.message.depositId;
}

/** Escrow e: holds each deposit, has the seller ship, answers with the deposit id, takes the close. */
export function serveAgent(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, EscrowE, {
    deposit: async ({ message, next }) => {
      trace.got("e", "b", `Deposit(${message.amountCents})`);
      const shipped = await next.notify({ order: `order of ${message.amountCents} cents` });
      trace.got("e", "s", `Shipment(${shipped.message.tracking})`);
      const closing = await (await shipped.next.depositResponse({ depositId: `D-${shipped.message.tracking}` })).receive();
      trace.got("e", "b", `Close(${closing.message.note})`);
      trace.end("e", closing.next);
    },
  });
}

/** Escrow s: ships each order it is notified of. */
export function serveSeller(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, EscrowS, {
    notify: async ({ message, next }) => {
      trace.got("s", "e", `Notify(${message.order})`);
      trace.end("s", await next.notifyResponse({ tracking: "TRACK-42" }));
    },
  });
}
