/**
 * Conf with three replicas of its conference manager (confman), each its own
 * process, behind one round-robin address and sharing one Redis: several
 * sessions run, and each message confman receives is printed with the
 * replica that handled it. Then one replica is killed mid-session and
 * started again, and the session completes.
 *
 *   npx tsx examples/mesh/main.ts            (starts a private redis-server)
 *   REDIS_URL=redis://host:6379 npx tsx examples/mesh/main.ts
 */
import { ConfPc } from "../../gen/conf/conf_secsession.js";
import { runPc } from "../conf/parties.js";
import { out } from "../support/scenario.js";
import { startMesh } from "./mesh.js";
import { startRedis, type LocalRedis } from "./redis-server.js";

let redis: LocalRedis | undefined;
const url = process.env["REDIS_URL"] ?? (redis = await startRedis()).url;
out(`Redis: ${url}${redis === undefined ? "" : " (a private redis-server)"}`);
const mesh = await startMesh({ replicas: 3, redisUrl: url, author: { files: ["paper.docx", "paper.pdf"], rounds: ["submit", "submit"] } });
let shown = 0;
const show = (): void => {
  for (; shown < mesh.handled.length; shown++) {
    const h = mesh.handled[shown]!;
    out(`  ${h.replica} handled ${h.move}${h.detail === "" ? "" : `(${h.detail})`}   session ${h.session.slice(0, 12)}…`);
  }
};
try {
  out(`confman replicas: ${mesh.names.join(", ")}; pc and the author call them round robin`);
  for (let n = 1; n <= 3; n++) {
    out(`\nSession ${n}: a bad upload, a revision, then Close and Accept`);
    const outcome = await runPc(mesh.pc, mesh.bindings, { call: "CSF 2026", reviews: ["revise", "close"], verdicts: ["accept"] });
    show();
    out(`  → ${outcome}`);
  }

  out("\nSession 4: confman-2 is killed after the first submission, and started again");
  const s0 = await mesh.pc.start(ConfPc, mesh.bindings);
  const paper = await (await s0.cfp({ call: "CSF 2026" })).receive();
  show();
  if (paper.kind !== "paper") throw new Error(`expected a paper, got ${paper.kind}`);
  await mesh.kill(1);
  out("  (confman-2 killed)");
  await mesh.restart(1);
  out("  (confman-2 started again)");
  const again = await (await paper.next.reqRevision({ comments: "please shorten section 3" })).receive();
  if (again.kind !== "paper") throw new Error(`expected a paper, got ${again.kind}`);
  const closed = await again.next.close({});
  const final = await closed.next.accept({ comments: "congratulations" });
  show();
  out(`  → accepted: ${final.message.paper}`);
  const refused = mesh.alerts.length + mesh.localAlerts.length;
  out(`\n${mesh.handled.length} messages handled by ${new Set(mesh.handled.map((h) => h.replica)).size} replicas; ${refused} refused`);
  for (const a of mesh.alerts) out(`  ! ${a.replica} refused (${a.kind}): ${a.reason}`);
} finally {
  await mesh.close();
  await redis?.stop();
}
