/**
 * Drawings of a session for people: the global graph or one role's
 * projection as Mermaid (for Markdown), Graphviz DOT, or a self-contained
 * SVG with a simple layered layout (no Graphviz needed). Edges that close a
 * loop are dashed.
 *
 * @example
 * renderSession(ConfSession, { format: "mermaid" });          // the global graph
 * renderSession(ConfSession, { format: "svg", role: "author" }); // the author's projection
 */
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { globalDrawing, projectionDrawing, type DrawGraph } from "./render-model.js";
import { svgOf } from "./render-svg.js";

export type GraphFormat = "mermaid" | "dot" | "svg";
export const GRAPH_FORMATS: readonly GraphFormat[] = ["mermaid", "dot", "svg"];

export interface RenderOptions {
  readonly format: GraphFormat;
  /** Draw this role's projection instead of the global graph. */
  readonly role?: string;
}

/** The drawing of `d` in `options.format`. */
export function renderSession(d: SessionDescriptor, options: RenderOptions): string {
  const g = options.role === undefined ? globalDrawing(d) : projectionDrawing(d, options.role);
  switch (options.format) {
    case "mermaid":
      return mermaidOf(g);
    case "dot":
      return dotOf(g);
    case "svg":
      return svgOf(g);
  }
}

/** Mermaid flowchart text: `"` and markup characters are written as entity codes. */
function mermaidText(s: string): string {
  return s.replace(/[#"<>&]/g, (c) => `#${c.charCodeAt(0)};`);
}

export function mermaidOf(g: DrawGraph): string {
  const lines = ["flowchart TD", `  %% ${mermaidText(g.title)}`];
  for (const n of g.nodes) {
    const text = `"${mermaidText(n.label)}"`;
    lines.push(`  ${n.id}${n.final ? `(((${text})))` : n.initial ? `([${text}])` : `(${text})`}`);
  }
  for (const e of g.edges) lines.push(`  ${e.from} ${e.loop ? "-.->" : "-->"}|"${mermaidText(e.label)}"| ${e.to}`);
  return `${lines.join("\n")}\n`;
}

const dotString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function dotOf(g: DrawGraph): string {
  const lines = [`digraph ${dotString(g.title)} {`, `  label=${dotString(g.title)};`, "  labelloc=t;", '  node [shape=box, style=rounded, fontname="Helvetica"];', '  edge [fontname="Helvetica", fontsize=10];'];
  for (const n of g.nodes) {
    const attrs = [`label=${dotString(n.label)}`];
    if (n.final) attrs.push("peripheries=2");
    if (n.initial) attrs.push("style=\"rounded,bold\"");
    lines.push(`  ${n.id} [${attrs.join(", ")}];`);
  }
  for (const e of g.edges) lines.push(`  ${e.from} -> ${e.to} [label=${dotString(e.label)}${e.loop ? ", style=dashed, constraint=false" : ""}];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
