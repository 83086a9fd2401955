/**
 * Loi: how a French bill becomes law. The ministre drafts a bill; the
 * gouvernement submits it to the conseil d'Etat until its opinion is
 * positive; the ministre presents it in the council of ministers until it is
 * adopted, then sends it to the commission, which proposes it to the
 * assemblee. Each sitting opens with the assemblee giving the floor to a
 * depute, whose motions (`Motion`) decide what happens: hear the
 * gouvernement (the sitting goes on), an exception or an amendment (put to
 * the vote; most votes open a new sitting), or the vote on the text itself.
 * The assemblee reports the final text, or the failure, to the gouvernement.
 */
import type * as grpc from "@grpc/grpc-js";
import type { RoleState, SessionRuntime } from "secsession";
import { LoiAssemblee, LoiCommission, LoiConseildetat, LoiDepute, LoiGouvernement, LoiMinistre, type LoiDeputeMachine } from "../../gen/loi/loi_secsession.js";
import { Trace } from "../support/trace.js";

/** What the depute does with the floor; the vote outcome is part of the motion. */
export type Motion = "audition" | "exception-rejetee" | "exception-acceptee" | "amendement-rejete" | "amendement-accepte" | "texte-approuve" | "texte-rejete";

export type Bindings = { ministre: string; conseildetat: string; gouvernement: string; commission: string; assemblee: string; depute: string };

/** The ministre serves Ministre so that the gouvernement's call reaches it (it starts no session: no handlers). */
export function serveMinistre(runtime: SessionRuntime, server: grpc.Server): void {
  runtime.serve(server, LoiMinistre, {});
}

/** ministre: drafts `projet`, presents it until the council adopts it, sends it to the commission. */
export async function runMinistre(runtime: SessionRuntime, bindings: Bindings, choices: { projet: string }, trace = new Trace()): Promise<void> {
  const s0 = await runtime.start(LoiMinistre, bindings);
  const convocation = await (await s0.projetLoi({ texte: choices.projet })).receive();
  const texte = convocation.message.ordreDuJour;
  trace.got("ministre", "gouvernement", `ConseilMinistre(${texte})`);
  let s = convocation.next;
  for (let version = 1; ; version++) {
    const decision = await s.expose({ expose: `exposé des motifs, version ${version}` });
    if (decision.kind === "exposeAdopte") {
      trace.got("ministre", "gouvernement", "Adopte");
      return trace.end("ministre", await decision.next.passageCommission({ texte }));
    }
    trace.got("ministre", "gouvernement", `Questions(${decision.message.decision.case === "questions" ? decision.message.decision.value.questions : ""})`);
    s = decision.next;
  }
}

/** conseil d'Etat: gives a negative opinion for each of `objections`, then a positive one. */
export function serveConseilDEtat(runtime: SessionRuntime, server: grpc.Server, options: { objections: readonly string[]; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, LoiConseildetat, {
    soumission: async (first) => {
      const objections = [...options.objections];
      let soumission = first;
      for (;;) {
        trace.got("conseildetat", "gouvernement", `Soumission(${soumission.message.texte})`);
        const motifs = objections.shift();
        if (motifs === undefined) return trace.end("conseildetat", await soumission.next.soumissionAvisPositif({ avis: { case: "avisPositif", value: {} } }));
        const again = await soumission.next.soumissionAvisNegatif({ avis: { case: "avisNegatif", value: { motifs } } });
        soumission = await again.receive();
      }
    },
  });
}

/**
 * gouvernement: amends the bill until the conseil d'Etat approves it, calls
 * the council of ministers, asks the ministre each of `questions` before
 * adopting, answers the assemblee's hearings, and learns the outcome.
 */
export function serveGouvernement(runtime: SessionRuntime, server: grpc.Server, options: { questions: readonly string[]; trace?: Trace; onOutcome?: (outcome: "texte-final" | "echec") => void }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, LoiGouvernement, {
    projetLoi: async ({ message, next }) => {
      trace.got("gouvernement", "ministre", `ProjetLoi(${message.texte})`);
      const questions = [...options.questions];
      let texte = message.texte;
      let avis = await next.soumission({ texte });
      while (avis.kind === "soumissionAvisNegatif") {
        trace.got("gouvernement", "conseildetat", `AvisNegatif(${avis.message.avis.case === "avisNegatif" ? avis.message.avis.value.motifs : ""})`);
        texte = `${texte} (rectifié)`;
        avis = await avis.next.soumission({ texte });
      }
      trace.got("gouvernement", "conseildetat", "AvisPositif");
      let expose = await (await avis.next.conseilMinistre({ ordreDuJour: texte })).receive();
      trace.got("gouvernement", "ministre", `Expose(${expose.message.expose})`);
      for (let q = questions.shift(); q !== undefined; q = questions.shift()) {
        expose = await (await expose.next.exposeQuestions({ decision: { case: "questions", value: { questions: q } } })).receive();
        trace.got("gouvernement", "ministre", `Expose(${expose.message.expose})`);
      }
      let parliament = await expose.next.exposeAdopte({ decision: { case: "adopte", value: {} } });
      for (;;) {
        const m = await parliament.receive();
        if (m.kind === "audition") {
          trace.got("gouvernement", "assemblee", "Audition");
          parliament = await m.next.auditionResponse({ reponse: "le gouvernement soutient le texte" });
          continue;
        }
        trace.got("gouvernement", "assemblee", m.kind === "texteFinal" ? "TexteFinal" : "Echec");
        trace.end("gouvernement", m.next);
        return options.onOutcome?.(m.kind === "texteFinal" ? "texte-final" : "echec");
      }
    },
  });
}

