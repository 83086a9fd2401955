/**
 * Runs the Conf session on loopback twice: an author whose first upload has
 * the wrong format, who revises once, is shepherded once and accepted; and
 * an author who withdraws right after uploading.
 *
 *   npx tsx examples/conf/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runPc, servePc, serveAuthor, serveConfman, type Review, type Verdict } from "./parties.js";

const scenarios: Array<{ title: string; files: string[]; rounds: Array<"submit" | "withdraw">; reviews: Review[]; verdicts: Verdict[] }> = [
  { title: "a revision, a shepherding round, then accept", files: ["paper.docx", "paper.pdf"], rounds: ["submit", "submit"], reviews: ["revise", "close"], verdicts: ["shepherd", "accept"] },
  { title: "the author withdraws", files: ["paper.pdf"], rounds: ["withdraw"], reviews: [], verdicts: [] },
];
for (const s of scenarios) {
  const outcome = await demo(
    `Conf: ${s.title}`,
    { principals: ["committee", "alice", "easychair"], roles: ["pc", "author", "confman"] },
    (cluster, trace) => {
      servePc(cluster.peer("committee").runtime, cluster.peer("committee").server);
      serveAuthor(cluster.peer("alice").runtime, cluster.peer("alice").server, { files: s.files, rounds: s.rounds, trace });
      serveConfman(cluster.peer("easychair").runtime, cluster.peer("easychair").server, { trace });
    },
    (cluster, trace) =>
      runPc(cluster.peer("committee").runtime, { pc: "committee", author: "alice", confman: "easychair" }, { call: "CSF 2026", reviews: s.reviews, verdicts: s.verdicts }, trace),
  );
  out(`  → ${outcome}`);
}
