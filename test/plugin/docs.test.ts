import test from "ava";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/plugin-run.js";
import { exampleDescriptors } from "../support/examples.js";

const language = readFileSync(join(ROOT, "docs", "language.md"), "utf8");
const descriptor = readFileSync(join(ROOT, "docs", "descriptor.md"), "utf8");

test("docs/language.md cites only corpus cases that exist", (t) => {
  const cited = [...language.matchAll(/`([a-z_]+\.proto)`/g)].map((m) => m[1]!);
  t.true(cited.length >= 20);
  for (const c of cited) t.true(existsSync(join(ROOT, "test", "plugin", "corpus", c)), c);
});

test("docs/language.md documents every keyword of the grammar", (t) => {
  const parser = readFileSync(join(ROOT, "plugin", "language", "parser.ts"), "utf8");
  const keywords = /const KEYWORDS = new Set\(\[([^\]]*)\]\)/.exec(parser)![1]!.match(/"(\w+)"/g)!.map((k) => k.slice(1, -1));
  for (const k of keywords) t.true(language.includes(`"${k}"`) || language.includes(` ${k} `), k);
});

test("docs/descriptor.md documents every field the plugin emits", (t) => {
  const d = exampleDescriptors().get("Shopping")!;
  const keys = new Set<string>([...Object.keys(d), ...Object.keys(d.edges[0]!), ...Object.keys(d.roles[0]!), ...Object.keys(d.states[0]!)]);
  const p = Object.values(d.projections)[0]!;
  for (const k of [...Object.keys(p), ...Object.keys(p.states[0]!), ...Object.keys(p.transitions[0]!)]) keys.add(k);
  const missing = [...keys].filter((k) => !descriptor.includes(`\`${k}\``));
  t.deepEqual(missing, []);
});
