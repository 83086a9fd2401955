/**
 * Runs the Select session on loopback with two search servers: the portal
 * sends European queries to search-eu and the others to search-us, binding
 * w to the one it picks; the client gets its Reply from that one.
 *
 *   npx tsx examples/select/main.ts
 */
import { demo, out } from "../support/scenario.js";
import { runC, serveC, serveP, serveW } from "./parties.js";

const route = (query: string) => (query.startsWith("eu/") ? "search-eu" : "search-us");
for (const query of ["eu/rail strikes", "us/rail strikes"]) {
  const hits = await demo(
    `Select: c searches "${query}" through portal p (w is ${route(query)})`,
    { principals: ["client", "portal", "search-eu", "search-us"], roles: ["c", "p", `w@${route(query)}`] },
    (cluster, trace) => {
      serveC(cluster.peer("client").runtime, cluster.peer("client").server);
      serveP(cluster.peer("portal").runtime, cluster.peer("portal").server, { route, trace });
      for (const [id, hits] of [["search-eu", 1_204n], ["search-us", 385n]] as const) {
        serveW(cluster.peer(id).runtime, cluster.peer(id).server, { hits: { [query]: hits }, as: `w@${id}`, trace });
      }
    },
    (cluster, trace) => runC(cluster.peer("client").runtime, { c: "client", p: "portal" }, { query, credentials: "alice:token-42" }, trace),
  );
  out(`  → ${hits} hits`);
}
