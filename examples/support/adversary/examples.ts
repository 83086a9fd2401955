/**
 * Every example session as the adversary suite drives it: its descriptor and
 * role definitions, the principal of each role, a spare principal able to
 * play one role (to try binding it to the wrong peer), how each role is
 * served with the example's own parties, and the initiator's honest run —
 * with choices that go round every loop the protocol has.
 */
import type * as grpc from "@grpc/grpc-js";
import type { RoleDefinition, SessionDescriptor, SessionRuntime } from "secsession";
import { Trace } from "../trace.js";
import * as attributesGen from "../../../gen/attributes/attributes_secsession.js";
import * as authGen from "../../../gen/auth/auth_secsession.js";
import * as commitGen from "../../../gen/commit/commit_secsession.js";
import * as confGen from "../../../gen/conf/conf_secsession.js";
import * as escrowGen from "../../../gen/escrow/escrow_secsession.js";
import * as forwardGen from "../../../gen/forward/forward_secsession.js";
import * as loiGen from "../../../gen/loi/loi_secsession.js";
import * as proxyGen from "../../../gen/proxy/proxy_secsession.js";
import * as rpcGen from "../../../gen/rpc/rpc_secsession.js";
import * as selectGen from "../../../gen/select/select_secsession.js";
import * as shoppingGen from "../../../gen/shopping/shopping_secsession.js";
import * as singleGen from "../../../gen/single/single_secsession.js";
import * as wsGen from "../../../gen/ws/ws_secsession.js";
import * as wsnGen from "../../../gen/wsn/wsn_secsession.js";
import * as wsneGen from "../../../gen/wsne/wsne_secsession.js";
import * as attributes from "../../attributes/parties.js";
import * as auth from "../../auth/parties.js";
import * as commit from "../../commit/parties.js";
import * as conf from "../../conf/parties.js";
import * as forward from "../../forward/parties.js";
import * as loi from "../../loi/parties.js";
import * as proxy from "../../proxy/parties.js";
import * as rpc from "../../rpc/parties.js";
import * as select from "../../select/parties.js";
import * as single from "../../single/parties.js";
import * as ws from "../../ws/parties.js";
import * as wsn from "../../wsn/parties.js";
import * as wsne from "../../wsne/parties.js";
import * as honest from "./honest-parties.js";

/** One principal's runtime and gRPC server. */
export interface Peer {
  readonly id: string;
  readonly runtime: SessionRuntime;
  readonly server: grpc.Server;
}

export interface ExampleSpec {
  /** The directory under examples/. */
  readonly name: string;
  readonly descriptor: SessionDescriptor;
  /** Every role's definition, by role name. */
  readonly roles: Readonly<Record<string, RoleDefinition>>;
  /** The principal of every role in the honest session (dynamically bound roles too). */
  readonly bindings: Readonly<Record<string, string>>;
  /** A principal outside the session that also serves `role` (an honest peer the session did not bind). */
  readonly spare: { readonly role: string; readonly principal: string };
  /** Serves `role`'s handlers on `peer` (nothing when the role serves no service). */
  serveRole(role: string, peer: Peer, trace: Trace): void;
  /** The initiator plays one whole honest session. */
  play(initiator: SessionRuntime, trace: Trace): Promise<unknown>;
}

const transfer = { payee: "FR76-3000-4000", amountCents: 12_500n, memo: "rent" };

