/**
 * Conf over real gRPC on loopback. Branches: Upload → BadFormat / Ok; the
 * author's Withdraw / Submit; pc's ReqRevision / Close; pc's Accept / Reject /
 * Shepherd. Loops: Start (3 bad uploads), Subm (3 revisions), Discuss
 * (3 shepherding rounds). Withdraw both before and after a revision; Reject
 * and Accept both straight after Close and after shepherding.
 */
import test from "ava";
import { runPc, serveAuthor, serveConfman, servePc, type Outcome, type Review, type Verdict } from "../../examples/conf/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const options = { principals: ["committee", "alice", "easychair"], roles: ["pc", "author", "confman"] };

interface Script {
  files: string[];
  rounds: Array<"submit" | "withdraw">;
  reviews: Review[];
  verdicts: Verdict[];
}

const conf = (s: Script) =>
  runSession(
    options,
    (cluster, trace) => {
      servePc(cluster.peer("committee").runtime, cluster.peer("committee").server);
      serveAuthor(cluster.peer("alice").runtime, cluster.peer("alice").server, { files: s.files, rounds: s.rounds, trace });
      serveConfman(cluster.peer("easychair").runtime, cluster.peer("easychair").server, { trace });
    },
    (cluster, trace) => runPc(cluster.peer("committee").runtime, { pc: "committee", author: "alice", confman: "easychair" }, { call: "CSF", reviews: s.reviews, verdicts: s.verdicts }, trace),
  );

// The expected trace, message by message.
const cfp = "pc → author  Cfp(CSF)";
const bad = (f: string) => [`author → confman  Upload(${f})`, "confman → author  BadFormat(PDF only)"];
const ok = (f: string) => [`author → confman  Upload(${f})`, "confman → author  Ok"];
const submit = (p: string) => [`author → confman  Submit(${p})`, `confman → pc  Paper(${p})`];
const revise = ["pc → confman  ReqRevision(please shorten section 3)", "confman → author  Revise"];
const withdraw = ["author → confman  Withdraw", "confman → pc  Retract"];
const close = ["pc → confman  Close", "confman → pc  Done"];
const shepherd = (n: number) => [`pc → author  Shepherd(shepherding round ${n})`, `author → pc  Rebuttal(answer to "shepherding round ${n}")`];
const accept = (p: string) => ["pc → author  Accept(congratulations)", `author → pc  FinalVersion(${p} (camera-ready))`];
const reject = ["pc → author  Reject"];

const cases: Array<[string, Script, Outcome, string[]]> = [
  [
    "Ok at once, then Withdraw",
    { files: ["p.pdf"], rounds: ["withdraw"], reviews: [], verdicts: [] },
    "withdrawn",
    [cfp, ...ok("p.pdf"), ...withdraw],
  ],
  [
    "3 BadFormat, Ok; Submit + ReqRevision ×3; Submit, Close; Shepherd ×3; Accept",
    { files: ["p.docx", "p.odt", "p.tex", "p.pdf"], rounds: ["submit", "submit", "submit", "submit"], reviews: ["revise", "revise", "revise", "close"], verdicts: ["shepherd", "shepherd", "shepherd", "accept"] },
    "accepted",
    [
      cfp, ...bad("p.docx"), ...bad("p.odt"), ...bad("p.tex"), ...ok("p.pdf"),
      ...submit("p.pdf v1"), ...revise, ...submit("p.pdf v2"), ...revise, ...submit("p.pdf v3"), ...revise, ...submit("p.pdf v4"), ...close,
      ...shepherd(1), ...shepherd(2), ...shepherd(3), ...accept("p.pdf v4"),
    ],
  ],
  [
    "Submit, Close, Accept at once",
    { files: ["p.pdf"], rounds: ["submit"], reviews: ["close"], verdicts: ["accept"] },
    "accepted",
    [cfp, ...ok("p.pdf"), ...submit("p.pdf v1"), ...close, ...accept("p.pdf v1")],
  ],
  [
    "Submit, Close, Reject at once",
    { files: ["p.pdf"], rounds: ["submit"], reviews: ["close"], verdicts: ["reject"] },
    "rejected",
    [cfp, ...ok("p.pdf"), ...submit("p.pdf v1"), ...close, ...reject],
  ],
  [
    "Submit, Close, Shepherd, then Reject",
    { files: ["p.pdf"], rounds: ["submit"], reviews: ["close"], verdicts: ["shepherd", "reject"] },
    "rejected",
    [cfp, ...ok("p.pdf"), ...submit("p.pdf v1"), ...close, ...shepherd(1), ...reject],
  ],
  [
    "BadFormat, Ok, Submit, ReqRevision, then Withdraw",
    { files: ["p.docx", "p.pdf"], rounds: ["submit", "withdraw"], reviews: ["revise"], verdicts: [] },
    "withdrawn",
    [cfp, ...bad("p.docx"), ...ok("p.pdf"), ...submit("p.pdf v1"), ...revise, ...withdraw],
  ],
];

for (const [title, script, outcome, lines] of cases) {
  test(`Conf: ${title}`, async (t) => {
    const o = await conf(script);
    t.is(o.result, outcome);
    t.deepEqual(o.report, honest(options, lines));
  });
}

test("Conf: main.ts runs and exits 0", (t) => {
  const output = runMain("conf");
  t.regex(output, /confman → author {2}BadFormat\(PDF only\)[\s\S]*pc → confman {2}ReqRevision[\s\S]*pc → author {2}Shepherd[\s\S]*→ accepted/);
  t.regex(output, /author → confman {2}Withdraw\n.*confman → pc {2}Retract\n.*→ withdrawn/);
});
