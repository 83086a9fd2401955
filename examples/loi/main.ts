/**
 * Runs the Loi session on loopback: the conseil d'Etat objects once, the
 * council of ministers has one question, and in the assemblee the depute
 * hears the gouvernement, has an amendment adopted (a new sitting opens),
 * then the text is approved.
 *
 *   npx tsx examples/loi/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runMinistre, serveAssemblee, serveCommission, serveConseilDEtat, serveDepute, serveGouvernement, serveMinistre, type Bindings } from "./parties.js";

const bindings: Bindings = {
  ministre: "ministre-justice",
  conseildetat: "conseil-d-etat",
  gouvernement: "matignon",
  commission: "commission-des-lois",
  assemblee: "assemblee-nationale",
  depute: "depute-dupont",
};
let outcome = "";
await demo(
  "Loi: a bill on open data, from draft to final text",
  { principals: Object.values(bindings), roles: Object.keys(bindings) },
  (cluster, trace) => {
    const peer = (role: keyof Bindings) => cluster.peer(bindings[role]);
    serveMinistre(peer("ministre").runtime, peer("ministre").server);
    serveConseilDEtat(peer("conseildetat").runtime, peer("conseildetat").server, { objections: ["article 3 imprécis"], trace });
    serveGouvernement(peer("gouvernement").runtime, peer("gouvernement").server, { questions: ["quel coût ?"], trace, onOutcome: (o) => (outcome = o) });
    serveCommission(peer("commission").runtime, peer("commission").server, { trace });
    serveAssemblee(peer("assemblee").runtime, peer("assemblee").server, { trace });
    serveDepute(peer("depute").runtime, peer("depute").server, { motions: ["audition", "amendement-accepte", "texte-approuve"], trace });
  },
  (cluster, trace) => runMinistre(cluster.peer(bindings.ministre).runtime, bindings, { projet: "loi open data" }, trace),
);
out(`  → ${outcome}`);
