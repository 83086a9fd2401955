import test from "ava";
import type { EdgeDescriptor, SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { exampleDescriptors } from "../support/examples.js";

/**
 * A readable name for an edge: `sender->receiver Method`, with `/request`,
 * `/response` or `/response.case` for calls. When the protocol has the same
 * message twice (Loi's Echec), the name adds the messages that lead to it.
 */
function edgeKeys(d: SessionDescriptor): Map<EdgeDescriptor, string> {
  const base = (e: EdgeDescriptor): string => {
    const method = e.rpc.split("/").pop()!;
    const part =
      e.kind === "oneway" ? "" : e.kind === "request" ? "/request" : e.case === null ? "/response" : `/response.${e.case.field.name}`;
    return `${e.sender}->${e.receiver} ${method}${part}`;
  };
  const count = new Map<string, number>();
  for (const e of d.edges) count.set(base(e), (count.get(base(e)) ?? 0) + 1);
  const keys = new Map<EdgeDescriptor, string>();
  for (const e of d.edges) {
    let k = base(e);
    if (count.get(k)! > 1) {
      const before = d.edges.filter((x) => x.to === e.from).map(base).sort();
      k += ` after ${before.join(", ")}`;
    }
    keys.set(e, k);
  }
  return keys;
}

/** Every edge's visibility set, by readable key, sorted by key. */
function visibility(d: SessionDescriptor): Array<[string, readonly string[]]> {
  const keys = edgeKeys(d);
  const out = d.edges.map((e): [string, readonly string[]] => [keys.get(e)!, e.visibility]);
  if (new Set(out.map(([k]) => k)).size !== out.length) throw new Error(`${d.name}: two edges have the same key`);
  return out.sort(([a], [b]) => a.localeCompare(b));
}

// For an edge whose receiver is R: the roles that may have sent a message since
// R last acted (sent or received), over every path reaching the edge, including
// the edge's own sender; in role-declaration order. Written by hand from the
// protocols in examples/.
const expected: Record<string, Record<string, string[]>> = {
  // Roles: c, o, w.
  Shopping: {
    "c->o Request": ["c"],
    "o->w Contract": ["c", "o"],
    // c last acted by Request (then o -> w Contract) or by Change.
    "w->c Offer": ["o", "w"],
    "w->c Reject": ["o", "w"],
    "c->w Change": ["c"],
    "c->w Accept": ["c"],
    // o last acted by Contract; since then c and w negotiated, maybe over many rounds.
    "w->o Confirm": ["c", "w"],
    "c->o Abort": ["c", "w"],
  },
  // Roles: pc, author, confman.
  Conf: {
    "pc->author Cfp": ["pc"],
    "author->confman Upload/request": ["pc", "author"],
    "confman->author Upload/response.bad_format": ["confman"],
    "confman->author Upload/response.ok": ["confman"],
    "author->confman Withdraw": ["author"],
    "author->confman Submit": ["author"],
    // pc last acted by Cfp or by ReqRevision: uploads, revisions and resubmissions since.
    "confman->pc Retract": ["author", "confman"],
    "confman->pc Paper": ["author", "confman"],
    "pc->confman ReqRevision": ["pc"],
    "pc->confman Close/request": ["pc"],
    // author last acted by Submit.
    "confman->author Revise": ["pc", "confman"],
    "confman->pc Close/response": ["confman"],
    // author last acted by Submit (then Paper, Close) or by a rebuttal.
    "pc->author Accept/request": ["pc", "confman"],
    "pc->author Reject": ["pc", "confman"],
    "pc->author Shepherd/request": ["pc", "confman"],
    "author->pc Accept/response": ["author"],
    "author->pc Shepherd/response": ["author"],
  },
  // Roles: ministre, conseildetat, gouvernement, commission, assemblee, depute.
  Loi: {
    "ministre->gouvernement ProjetLoi": ["ministre"],
    "gouvernement->conseildetat Soumission/request": ["ministre", "gouvernement"],
    "conseildetat->gouvernement Soumission/response.avis_negatif": ["conseildetat"],
    "conseildetat->gouvernement Soumission/response.avis_positif": ["conseildetat"],
    "gouvernement->ministre ConseilMinistre": ["conseildetat", "gouvernement"],
    "ministre->gouvernement Expose/request": ["ministre"],
    "gouvernement->ministre Expose/response.questions": ["gouvernement"],
    "gouvernement->ministre Expose/response.adopte": ["gouvernement"],
    // commission has not acted yet: everyone who sent since the start.
    "ministre->commission PassageCommission": ["ministre", "conseildetat", "gouvernement"],
    "commission->assemblee TextePropose": ["ministre", "conseildetat", "gouvernement", "commission"],
    // depute has not acted yet on the first sitting; on later ones, it last voted.
    "assemblee->depute DebutSeance": ["ministre", "conseildetat", "gouvernement", "commission", "assemblee"],
    "depute->assemblee AuditionGouv/request": ["depute"],
    "depute->assemblee Exception/request": ["depute"],
    "depute->assemblee Amendement/request": ["depute"],
    "depute->assemblee Texte/request": ["depute"],
    // gouvernement last acted by adopte (then PassageCommission, TextePropose,
    // sittings) or by answering an earlier hearing.
    "assemblee->gouvernement Audition/request": ["ministre", "commission", "assemblee", "depute"],
    "gouvernement->assemblee Audition/response": ["gouvernement"],
    "assemblee->depute AuditionGouv/response": ["gouvernement", "assemblee"],
    "assemblee->depute Exception/response": ["assemblee"],
    "depute->assemblee ExceptionRejetee": ["depute"],
    "depute->assemblee ExceptionAcceptee": ["depute"],
    "assemblee->gouvernement Echec after depute->assemblee ExceptionAcceptee": ["ministre", "commission", "assemblee", "depute"],
    "assemblee->depute Amendement/response": ["assemblee"],
    "depute->assemblee AmendementRejete": ["depute"],
    "depute->assemblee AmendementAccepte": ["depute"],
    "assemblee->depute Texte/response": ["assemblee"],
    "depute->assemblee Approuve": ["depute"],
    "depute->assemblee Rejete": ["depute"],
    "assemblee->gouvernement TexteFinal": ["ministre", "commission", "assemblee", "depute"],
    "assemblee->gouvernement Echec after depute->assemblee Rejete": ["ministre", "commission", "assemblee", "depute"],
  },
};

for (const [session, edges] of Object.entries(expected)) {
  test(`visibility of every edge of ${session}`, (t) => {
    const d = exampleDescriptors().get(session);
    t.truthy(d, `session ${session} is compiled`);
    const want = Object.entries(edges).sort(([a], [b]) => a.localeCompare(b));
    t.deepEqual(visibility(d!), want);
  });
}
