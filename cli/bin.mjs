#!/usr/bin/env node
// Runs the TypeScript CLI through tsx.
import { register } from "tsx/esm/api";
register();
await import("./secsession.ts");
