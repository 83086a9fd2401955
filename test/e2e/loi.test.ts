/**
 * Loi over real gRPC on loopback, six roles. Branches: the conseil d'Etat's
 * AvisNegatif / AvisPositif; the council's Questions / Adopte; the depute's
 * AuditionGouv / Exception / Amendement / Texte and every vote
 * (ExceptionRejetee / ExceptionAcceptee, AmendementRejete /
 * AmendementAccepte, Approuve / Rejete). Loops: Conseil ×3, Cm ×3, Seance
 * (3 hearings in one sitting), Depart (3 new sittings).
 */
import test from "ava";
import { runMinistre, serveAssemblee, serveCommission, serveConseilDEtat, serveDepute, serveGouvernement, serveMinistre, type Bindings, type Motion } from "../../examples/loi/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const roles = ["ministre", "conseildetat", "gouvernement", "commission", "assemblee", "depute"] as const;
const bindings = Object.fromEntries(roles.map((r) => [r, r])) as Bindings;
const options = { principals: roles, roles };

function loi(objections: string[], questions: string[], motions: Motion[]) {
  const outcomes: string[] = [];
  return runSession(
    options,
    (cluster, trace) => {
      const peer = (role: keyof Bindings) => cluster.peer(bindings[role]);
      serveMinistre(peer("ministre").runtime, peer("ministre").server);
      serveConseilDEtat(peer("conseildetat").runtime, peer("conseildetat").server, { objections, trace });
      serveGouvernement(peer("gouvernement").runtime, peer("gouvernement").server, { questions, trace, onOutcome: (o) => outcomes.push(o) });
      serveCommission(peer("commission").runtime, peer("commission").server, { trace });
      serveAssemblee(peer("assemblee").runtime, peer("assemblee").server, { trace });
      serveDepute(peer("depute").runtime, peer("depute").server, { motions, trace });
    },
    async (cluster, trace) => {
      await runMinistre(cluster.peer(bindings.ministre).runtime, bindings, { projet: "loi" }, trace);
      return outcomes;
    },
  );
}

// The expected trace, step by step.
function untilAssemblee(objections: string[], questions: string[]): { lines: string[]; texte: string } {
  const lines = ["ministre → gouvernement  ProjetLoi(loi)"];
  let texte = "loi";
  for (const o of objections) {
    lines.push(`gouvernement → conseildetat  Soumission(${texte})`, `conseildetat → gouvernement  AvisNegatif(${o})`);
    texte = `${texte} (rectifié)`;
  }
  lines.push(`gouvernement → conseildetat  Soumission(${texte})`, "conseildetat → gouvernement  AvisPositif", `gouvernement → ministre  ConseilMinistre(${texte})`);
  questions.forEach((q, i) => lines.push(`ministre → gouvernement  Expose(exposé des motifs, version ${i + 1})`, `gouvernement → ministre  Questions(${q})`));
  lines.push(`ministre → gouvernement  Expose(exposé des motifs, version ${questions.length + 1})`, "gouvernement → ministre  Adopte");
  lines.push(`ministre → commission  PassageCommission(${texte})`, `commission → assemblee  TextePropose(${texte})`);
  return { lines, texte };
}
const seance = (texte: string) => `assemblee → depute  DebutSeance(${texte})`;
const audition = ["depute → assemblee  AuditionGouv", "assemblee → gouvernement  Audition", "gouvernement → assemblee  Reponse(le gouvernement soutient le texte)", "assemblee → depute  Parole"];
const exception = (acceptee: boolean) => [
  "depute → assemblee  Exception",
  "assemblee → depute  VoteException",
  ...(acceptee ? ["depute → assemblee  ExceptionAcceptee", "assemblee → gouvernement  Echec"] : ["depute → assemblee  ExceptionRejetee"]),
];
const amendement = (texte: string | undefined) => [
  "depute → assemblee  Amendement(article 2 bis)",
  "assemblee → depute  VoteAmendement",
  texte === undefined ? "depute → assemblee  AmendementRejete" : `depute → assemblee  AmendementAccepte(${texte})`,
];
const vote = (texte: string, approuve: boolean) => [
  `depute → assemblee  Texte(${texte})`,
  "assemblee → depute  Vote",
  ...(approuve ? ["depute → assemblee  Approuve", "assemblee → gouvernement  TexteFinal"] : ["depute → assemblee  Rejete", "assemblee → gouvernement  Echec"]),
];

test("Loi: 3 negative opinions, 3 rounds of questions, 3 hearings, then a rejected exception, a rejected and an adopted amendment (3 new sittings), and the text approved", async (t) => {
  const objections = ["article 1 flou", "article 2 contraire à la Constitution", "étude d'impact absente"];
  const questions = ["quel coût ?", "quel calendrier ?", "quelles sanctions ?"];
  const o = await loi(objections, questions, ["audition", "audition", "audition", "exception-rejetee", "amendement-rejete", "amendement-accepte", "texte-approuve"]);
  const { lines, texte } = untilAssemblee(objections, questions);
  t.is(texte, "loi (rectifié) (rectifié) (rectifié)");
  const amended = `${texte} + article 2 bis`;
  lines.push(seance(texte), ...audition, ...audition, ...audition, ...exception(false));
  lines.push(seance(texte), ...amendement(undefined));
  lines.push(seance(texte), ...amendement(amended));
  lines.push(seance(amended), ...vote(amended, true));
  t.deepEqual(o.result, ["texte-final"]);
  t.deepEqual(o.report, honest(options, lines));
});

test("Loi: straight through, the text is rejected", async (t) => {
  const o = await loi([], [], ["texte-rejete"]);
  const { lines, texte } = untilAssemblee([], []);
  t.deepEqual(o.result, ["echec"]);
  t.deepEqual(o.report, honest(options, [...lines, seance(texte), ...vote(texte, false)]));
});

test("Loi: a hearing, then an exception is accepted", async (t) => {
  const o = await loi(["motifs"], [], ["audition", "exception-acceptee"]);
  const { lines, texte } = untilAssemblee(["motifs"], []);
  t.deepEqual(o.result, ["echec"]);
  t.deepEqual(o.report, honest(options, [...lines, seance(texte), ...audition, ...exception(true)]));
});

test("Loi: main.ts runs and exits 0", (t) => {
  t.regex(runMain("loi"), /depute → assemblee {2}Approuve\n.*assemblee → gouvernement {2}TexteFinal\n.*→ texte-final/);
});