/** commission: proposes the bill to the assemblee. */
export function serveCommission(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, LoiCommission, {
    passageCommission: async ({ message, next }) => {
      trace.got("commission", "ministre", `PassageCommission(${message.texte})`);
      trace.end("commission", await next.textePropose({ texte: message.texte }));
    },
  });
}

/** assemblee: opens sittings, serves the depute's motions, puts them to the vote, reports the outcome. */
export function serveAssemblee(runtime: SessionRuntime, server: grpc.Server, options: { trace?: Trace } = {}): void {
  const trace = options.trace ?? new Trace();
  const got = (from: string, what: string) => trace.got("assemblee", from, what);
  runtime.serve(server, LoiAssemblee, {
    textePropose: async ({ message, next }) => {
      got("commission", `TextePropose(${message.texte})`);
      let texte = message.texte;
      let closed = next;
      for (;;) {
        let floor = await closed.debutSeance({ ordreDuJour: texte });
        for (;;) {
          const m = await floor.receive();
          if (m.kind === "auditionGouv") {
            got("depute", "AuditionGouv");
            const answer = await m.next.audition({});
            got("gouvernement", `Reponse(${answer.message.reponse})`);
            floor = await answer.next.auditionGouvResponse({});
            continue;
          }
          if (m.kind === "exception") {
            got("depute", "Exception");
            const vote = await (await m.next.exceptionResponse({})).receive();
            if (vote.kind === "exceptionAcceptee") {
              got("depute", "ExceptionAcceptee");
              return trace.end("assemblee", await vote.next.echec({}));
            }
            got("depute", "ExceptionRejetee");
            closed = vote.next;
            break;
          }
          if (m.kind === "amendement") {
            got("depute", `Amendement(${m.message.amendement})`);
            const vote = await (await m.next.amendementResponse({})).receive();
            if (vote.kind === "amendementAccepte") texte = vote.message.texte;
            got("depute", vote.kind === "amendementAccepte" ? `AmendementAccepte(${texte})` : "AmendementRejete");
            closed = vote.next;
            break;
          }
          got("depute", `Texte(${m.message.texte})`);
          const vote = await (await m.next.texteResponse({})).receive();
          got("depute", vote.kind === "approuve" ? "Approuve" : "Rejete");
          return trace.end("assemblee", vote.kind === "approuve" ? await vote.next.texteFinal({}) : await vote.next.echec({}));
        }
      }
    },
  });
}

/** depute: at each sitting, plays the next of `motions` (default: the text, approved) until one ends the sitting. */
export function serveDepute(runtime: SessionRuntime, server: grpc.Server, options: { motions: readonly Motion[]; trace?: Trace }): void {
  const trace = options.trace ?? new Trace();
  runtime.serve(server, LoiDepute, {
    debutSeance: async (first) => {
      const motions = [...options.motions];
      let sitting = first;
      for (;;) {
        const texte = sitting.message.ordreDuJour;
        trace.got("depute", "assemblee", `DebutSeance(${texte})`);
        let floor = sitting.next;
        let adjourned: RoleState<LoiDeputeMachine, 0> | undefined;
        while (adjourned === undefined) {
          const motion = motions.shift() ?? "texte-approuve";
          if (motion === "audition") {
            floor = (await floor.auditionGouv({})).next;
            trace.got("depute", "assemblee", "Parole");
          } else if (motion === "exception-rejetee" || motion === "exception-acceptee") {
            const vote = await floor.exception({});
            trace.got("depute", "assemblee", "VoteException");
            if (motion === "exception-acceptee") return trace.end("depute", await vote.next.exceptionAcceptee({}));
            adjourned = await vote.next.exceptionRejetee({});
          } else if (motion === "amendement-rejete" || motion === "amendement-accepte") {
            const vote = await floor.amendement({ amendement: "article 2 bis" });
            trace.got("depute", "assemblee", "VoteAmendement");
            adjourned = motion === "amendement-accepte" ? await vote.next.amendementAccepte({ texte: `${texte} + article 2 bis` }) : await vote.next.amendementRejete({});
          } else {
            const vote = await floor.texte({ texte });
            trace.got("depute", "assemblee", "Vote");
            return trace.end("depute", motion === "texte-approuve" ? await vote.next.approuve({}) : await vote.next.rejete({}));
          }
        }
        sitting = await adjourned.receive();
      }
    },
  });
}
