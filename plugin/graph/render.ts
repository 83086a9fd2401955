/**
 * Drawings of a session for people: the global graph or one role's
 * projection as Mermaid (for Markdown), Graphviz DOT, or SVG laid out by
 * Graphviz itself (dot, compiled to WebAssembly: package
 * @hpcc-js/wasm-graphviz, an optional peer of secsession). Edges that close a
 * loop are dashed.
 *
 * @example
 * await renderSession(ConfSession, { format: "mermaid" });          // the global graph
 * await renderSession(ConfSession, { format: "svg", role: "author" }); // the author's projection
 */
import type { SessionDescriptor } from "../../interceptors/descriptor/types.js";
import { globalDrawing, projectionDrawing, type DrawGraph } from "./render-model.js";

export type GraphFormat = "mermaid" | "dot" | "svg";
export const GRAPH_FORMATS: readonly GraphFormat[] = ["mermaid", "dot", "svg"];

export interface RenderOptions {
  readonly format: GraphFormat;
  /** Draw this role's projection instead of the global graph. */
  readonly role?: string;
}

/** The drawing of `d` in `options.format`. */
export async function renderSession(d: SessionDescriptor, options: RenderOptions): Promise<string> {
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

/** Thrown when the graph engine is not installed. */
export class GraphEngineMissingError extends Error {}

/**
 * SVG of `g`, laid out by Graphviz's dot: a self-contained `<svg>` element
 * (no XML prolog or DOCTYPE, so that it can be inlined in HTML or Markdown).
 */
export async function svgOf(g: DrawGraph): Promise<string> {
  let engine: { dot(source: string, format: "svg"): string };
  try {
    const { Graphviz } = (await import("@hpcc-js/wasm-graphviz")) as { Graphviz: { load(): Promise<{ dot(source: string, format: "svg"): string }> } };
    engine = await Graphviz.load();
  } catch (e: unknown) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new GraphEngineMissingError("SVG drawings are laid out by Graphviz (WebAssembly): npm install --save-dev @hpcc-js/wasm-graphviz, or use --format dot or mermaid");
    }
    throw e;
  }
  const svg = engine.dot(dotOf(g, { compact: true }), "svg");
  const start = svg.indexOf("<svg");
  // xmlns first, as a standalone SVG file starts.
  return `${svg.slice(start).replace(/^<svg ([^>]*?)\s*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, '<svg xmlns="http://www.w3.org/2000/svg" $1').trimEnd()}\n`;
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

/**
 * Graphviz DOT of `g`. `compact`: edge labels on two lines (who to whom, then
 * the message), padded, for the SVG laid out here: narrow labels, which dot
 * places beside their edge, with room for renderers whose fallback font is
 * wider than the Helvetica metrics dot lays out with.
 */
export function dotOf(g: DrawGraph, options: { readonly compact?: boolean } = {}): string {
  const lines = [
    `digraph ${dotString(g.title)} {`,
    `  label=${dotString(g.title)};`,
    "  labelloc=t;",
    '  fontname="Helvetica";',
    "  nodesep=0.35;",
    "  ranksep=0.45;",
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const n of g.nodes) {
    const attrs = [`label=${dotString(n.label)}`];
    if (n.final) attrs.push("peripheries=2");
    if (n.initial) attrs.push("style=\"rounded,bold\"");
    lines.push(`  ${n.id} [${attrs.join(", ")}];`);
  }
  const edgeLabel = (label: string) =>
    options.compact === true ? dotString(label.replace(": ", "\n").split("\n").map((l) => `\u00a0${l}\u00a0`).join("\n")).replace(/\n/g, "\\n") : dotString(label);
  for (const e of g.edges) lines.push(`  ${e.from} -> ${e.to} [label=${edgeLabel(e.label)}${e.loop ? ", style=dashed, constraint=false" : ""}];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
