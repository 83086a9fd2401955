import test from "ava";
import { exampleDescriptors } from "../support/examples.js";
import { machine, renderProjection } from "../support/machine.js";

// Each role's local state machine, written by hand from the session's flow in ../shared/SESSIONS.md.
const expected: Record<string, Record<string, string[]>> = {
  Attributes: {
    c: ["start !b.Open/request opening", "opening ?b.Open/response idle", "idle !b.Rates/request rates", "rates ?b.Rates/response idle", "idle !b.Transfer/request transfer", "transfer ?b.Transfer/response idle", "idle !b.Close/request closing", "closing ?b.Close/response done", "final done"],
    b: ["start ?c.Open/request opening", "opening !c.Open/response idle", "idle ?c.Rates/request rates", "rates !c.Rates/response idle", "idle ?c.Transfer/request transfer", "transfer !c.Transfer/response idle", "idle ?c.Close/request closing", "closing !a.Report reported", "reported ?a.File filed", "filed !c.Close/response done", "final done"],
    a: ["start ?b.Report reported", "reported !b.File done", "final done"],
  },
  // b => e.Deposit { e => s.Notify; } b -> e.Close;
  Escrow: {
    b: ["start !e.Deposit/request waiting", "waiting ?e.Deposit/response paid", "paid !e.Close done", "final done"],
    e: [
      "start ?b.Deposit/request deposited",
      "deposited !s.Notify/request asked",
      "asked ?s.Notify/response shipped",
      "shipped !b.Deposit/response answered",
      "answered ?b.Close done",
      "final done",
    ],
    s: ["start ?e.Notify/request asked", "asked !e.Notify/response done", "final done"],
  },
  Shopping: {
    c: [
      "start !o.Request wait",
      "wait ?w.Offer offered",
      "wait ?w.Reject rejected",
      "offered !w.Change wait",
      "offered !w.Accept done",
      "rejected !o.Abort done",
      "final done",
    ],
    o: [
      "start ?c.Request got",
      "got !w.Contract wait",
      "wait ?w.Confirm done",
      "wait ?c.Abort done",
      "final done",
    ],
    w: [
      "start ?o.Contract nego",
      "nego !c.Offer offered",
      "nego !c.Reject done",
      "offered ?c.Change nego",
      "offered ?c.Accept accepted",
      "accepted !o.Confirm done",
      "final done",
    ],
  },
  Single: {
    c: ["start !w.Request done", "final done"],
    w: ["start ?c.Request done", "final done"],
  },
  Rpc: {
    c: ["start !w.Request/request wait", "wait ?w.Request/response done", "final done"],
    w: ["start ?c.Request/request got", "got !c.Request/response done", "final done"],
  },
  Forward: {
    c: ["start !p.Request wait", "wait ?w.Reply done", "final done"],
    p: ["start ?c.Request got", "got !w.Forward done", "final done"],
    w: ["start ?p.Forward got", "got !c.Reply done", "final done"],
  },
  Auth: {
    c: ["start !a.Request wait", "wait ?w.Reply done", "final done"],
    a: [
      "start ?c.Request got",
      "got !d.Auth/request checking",
      "checking ?d.Auth/response checked",
      "checked !w.Forward done",
      "final done",
    ],
    w: ["start ?a.Forward got", "got !c.Reply done", "final done"],
    d: ["start ?a.Auth/request got", "got !a.Auth/response done", "final done"],
  },
  Ws: {
    c: [
      "start !w.Request/request wait",
      "wait ?w.Request/response.reply done",
      "wait ?w.Request/response.fault done",
      "final done",
    ],
    w: [
      "start ?c.Request/request got",
      "got !c.Request/response.reply done",
      "got !c.Request/response.fault done",
      "final done",
    ],
  },
  Wsn: {
    c: [
      "start !w.Request/request wait",
      "wait ?w.Request/response.reply replied",
      "wait ?w.Request/response.fault done",
      "replied !w.Extra/request waitExtra",
      "waitExtra ?w.Extra/response.reply replied",
      "waitExtra ?w.Extra/response.fault done",
      "final done",
    ],
    w: [
      "start ?c.Request/request got",
      "got !c.Request/response.reply replied",
      "got !c.Request/response.fault done",
      "replied ?c.Extra/request gotExtra",
      "gotExtra !c.Extra/response.reply replied",
      "gotExtra !c.Extra/response.fault done",
      "final done",
    ],
  },
  Wsne: {
    c: [
      "start !w.Request/request wait",
      "wait ?w.Request/response.reply replied",
      "wait ?w.Request/response.fault done",
      "replied !w.Extra/request waitExtra",
      "replied !w.Exit done",
      "waitExtra ?w.Extra/response.reply replied",
      "waitExtra ?w.Extra/response.fault done",
      "final done",
    ],
    w: [
      "start ?c.Request/request got",
      "got !c.Request/response.reply replied",
      "got !c.Request/response.fault done",
      "replied ?c.Extra/request gotExtra",
      "replied ?c.Exit done",
      "gotExtra !c.Extra/response.reply replied",
      "gotExtra !c.Extra/response.fault done",
      "final done",
    ],
  },
  Conf: {
    pc: [
      "start !author.Cfp waitPaper",
      "waitPaper ?confman.Retract done",
      "waitPaper ?confman.Paper paper",
      "paper !confman.ReqRevision waitPaper",
      "paper !confman.Close/request closing",
      "closing ?confman.Close/response discuss",
      "discuss !author.Accept/request accepting",
      "discuss !author.Reject done",
      "discuss !author.Shepherd/request shepherding",
      "accepting ?author.Accept/response done",
      "shepherding ?author.Shepherd/response discuss",
      "final done",
    ],
    author: [
      "start ?pc.Cfp upload",
      "upload !confman.Upload/request uploading",
      "uploading ?confman.Upload/response.bad_format upload",
      "uploading ?confman.Upload/response.ok subm",
      "subm !confman.Withdraw done",
      "subm !confman.Submit submitted",
      "submitted ?confman.Revise subm",
      "submitted ?pc.Accept/request accepted",
      "submitted ?pc.Reject done",
      "submitted ?pc.Shepherd/request shepherded",
      "accepted !pc.Accept/response done",
      "shepherded !pc.Shepherd/response discuss",
      "discuss ?pc.Accept/request accepted",
      "discuss ?pc.Reject done",
      "discuss ?pc.Shepherd/request shepherded",
      "final done",
    ],
    confman: [
      "start ?author.Upload/request check",
      "check !author.Upload/response.bad_format start",
      "check !author.Upload/response.ok subm",
      "subm ?author.Withdraw withdrawn",
      "subm ?author.Submit submitted",
      "withdrawn !pc.Retract done",
      "submitted !pc.Paper review",
      "review ?pc.ReqRevision revision",
      "review ?pc.Close/request closing",
      "revision !author.Revise subm",
      "closing !pc.Close/response done",
      "final done",
    ],
  },
  Loi: {
    ministre: [
      "start !gouvernement.ProjetLoi wait",
      "wait ?gouvernement.ConseilMinistre cm",
      "cm !gouvernement.Expose/request expose",
      "expose ?gouvernement.Expose/response.questions cm",
      "expose ?gouvernement.Expose/response.adopte adopted",
      "adopted !commission.PassageCommission done",
      "final done",
    ],
    conseildetat: [
      "start ?gouvernement.Soumission/request avis",
      "avis !gouvernement.Soumission/response.avis_negatif start",
      "avis !gouvernement.Soumission/response.avis_positif done",
      "final done",
    ],
    gouvernement: [
      "start ?ministre.ProjetLoi projet",
      "projet !conseildetat.Soumission/request soumis",
      "soumis ?conseildetat.Soumission/response.avis_negatif projet",
      "soumis ?conseildetat.Soumission/response.avis_positif avis",
      "avis !ministre.ConseilMinistre cm",
      "cm ?ministre.Expose/request expose",
      "expose !ministre.Expose/response.questions cm",
      "expose !ministre.Expose/response.adopte assemblee",
      "assemblee ?assemblee.Audition/request audition",
      "assemblee ?assemblee.Echec done",
      "assemblee ?assemblee.TexteFinal done",
      "audition !assemblee.Audition/response assemblee",
      "final done",
    ],
    commission: [
      "start ?ministre.PassageCommission got",
      "got !assemblee.TextePropose done",
      "final done",
    ],
    assemblee: [
      "start ?commission.TextePropose depart",
      "depart !depute.DebutSeance seance",
      "seance ?depute.AuditionGouv/request audition",
      "seance ?depute.Exception/request exception",
      "seance ?depute.Amendement/request amendement",
      "seance ?depute.Texte/request texte",
      "audition !gouvernement.Audition/request hearing",
      "hearing ?gouvernement.Audition/response heard",
      "heard !depute.AuditionGouv/response seance",
      "exception !depute.Exception/response voteException",
      "voteException ?depute.ExceptionRejetee depart",
      "voteException ?depute.ExceptionAcceptee echec",
      "amendement !depute.Amendement/response voteAmendement",
      "voteAmendement ?depute.AmendementRejete depart",
      "voteAmendement ?depute.AmendementAccepte depart",
      "texte !depute.Texte/response vote",
      "vote ?depute.Approuve approuve",
      "vote ?depute.Rejete echec",
      "approuve !gouvernement.TexteFinal done",
      "echec !gouvernement.Echec done",
      "final done",
    ],
    depute: [
      "start ?assemblee.DebutSeance seance",
      "seance !assemblee.AuditionGouv/request audition",
      "audition ?assemblee.AuditionGouv/response seance",
      "seance !assemblee.Exception/request exception",
      "exception ?assemblee.Exception/response voteException",
      "voteException !assemblee.ExceptionRejetee start",
      "voteException !assemblee.ExceptionAcceptee done",
      "seance !assemblee.Amendement/request amendement",
      "amendement ?assemblee.Amendement/response voteAmendement",
      "voteAmendement !assemblee.AmendementRejete start",
      "voteAmendement !assemblee.AmendementAccepte start",
      "seance !assemblee.Texte/request texte",
      "texte ?assemblee.Texte/response vote",
      "vote !assemblee.Approuve done",
      "vote !assemblee.Rejete done",
      "final done",
    ],
  },
  Commit: {
    c: [
      "start !w.Commit/request committed",
      "committed ?w.Commit/response flipped",
      "flipped !w.Reveal done",
      "final done",
    ],
    w: [
      "start ?c.Commit/request committed",
      "committed !c.Commit/response flipped",
      "flipped ?c.Reveal done",
      "final done",
    ],
  },
  Select: {
    c: ["start !p.Query wait", "wait ?w.Reply done", "final done"],
    p: ["start ?c.Query got", "got !w.Forward done", "final done"],
    w: ["start ?p.Forward got", "got !c.Reply done", "final done"],
  },
  Proxy: {
    c: ["start !p.Request wait", "wait ?w.Reply done", "final done"],
    p: [
      "start ?c.Request got",
      "got !w.Forward sent",
      "got !w.Audit sent",
      "sent ?w.Details/request details",
      "details !w.Details/response.retry sent",
      "details !w.Details/response.resume done",
      "final done",
    ],
    w: [
      "start ?p.Forward ask",
      "start ?p.Audit ask",
      "ask !p.Details/request asking",
      "asking ?p.Details/response.retry ask",
      "asking ?p.Details/response.resume resumed",
      "resumed !c.Reply done",
      "final done",
    ],
  },
};

for (const [session, roles] of Object.entries(expected)) {
  for (const [role, lines] of Object.entries(roles)) {
    test(`projection of ${session} onto ${role}`, (t) => {
      const d = exampleDescriptors().get(session);
      t.truthy(d, `session ${session} is compiled`);
      t.deepEqual(renderProjection(d!, role), machine(lines));
    });
  }
}

test("every role of every example has a hand-written projection", (t) => {
  const missing: string[] = [];
  for (const [name, d] of exampleDescriptors()) {
    for (const r of d.roles) if (expected[name]?.[r.name] === undefined) missing.push(`${name}.${r.name}`);
  }
  t.deepEqual(missing, []);
});
