/**
 * A drawing as a self-contained SVG, laid out in layers: states top-down by
 * their longest distance from the start; an edge to the next layer goes
 * straight down with its label on it; longer edges run in lanes on the left,
 * edges that close a loop (dashed) in lanes on the right, their labels in a
 * column beside the lanes at the height of their path. Good enough to read a
 * session at a glance; use the DOT output with Graphviz for print.
 */
import { layers, type DrawEdge, type DrawGraph } from "./render-model.js";

const CHAR = 6.6; // average glyph width of 11 px Helvetica
const NODE_H = 28;
const LAYER_GAP = 84;
const NODE_GAP = 48;
const MARGIN = 24;
const LANE = 14;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const textWidth = (s: string) => s.length * CHAR;

interface Box {
  readonly x: number; // centre
  readonly y: number; // top
  readonly w: number;
}

type Route = { kind: "down"; e: DrawEdge; k: number; sibling: number } | { kind: "left" | "right"; e: DrawEdge; lane: number };

export function svgOf(g: DrawGraph): string {
  const rows = layers(g);
  const layerOf = new Map(rows.flatMap((r, i) => r.map((id) => [id, i] as const)));
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const width = (id: string) => Math.max(56, textWidth(byId.get(id)!.label) + 24);
  const rowWidth = (r: string[]) => r.reduce((a, id) => a + width(id), 0) + NODE_GAP * (r.length - 1);

  // Routes: next layer down, a longer way down (left lanes), or back up / a loop (right lanes).
  const pairs = new Map<string, number>();
  const siblings = new Map<string, number>();
  let left = 0;
  let right = 0;
  const routes: Route[] = g.edges.map((e) => {
    const d = layerOf.get(e.to)! - layerOf.get(e.from)!;
    if (e.loop || d <= 0) return { kind: "right", e, lane: right++ };
    if (d > 1) return { kind: "left", e, lane: left++ };
    const key = `${e.from}>${e.to}`;
    const k = pairs.get(key) ?? 0;
    pairs.set(key, k + 1);
    const sibling = siblings.get(e.from) ?? 0;
    siblings.set(e.from, sibling + 1);
    return { kind: "down", e, k, sibling };
  });
  const labelsOf = (kind: "left" | "right") => routes.filter((r) => r.kind === kind).map((r) => textWidth(r.e.label));
  const leftLabels = Math.max(0, ...labelsOf("left"));
  const rightLabels = Math.max(0, ...labelsOf("right"));
  const downLabels = Math.max(0, ...routes.filter((r) => r.kind === "down").map((r) => textWidth(r.e.label) + 16));
  const inner = Math.max(200, downLabels, ...rows.map(rowWidth));
  const leftLaneX = (i: number) => MARGIN + leftLabels + 14 + (left - 1 - i) * LANE;
  const colX = MARGIN + leftLabels + 14 + left * LANE + 16;
  const rightLaneX = (i: number) => colX + inner + 16 + i * LANE;
  const rightLabelX = rightLaneX(right) + 4;
  const canvasW = right > 0 ? rightLabelX + rightLabels + MARGIN : colX + inner + MARGIN;
  const canvasH = MARGIN * 2 + 30 + rows.length * LAYER_GAP;

  const boxes = new Map<string, Box>();
  rows.forEach((r, i) => {
    let x = colX + (inner - rowWidth(r)) / 2;
    for (const id of r) {
      const w = width(id);
      boxes.set(id, { x: x + w / 2, y: MARGIN + 30 + i * LAYER_GAP, w });
      x += w + NODE_GAP;
    }
  });

  const parts: string[] = [];
  const side: Record<"left" | "right", Array<{ y: number; text: string }>> = { left: [], right: [] };
  for (const r of routes) {
    const a = boxes.get(r.e.from)!;
    const b = boxes.get(r.e.to)!;
    if (r.kind === "down") {
      parts.push(downEdge(r.e, a, b, r.k, r.sibling - ((siblings.get(r.e.from) ?? 1) - 1) / 2));
      continue;
    }
    const lane = r.kind === "left" ? leftLaneX(r.lane) : rightLaneX(r.lane);
    const sx = r.kind === "left" ? a.x - a.w / 2 : a.x + a.w / 2;
    const tx = r.kind === "left" ? b.x - b.w / 2 : b.x + b.w / 2;
    const y1 = a.y + NODE_H / 2;
    const y2 = b.y + NODE_H / 2 + (y1 === b.y + NODE_H / 2 ? 6 : 0);
    const path = `M ${sx.toFixed(1)} ${y1} L ${lane.toFixed(1)} ${y1} L ${lane.toFixed(1)} ${y2} L ${tx.toFixed(1)} ${y2}`;
    parts.push(`<path d="${path}" fill="none" stroke="#333"${r.e.loop ? ' stroke-dasharray="5 3"' : ""} marker-end="url(#arrow)"/>`);
    side[r.kind].push({ y: (y1 + y2) / 2, text: r.e.label });
  }
  for (const [kind, labels] of Object.entries(side) as Array<["left" | "right", Array<{ y: number; text: string }>]>) {
    // Side labels sit at the height of their path, pushed apart where they would overlap.
    labels.sort((p, q) => p.y - q.y);
    let last = -Infinity;
    for (const l of labels) {
      const y = Math.max(l.y, last + 14);
      last = y;
      const x = kind === "left" ? MARGIN + leftLabels : rightLabelX;
      parts.push(`<text x="${x.toFixed(1)}" y="${(y + 4).toFixed(1)}" text-anchor="${kind === "left" ? "end" : "start"}" fill="#124">${esc(l.text)}</text>`);
    }
  }
  for (const n of g.nodes) {
    const b = boxes.get(n.id)!;
    const x = b.x - b.w / 2;
    parts.push(`<rect x="${x.toFixed(1)}" y="${b.y}" width="${b.w.toFixed(1)}" height="${NODE_H}" rx="14" fill="${n.final ? "#eee" : "#fff"}" stroke="#333" stroke-width="${n.initial ? 2.5 : 1}"/>`);
    if (n.final) parts.push(`<rect x="${(x + 3).toFixed(1)}" y="${b.y + 3}" width="${(b.w - 6).toFixed(1)}" height="${NODE_H - 6}" rx="11" fill="none" stroke="#333"/>`);
    parts.push(`<text x="${b.x.toFixed(1)}" y="${b.y + 18}" text-anchor="middle">${esc(n.label)}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${canvasW.toFixed(0)}" height="${canvasH}" viewBox="0 0 ${canvasW.toFixed(0)} ${canvasH}" font-family="Helvetica, Arial, sans-serif" font-size="11">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${MARGIN}" y="${MARGIN + 6}" font-size="14" font-weight="bold">${esc(g.title)}</text>
${parts.join("\n")}
</svg>
`;
}

/**
 * An edge to the next layer: from the bottom of `a` to the top of `b`, its
 * label on it; parallel ones bend apart, and the labels of edges leaving the
 * same state are staggered by `stagger` lines.
 */
function downEdge(e: DrawEdge, a: Box, b: Box, k: number, stagger: number): string {
  const bend = k === 0 ? 0 : (k % 2 === 1 ? 1 : -1) * Math.ceil(k / 2) * 40;
  const x1 = a.x;
  const y1 = a.y + NODE_H;
  const x2 = b.x;
  const y2 = b.y;
  const my = (y1 + y2) / 2;
  const t = 0.5 + (stagger * 14) / (y2 - y1); // where on the edge the label sits
  const ly = y1 + t * (y2 - y1);
  const mx = x1 + t * (x2 - x1) + bend * 0.75;
  const path = `M ${x1.toFixed(1)} ${y1} C ${(x1 + bend).toFixed(1)} ${my.toFixed(1)}, ${(x2 + bend).toFixed(1)} ${my.toFixed(1)}, ${x2.toFixed(1)} ${y2}`;
  const w = textWidth(e.label) + 8;
  return `<path d="${path}" fill="none" stroke="#333" marker-end="url(#arrow)"/><rect x="${(mx - w / 2).toFixed(1)}" y="${(ly - 9).toFixed(1)}" width="${w.toFixed(1)}" height="13" fill="#fff" fill-opacity="0.9"/><text x="${mx.toFixed(1)}" y="${(ly + 1).toFixed(1)}" text-anchor="middle" fill="#124">${esc(e.label)}</text>`;
}
