/**
 * @bufbuild/protoplugin, loaded through require. Its ESM build imports the
 * TypeScript compiler (a CommonJS module) statically, and node scans a
 * CommonJS module imported from ESM for its named exports: for typescript.js
 * that costs about a second at every plugin start, which protoc-gen-es (CommonJS)
 * does not pay. Required, the same module loads in about a third of that.
 */
import { createRequire } from "node:module";
import type * as Protoplugin from "@bufbuild/protoplugin";

export const protoplugin = createRequire(import.meta.url)("@bufbuild/protoplugin") as typeof Protoplugin;
