/**
 * Shopping played with the transport-agnostic Party API: one runtime per
 * principal, messages handed from wrap to unwrap and receipts back.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { create, type Message } from "@bufbuild/protobuf";
import { ShoppingC, ShoppingO, ShoppingSession, ShoppingW } from "../../gen/shopping/shopping_secsession.js";
import {
  createMemoryStore,
  createSessionRuntime,
  generateIdentity,
  publicKeysOf,
  staticResolver,
  withHighWater,
  type EdgeDescriptor,
  type Identity,
  type KeyResolver,
  type Party,
  type Received,
  type SessionRuntime,
} from "../../interceptors/index.js";
import type { RoleDefinition } from "../../interceptors/api/role.js";
import type { Reply, Request } from "./fixtures/wire.js";

export type Principal = "customer" | "office" | "warehouse";
export const ROLE_OF: Readonly<Record<Principal, "c" | "o" | "w">> = { customer: "c", office: "o", warehouse: "w" };
export const DEF: Readonly<Record<Principal, RoleDefinition>> = { customer: ShoppingC, office: ShoppingO, warehouse: ShoppingW };
export const BINDINGS = { c: "customer", o: "office", w: "warehouse" } as const;

/** The Shopping edge carried by rpc `name` (`Offer`, `Change`, …). */
export function edge(name: string): EdgeDescriptor {
  const e = ShoppingSession.edges.find((x) => x.rpc.endsWith(`/${name}`));
  if (e === undefined) throw new Error(`no edge ${name}`);
  return e;
}

export interface Shop {
  readonly identities: Readonly<Record<Principal, Identity>>;
  readonly resolver: KeyResolver;
  readonly runtimes: Readonly<Record<Principal, SessionRuntime>>;
  readonly parties: Readonly<Record<Principal, Party>>;
  /** A runtime for `who` with a fresh store (another process, as far as sessions go). */
  fresh(who: Principal): { runtime: SessionRuntime; party: Party };
}

export function shop(): Shop {
  const identities = { customer: generateIdentity("customer"), office: generateIdentity("office"), warehouse: generateIdentity("warehouse") };
  const resolver = staticResolver(Object.values(identities).map((i) => [i.id, publicKeysOf(i)] as const));
  const make = (who: Principal) => {
    const runtime = createSessionRuntime({ identity: identities[who], resolver, store: withHighWater(createMemoryStore()) });
    return { runtime, party: runtime.party(DEF[who]) };
  };
  const c = make("customer");
  const o = make("office");
  const w = make("warehouse");
  return {
    identities,
    resolver,
    runtimes: { customer: c.runtime, office: o.runtime, warehouse: w.runtime },
    parties: { customer: c.party, office: o.party, warehouse: w.party },
    fresh: make,
  };
}

/** Sends one one-way message from `from` to `to` and checks its receipt; returns what `to` accepted. */
export async function send(from: Party, to: Party, sessionKey: string, name: string, init: Record<string, unknown> = {}): Promise<Received> {
  const e = edge(name);
  const message = create(from.schema(e.messageType), init as never) as Message;
  const out = await from.wrap(sessionKey, e, message);
  const received = await to.unwrap(out.bytes, e.rpc, ["oneway", "request"], from.core.identity.id);
  from.checkReceipt(to.receipt(received), out.state, e, to.core.identity.id, out.expectedReceipt);
  return received;
}

/** Starts a session and plays Request, Contract, then `rounds` × (Offer, Change), then one Offer. Returns the session key. */
export async function negotiate(s: Shop, rounds: number, after?: (from: Principal, to: Principal) => Promise<void>): Promise<string> {
  const st = await s.parties.customer.start(BINDINGS);
  const sid = st.key;
  const step = async (from: Principal, to: Principal, name: string, init: Record<string, unknown> = {}) => {
    await send(s.parties[from], s.parties[to], sid, name, init);
    await after?.(from, to);
  };
  await step("customer", "office", "Request", { item: "bike" });
  await step("office", "warehouse", "Contract", { contract: "bike" });
  for (let i = 0; i < rounds; i++) {
    await step("warehouse", "customer", "Offer", { offer: `${120 - 10 * i}` });
    await step("customer", "warehouse", "Change", { change: "cheaper" });
  }
  await step("warehouse", "customer", "Offer", { offer: `${120 - 10 * rounds}` });
  return sid;
}

/** A child process playing the customer from an export (test/store/fixtures/resume-child.ts). */
export interface Child {
  request(req: Request): Promise<Reply>;
  close(): Promise<number | null>;
}

export function spawnChild(): Child {
  const script = fileURLToPath(new URL("./fixtures/resume-child.ts", import.meta.url));
  const proc = spawn(process.execPath, ["--import=tsx", script], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const lines = createInterface({ input: proc.stdout });
  const waiting: Array<(r: Reply) => void> = [];
  lines.on("line", (l) => waiting.shift()?.(JSON.parse(l) as Reply));
  return {
    request(req) {
      return new Promise<Reply>((resolve, reject) => {
        waiting.push(resolve);
        proc.stdin.write(`${JSON.stringify(req)}\n`, (err) => (err ? reject(err) : undefined));
      });
    },
    async close() {
      if (proc.exitCode === null) {
        await this.request({ op: "exit" }).catch(() => undefined);
        proc.stdin.end();
      }
      return exited;
    },
  };
}
