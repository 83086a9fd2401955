#!/usr/bin/env node
// The `secsession` executable: registers tsx (the CLI is TypeScript), then runs cli/secsession.ts.
// Both hooks: descriptor modules (`--descriptor x_secsession.ts`) may live in a package that is not "type": "module".
import { register as registerCjs } from "tsx/cjs/api";
import { register as registerEsm } from "tsx/esm/api";

registerCjs();
registerEsm();
const { main } = await import("./secsession.ts");
process.exitCode = await main(process.argv.slice(2));
