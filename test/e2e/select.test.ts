/**
 * Select over real gRPC on loopback, with two principals (server-a,
 * server-b) both serving role w: p binds w at run time to the one it picks
 * (`bind w = server`), and c gets the Reply from that one. Both choices.
 */
import test from "ava";
import { runC, serveC, serveP, serveW } from "../../examples/select/parties.js";
import { runMain } from "../../examples/support/run-main.js";
import { honest, runSession } from "../../examples/support/scenario.js";

const principals = ["client", "portal", "server-a", "server-b"];
const hits = { "server-a": 11n, "server-b": 22n } as const;

for (const chosen of ["server-a", "server-b"] as const) {
  const other = chosen === "server-a" ? "server-b" : "server-a";
  test(`Select: p binds w to ${chosen}; c's Reply comes from ${chosen}, ${other} takes no part`, async (t) => {
    const options = { principals, roles: ["c", "p", `w@${chosen}`] };
    const routed: string[] = [];
    const o = await runSession(
      options,
      (cluster, trace) => {
        serveC(cluster.peer("client").runtime, cluster.peer("client").server);
        const route = (query: string) => (routed.push(query), chosen);
        serveP(cluster.peer("portal").runtime, cluster.peer("portal").server, { route, trace });
        for (const id of ["server-a", "server-b"] as const) {
          serveW(cluster.peer(id).runtime, cluster.peer(id).server, { hits: { "rail strikes": hits[id] }, as: `w@${id}`, trace });
        }
      },
      (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", p: "portal" }, { query: "rail strikes", credentials: "alice:token" }, trace),
    );
    t.deepEqual(routed, ["rail strikes"]);
    t.is(o.result, hits[chosen], `the hit count is ${chosen}'s`);
    t.deepEqual(
      o.report,
      honest(options, [
        "c → p  Query(rail strikes, by alice:token)",
        `p → w@${chosen}  Forward(rail strikes, server ${chosen})`,
        `w → c  Reply(${hits[chosen]})`,
      ]),
    );
    t.is(o.accepted[chosen], 1, `${chosen} accepted the Forward`);
    t.is(o.accepted[other], 0, `${other} saw nothing`);
    t.is(o.accepted["client"], 1, "c accepted the Reply of the bound principal");
  });
}

test("Select: main.ts runs and exits 0", (t) => {
  t.regex(runMain("select"), /p → w@search-eu {2}Forward[\s\S]*Reply\(1204\)[\s\S]*p → w@search-us {2}Forward[\s\S]*Reply\(385\)/);
});