export const EXAMPLES: readonly ExampleSpec[] = [
  {
    name: "attributes",
    descriptor: attributesGen.AttributesSession,
    roles: { c: attributesGen.AttributesC, b: attributesGen.AttributesB, a: attributesGen.AttributesA },
    bindings: { c: "client", b: "bank", a: "auditor" },
    spare: { role: "b", principal: "bank-2" },
    serveRole(role, p) {
      if (role === "b") attributes.serveBank(p.runtime, p.server);
      if (role === "a") attributes.serveAuditor(p.runtime, p.server);
    },
    play: (r) =>
      attributes.runClient(r, { c: "client", b: "bank", a: "auditor" }, { owner: "alice", moves: [{ rates: "USD" }, { transfer }, { transfer }, { rates: "GBP" }], reason: "moving abroad" }),
  },
  {
    name: "auth",
    descriptor: authGen.AuthSession,
    roles: { c: authGen.AuthC, a: authGen.AuthA, w: authGen.AuthW, d: authGen.AuthD },
    bindings: { c: "client", a: "gateway", w: "ledger", d: "idp" },
    spare: { role: "a", principal: "gateway-2" },
    serveRole(role, p, trace) {
      if (role === "c") auth.serveC(p.runtime, p.server);
      if (role === "a") auth.serveA(p.runtime, p.server, { trace });
      if (role === "d") auth.serveD(p.runtime, p.server, { trace });
      if (role === "w") auth.serveW(p.runtime, p.server, { balances: { "FR76-0001": 125_000n }, trace });
    },
    play: (r, trace) => auth.runC(r, { c: "client", a: "gateway", w: "ledger", d: "idp" }, { account: "FR76-0001" }, trace),
  },
  {
    name: "commit",
    descriptor: commitGen.CommitSession,
    roles: { c: commitGen.CommitC, w: commitGen.CommitW },
    bindings: { c: "caller", w: "worker" },
    spare: { role: "w", principal: "worker-2" },
    serveRole(role, p, trace) {
      if (role === "w") commit.serveW(p.runtime, p.server, { flip: () => true, trace });
    },
    play: (r, trace) => commit.runC(r, { c: "caller", w: "worker" }, { value: true }, trace),
  },
  {
    name: "conf",
    descriptor: confGen.ConfSession,
    roles: { pc: confGen.ConfPc, author: confGen.ConfAuthor, confman: confGen.ConfConfman },
    bindings: { pc: "committee", author: "alice", confman: "easychair" },
    spare: { role: "author", principal: "alice-2" },
    serveRole(role, p, trace) {
      if (role === "pc") conf.servePc(p.runtime, p.server);
      if (role === "author") conf.serveAuthor(p.runtime, p.server, { files: ["paper.docx", "paper.pdf"], rounds: ["submit", "submit"], trace });
      if (role === "confman") conf.serveConfman(p.runtime, p.server, { trace });
    },
    play: (r, trace) =>
      conf.runPc(r, { pc: "committee", author: "alice", confman: "easychair" }, { call: "CSF 2026", reviews: ["revise", "close"], verdicts: ["shepherd", "accept"] }, trace),
  },
  {
    name: "escrow",
    descriptor: escrowGen.EscrowSession,
    roles: { b: escrowGen.EscrowB, e: escrowGen.EscrowE, s: escrowGen.EscrowS },
    bindings: { b: "buyer", e: "agent", s: "seller" },
    spare: { role: "e", principal: "agent-2" },
    serveRole(role, p, trace) {
      if (role === "e") honest.serveAgent(p.runtime, p.server, { trace });
      if (role === "s") honest.serveSeller(p.runtime, p.server, { trace });
    },
    play: (r, trace) => honest.runBuyer(r, { b: "buyer", e: "agent", s: "seller" }, { amountCents: 12_900n }, trace),
  },
  {
    name: "forward",
    descriptor: forwardGen.ForwardSession,
    roles: { c: forwardGen.ForwardC, p: forwardGen.ForwardP, w: forwardGen.ForwardW },
    bindings: { c: "client", p: "proxy", w: "warehouse" },
    spare: { role: "p", principal: "proxy-2" },
    serveRole(role, p, trace) {
      if (role === "c") forward.serveC(p.runtime, p.server);
      if (role === "p") forward.serveP(p.runtime, p.server, { trace });
      if (role === "w") forward.serveW(p.runtime, p.server, { stock: { "SKU-1234": 17n }, trace });
    },
    play: (r, trace) => forward.runC(r, { c: "client", p: "proxy", w: "warehouse" }, { sku: "sku-1234" }, trace),
  },
  {
    name: "loi",
    descriptor: loiGen.LoiSession,
    roles: {
      ministre: loiGen.LoiMinistre,
      conseildetat: loiGen.LoiConseildetat,
      gouvernement: loiGen.LoiGouvernement,
      commission: loiGen.LoiCommission,
      assemblee: loiGen.LoiAssemblee,
      depute: loiGen.LoiDepute,
    },
    bindings: loiBindings(),
    spare: { role: "gouvernement", principal: "matignon-2" },
    serveRole(role, p, trace) {
      if (role === "ministre") loi.serveMinistre(p.runtime, p.server);
      if (role === "conseildetat") loi.serveConseilDEtat(p.runtime, p.server, { objections: ["article 3 imprécis"], trace });
      if (role === "gouvernement") loi.serveGouvernement(p.runtime, p.server, { questions: ["quel coût ?"], trace });
      if (role === "commission") loi.serveCommission(p.runtime, p.server, { trace });
      if (role === "assemblee") loi.serveAssemblee(p.runtime, p.server, { trace });
      if (role === "depute") loi.serveDepute(p.runtime, p.server, { motions: ["audition", "amendement-accepte", "texte-approuve"], trace });
    },
    play: (r, trace) => loi.runMinistre(r, loiBindings(), { projet: "loi open data" }, trace),
  },
  {
    name: "proxy",
    descriptor: proxyGen.ProxySession,
    roles: { c: proxyGen.ProxyC, p: proxyGen.ProxyP, w: proxyGen.ProxyW },
    bindings: { c: "client", p: "proxy", w: "worker" },
    spare: { role: "p", principal: "proxy-2" },
    serveRole(role, p, trace) {
      if (role === "c") proxy.serveC(p.runtime, p.server);
      if (role === "p") proxy.serveP(p.runtime, p.server, { audit: true, retries: 2, trace });
      if (role === "w") proxy.serveW(p.runtime, p.server, { trace });
    },
    play: (r, trace) => proxy.runC(r, { c: "client", p: "proxy", w: "worker" }, trace),
  },
  {
    name: "rpc",
    descriptor: rpcGen.RpcSession,
    roles: { c: rpcGen.RpcC, w: rpcGen.RpcW },
    bindings: { c: "client", w: "worker" },
    spare: { role: "w", principal: "worker-2" },
    serveRole(role, p, trace) {
      if (role === "w") rpc.serveW(p.runtime, p.server, { trace });
    },
    play: (r, trace) => rpc.runC(r, { c: "client", w: "worker" }, { text: "the quick brown fox jumps over the lazy dog" }, trace),
  },
  {
    name: "select",
    descriptor: selectGen.SelectSession,
    roles: { c: selectGen.SelectC, p: selectGen.SelectP, w: selectGen.SelectW },
    bindings: { c: "client", p: "portal", w: "search-eu" },
    // The other search server: p never binds it in these runs.
    spare: { role: "w", principal: "search-us" },
    serveRole(role, p, trace) {
      if (role === "c") select.serveC(p.runtime, p.server);
      if (role === "p") select.serveP(p.runtime, p.server, { route: (q) => (q.startsWith("eu/") ? "search-eu" : "search-us"), trace });
      if (role === "w") select.serveW(p.runtime, p.server, { hits: { "eu/rail strikes": 1_204n }, as: "w", trace });
    },
    play: (r, trace) => select.runC(r, { c: "client", p: "portal" }, { query: "eu/rail strikes", credentials: "alice:token-42" }, trace),
  },
  {
    name: "shopping",
    descriptor: shoppingGen.ShoppingSession,
    roles: { c: shoppingGen.ShoppingC, o: shoppingGen.ShoppingO, w: shoppingGen.ShoppingW },
    bindings: { c: "customer", o: "office", w: "warehouse" },
    spare: { role: "o", principal: "office-2" },
    serveRole(role, p, trace) {
      if (role === "c") honest.serveCustomer(p.runtime, p.server);
      if (role === "o") honest.serveOffice(p.runtime, p.server, { trace });
      if (role === "w") honest.serveWarehouse(p.runtime, p.server, { prices: [120, 110, 100], trace });
    },
    play: (r, trace) => honest.runCustomer(r, { c: "customer", o: "office", w: "warehouse" }, { item: "bike", changes: 2 }, trace),
  },
  {
    name: "single",
    descriptor: singleGen.SingleSession,
    roles: { c: singleGen.SingleC, w: singleGen.SingleW },
    bindings: { c: "client", w: "printer" },
    spare: { role: "w", principal: "printer-2" },
    serveRole(role, p, trace) {
      if (role === "w") single.serveW(p.runtime, p.server, { queue: [], trace });
    },
    play: (r, trace) => single.runC(r, { c: "client", w: "printer" }, { job: "quarterly-report.pdf, 2 copies" }, trace),
  },
  {
    name: "ws",
    descriptor: wsGen.WsSession,
    roles: { c: wsGen.WsC, w: wsGen.WsW },
    bindings: { c: "client", w: "census" },
    spare: { role: "w", principal: "census-2" },
    serveRole(role, p, trace) {
      if (role === "w") ws.serveW(p.runtime, p.server, { populations: { Paris: 2_102_650n }, trace });
    },
    play: (r, trace) => ws.runC(r, { c: "client", w: "census" }, { city: "Paris" }, trace),
  },
  {
    name: "wsn",
    descriptor: wsnGen.WsnSession,
    roles: { c: wsnGen.WsnC, w: wsnGen.WsnW },
    bindings: { c: "client", w: "fares" },
    spare: { role: "w", principal: "fares-2" },
    serveRole(role, p, trace) {
      if (role === "w") wsn.serveW(p.runtime, p.server, { fares: { "CDG-JFK": [420n, 455n, 510n] }, trace });
    },
    play: (r, trace) => wsn.runC(r, { c: "client", w: "fares" }, { route: "CDG-JFK" }, trace),
  },
  {
    name: "wsne",
    descriptor: wsneGen.WsneSession,
    roles: { c: wsneGen.WsneC, w: wsneGen.WsneW },
    bindings: { c: "client", w: "fares" },
    spare: { role: "w", principal: "fares-2" },
    serveRole(role, p, trace) {
      if (role === "w") wsne.serveW(p.runtime, p.server, { fares: { "CDG-JFK": [420n, 455n, 510n, 560n, 615n] }, trace });
    },
    play: (r, trace) => wsne.runC(r, { c: "client", w: "fares" }, { route: "CDG-JFK", wanted: 3 }, trace),
  },
];

function loiBindings(): loi.Bindings {
  return {
    ministre: "ministre-justice",
    conseildetat: "conseil-d-etat",
    gouvernement: "matignon",
    commission: "commission-des-lois",
    assemblee: "assemblee-nationale",
    depute: "depute-dupont",
  };
}

/** The example called `name`. */
export function exampleNamed(name: string): ExampleSpec {
  const e = EXAMPLES.find((x) => x.name === name);
  if (e === undefined) throw new Error(`adversary: no example ${name} (examples: ${EXAMPLES.map((x) => x.name).join(", ")})`);
  return e;
}
