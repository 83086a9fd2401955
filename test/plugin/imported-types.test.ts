/**
 * A session whose message types come from an imported .proto file (issue
 * break 14). The generated role definitions named the file of the first
 * message type they found — the imported one — so the role's service, which
 * is in the session's own file, could not be found and the role could not be
 * served. They name the session's own file; its imports are followed for the
 * message types. End to end: buf generate with protoc-gen-es and the plugin,
 * import the generated code, serve the role and call it over real gRPC.
 */
import test from "ava";
import * as grpc from "@grpc/grpc-js";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createSessionRuntime, generateIdentity, publicKeysOf, staticResolver, type RoleDefinition } from "../../interceptors/index.js";
import { ROOT } from "../support/plugin-run.js";

const TYPES = `
syntax = "proto3";
package imp.types;
message Query { string text = 1; }
message Answer { string text = 1; }
`;
const SESSION = `
syntax = "proto3";
package imp;
import "imp/types.proto";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Ask"
  roles: [ { name: "c" service: "" }, { name: "w" service: "Worker" } ]
  protocol: "c => w.Ask;"
};
service Worker { rpc Ask(imp.types.Query) returns (imp.types.Answer); }
`;

// Inside the repository (its git-ignored tmp/), so that the generated code's `import "secsession"` resolves to it.
let dir = "";
test.before(() => {
  mkdirSync(join(ROOT, "tmp"), { recursive: true });
  dir = mkdtempSync(join(ROOT, "tmp", "imported-types-"));
  cpSync(join(ROOT, "proto"), join(dir, "src"), { recursive: true });
  mkdirSync(join(dir, "src", "imp"));
  writeFileSync(join(dir, "src", "imp", "types.proto"), TYPES);
  writeFileSync(join(dir, "src", "imp", "svc.proto"), SESSION);
  writeFileSync(join(dir, "buf.yaml"), "version: v2\nmodules:\n  - path: src\n");
  writeFileSync(
    join(dir, "buf.gen.yaml"),
    [
      "version: v2",
      "plugins:",
      `  - local: ${JSON.stringify(join(ROOT, "node_modules", ".bin", "protoc-gen-es"))}`,
      "    out: gen",
      "    opt: [target=ts, import_extension=js]",
      `  - local: ["node", "--import=tsx", ${JSON.stringify(join(ROOT, "plugin", "protoc-gen-secsession.ts"))}]`,
      "    out: gen",
      "    opt: [target=ts, import_extension=js, root=src]",
      "",
    ].join("\n"),
  );
  execFileSync(join(ROOT, "node_modules", ".bin", "buf"), ["generate", "--path", "src/imp", "--path", "src/secsession"], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
});
test.after.always(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

test("the generated roles name the session's own file, not the file of its message types", (t) => {
  const code = readFileSync(join(dir, "gen", "imp", "svc_secsession.ts"), "utf8");
  t.regex(code, /export const AskW = defineRole<AskWMachine, AskWBindings>\(AskSession, "w", file_imp_svc\);/);
  t.regex(code, /import \{ file_imp_svc \} from "\.\/svc_pb\.js";/);
  t.notRegex(code, /file_imp_types\b/);
});

test("generate, serve, call: a role whose message types are imported is served and answers over gRPC", async (t) => {
  const gen = (await import(pathToFileURL(join(dir, "gen", "imp", "svc_secsession.ts")).href)) as Record<string, RoleDefinition>;
  const ids = [generateIdentity("client"), generateIdentity("worker")];
  const resolver = staticResolver(ids.map((i) => [i.id, publicKeysOf(i)] as const));
  const peers = new Map<string, string>();
  const c = createSessionRuntime({ identity: ids[0]!, resolver, peers });
  const w = createSessionRuntime({ identity: ids[1]!, resolver, peers });
  const server = new grpc.Server({ interceptors: [w.serverInterceptor()] });
  type Any = Record<string, (m: object) => Promise<{ message: { text: string }; next: object }>> & { message: { text: string }; next: Any };
  w.serve(server, gen["AskW"]!, { ask: async ({ message, next }: Any) => void (await next["askResponse"]!({ text: `answer to ${message.text}` })) } as never);
  const port = await new Promise<number>((res, rej) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  peers.set("worker", `127.0.0.1:${port}`);
  try {
    const s0 = (await c.start(gen["AskC"]!, { c: "client", w: "worker" })) as unknown as Any;
    const r = await s0["ask"]!({ text: "why" });
    t.is(r.message.text, "answer to why");
    t.true("final" in r.next);
  } finally {
    c.close();
    w.close();
    server.forceShutdown();
  }
});
