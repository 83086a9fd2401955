/**
 * Attributes: the parties. The client c opens an account at the bank b,
 * looks up exchange rates and transfers money as its plan says, then closes
 * the account; before answering the close, the bank reports it to the auditor
 * a, which files it and gives the bank its reference. Each rpc has its own
 * security attributes (attributes.proto); the parties' code does not see them.
 */
import type * as grpc from "@grpc/grpc-js";
import type { SessionRuntime } from "secsession";
import { AttributesA, AttributesB, AttributesC } from "../../gen/attributes/attributes_secsession.js";

export type Bindings = { c: string; b: string; a: string };

/** One step of the client's loop. */
export type Move =
  | { readonly rates: string }
  | { readonly transfer: { readonly payee: string; readonly amountCents: bigint; readonly memo: string } };

export interface ClientPlan {
  readonly owner: string;
  readonly moves: readonly Move[];
  readonly reason: string;
}

export interface ClientResult {
  readonly accountId: string;
  readonly openingBalanceCents: bigint;
  /** `currency → micro-euros`, one per rates move. */
  readonly rates: ReadonlyArray<readonly [string, bigint]>;
  /** The bank's confirmation of each transfer, as `payee amount memo`. */
  readonly receipts: readonly string[];
  readonly finalBalanceCents: bigint;
  readonly auditReference: string;
  readonly final: boolean;
}

/** c: opens an account, plays `plan.moves`, closes it. */
export async function runClient(runtime: SessionRuntime, bindings: Bindings, plan: ClientPlan): Promise<ClientResult> {
  const s0 = await runtime.start(AttributesC, bindings);
  const opened = await s0.open({ owner: plan.owner });
  const { accountId, balanceCents } = opened.message;
  const rates: Array<readonly [string, bigint]> = [];
  const receipts: string[] = [];
  let s = opened.next;
  for (const move of plan.moves) {
    if ("rates" in move) {
      const r = await s.rates({ currency: move.rates });
      rates.push([r.message.currency, r.message.microEur]);
      s = r.next;
    } else {
      const r = await s.transfer(move.transfer);
      receipts.push(`${r.message.payee} ${r.message.amountCents} ${r.message.memo}`);
      s = r.next;
    }
  }
  const closed = await s.close({ accountId, reason: plan.reason });
  return {
    accountId,
    openingBalanceCents: balanceCents,
    rates,
    receipts,
    finalBalanceCents: closed.message.finalBalanceCents,
    auditReference: closed.message.auditReference,
    final: closed.next.final,
  };
}

/** Euros per unit, in millionths (public rates: the Rates response goes unprotected). */
export const RATES: Readonly<Record<string, bigint>> = { USD: 920_000n, GBP: 1_170_000n, CHF: 1_060_000n };

/** b: opens accounts with `openingBalanceCents`, answers rates and transfers, reports closings to the auditor. */
export function serveBank(runtime: SessionRuntime, server: grpc.Server, options: { openingBalanceCents?: bigint } = {}): void {
  let accounts = 0;
  runtime.serve(server, AttributesB, {
    open: async ({ message, next }) => {
      const accountId = `${message.owner}-${++accounts}`;
      let balance = options.openingBalanceCents ?? 100_000n;
      let transfers = 0n;
      let s = await next.openResponse({ accountId, balanceCents: balance });
      for (;;) {
        const r = await s.receive();
        if (r.kind === "rates") {
          s = await r.next.ratesResponse({ currency: r.message.currency, microEur: RATES[r.message.currency] ?? 0n });
        } else if (r.kind === "transfer") {
          balance -= r.message.amountCents;
          transfers++;
          const { payee, amountCents, memo } = r.message;
          s = await r.next.transferResponse({ payee, amountCents, memo });
        } else {
          const filed = await (await r.next.report({ accountId, transfers, finalBalanceCents: balance })).receive();
          await filed.next.closeResponse({ finalBalanceCents: balance, auditReference: filed.message.reference });
          return;
        }
      }
    },
  });
}

/** a: files each closing report and returns its reference. */
export function serveAuditor(runtime: SessionRuntime, server: grpc.Server, options: { onReport?: (accountId: string, transfers: bigint, finalBalanceCents: bigint) => void } = {}): void {
  let filed = 0;
  runtime.serve(server, AttributesA, {
    report: async ({ message, next }) => {
      options.onReport?.(message.accountId, message.transfers, message.finalBalanceCents);
      await next.file({ reference: `audit-${++filed}-${message.accountId}` });
    },
  });
}
