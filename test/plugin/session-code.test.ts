/**
 * The session code depends on the protocol and its fully-qualified names
 * only: the same session compiled from different source layouts (the file
 * under another directory of the module, its message types imported from
 * another path) gets the same code, so the services built from either
 * layout can talk; a change to the protocol changes it.
 */
import test from "ava";
import { runPlugin, bufBuild } from "../support/plugin-run.js";

const TYPES = `
syntax = "proto3";
package market.types;
message Offer { string item = 1; int64 cents = 2; }
message Verdict { oneof outcome { string approved = 1; string declined = 2; } }
`;

/** The market session; its message types live in `typesPath`. */
const market = (typesPath: string, protocol = "b => k.Pay;") => `
syntax = "proto3";
package market;
import "${typesPath}";
import "secsession/v1/options.proto";
option (secsession.v1.session) = {
  name: "Market"
  roles: [ { name: "b" }, { name: "k" service: "Kiosk" } ]
  protocol: "${protocol}"
};
service Kiosk { rpc Pay(market.types.Offer) returns (market.types.Verdict); }
`;

/** Compiles `sessionPath` (with `types` beside it in the module) through buf and the plugin; returns the session code and the declared file. */
function compiled(sessionPath: string, typesPath: string, protocol?: string): { code: string; file: string } {
  const built = bufBuild({ [typesPath]: TYPES, [sessionPath]: market(typesPath, protocol) });
  const out = runPlugin(built.files, [sessionPath], [built.dir]);
  if (out.error !== undefined) throw new Error(out.error);
  const ts = out.files.get(sessionPath.replace(/\.proto$/, "_secsession.ts"));
  const code = ts?.match(/"code": "([0-9a-f]{64})"/)?.[1];
  const file = ts?.match(/"file": ("[^"]*")/)?.[1];
  if (code === undefined || file === undefined) throw new Error(`no descriptor generated for ${sessionPath}`);
  return { code, file: JSON.parse(file) as string };
}

test("the same session under different paths of the module has the same session code", (t) => {
  const flat = compiled("market.proto", "types.proto");
  const nested = compiled("vendor/acme/market/market.proto", "vendor/acme/market/types.proto");
  const split = compiled("services/market.proto", "shared/market/types.proto");
  // The layouts really differ: the descriptor still says where each was declared.
  t.deepEqual([flat.file, nested.file, split.file], ["market.proto", "vendor/acme/market/market.proto", "services/market.proto"]);
  t.is(nested.code, flat.code);
  t.is(split.code, flat.code);
});

test("a change to the protocol changes the session code, wherever the file is", (t) => {
  const call = compiled("market.proto", "types.proto");
  const branched = compiled("market.proto", "types.proto", "b => k.Pay ? { approved: declined: }");
  const branchedNested = compiled("vendor/market.proto", "vendor/types.proto", "b => k.Pay ? { approved: declined: }");
  t.not(branched.code, call.code);
  t.is(branchedNested.code, branched.code);
});
