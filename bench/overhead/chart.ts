/**
 * bench/results.svg: a hand-written SVG bar chart of the overhead results —
 * for Conf and Wsne, each mode's time relative to the unprotected run of the
 * same process, with the seed's Conf figures beside ours. No dependency.
 */
import { SEED_CONF_OVERHEAD } from "../seed.js";
import { MODES } from "./modes.js";
import type { Results, Row } from "./results.js";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Bar {
  readonly label: string;
  readonly value: number;
  readonly color: string;
  readonly text: string;
}

const OURS = "#2f6db5";
const SEED = "#a0a0a0";
const PLAIN = "#5aa469";

function bars(rows: Row[], withSeed: boolean): Bar[][] {
  return rows.map((r) => {
    const mode = MODES.find((m) => m.id === r.mode)!;
    const group: Bar[] = [{ label: mode.label, value: r.ratio, color: mode.kind === "plain" ? PLAIN : OURS, text: `${r.ratio.toFixed(2)}× (${r.usPerMessage.toFixed(0)} µs/msg)` }];
    const seed = withSeed && mode.seedRow !== undefined ? SEED_CONF_OVERHEAD[mode.seedRow] : undefined;
    if (seed !== undefined) group.push({ label: `seed: ${seed.mode}`, value: 1 + seed.overhead, color: SEED, text: `${(1 + seed.overhead).toFixed(2)}× (${seed.seconds} s)` });
    return group;
  });
}

/** The chart for `r`. */
export function chartSvg(r: Results): string {
  const panels: Array<{ title: string; groups: Bar[][] }> = [
    { title: `Conf, ${String(r.config["confRunMessages"])} messages: time relative to unprotected (same process)`, groups: bars(r.conf, true) },
    { title: `Wsne (two parties, one loop), ${String(r.config["wsneRunMessages"])} messages: time relative to unprotected`, groups: bars(r.wsne, false) },
  ];
  const width = 980;
  const labelW = 430;
  const barH = 16;
  const gap = 6;
  const max = Math.max(2, ...panels.flatMap((p) => p.groups.flat().map((b) => b.value)));
  const scale = (width - labelW - 190) / max;
  const out: string[] = [];
  let y = 56;
  for (const p of panels) {
    out.push(`<text x="10" y="${y}" font-weight="bold">${esc(p.title)}</text>`);
    y += 26;
    const top = y;
    for (const g of p.groups) {
      for (const b of g) {
        const w = Math.max(1, b.value * scale);
        out.push(`<text x="${labelW - 8}" y="${y + barH - 4}" text-anchor="end" fill="${b.color === SEED ? "#666" : "#222"}">${esc(b.label)}</text>`);
        out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.color}"/>`);
        out.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH - 4}">${esc(b.text)}</text>`);
        y += barH + 2;
      }
      y += gap;
    }
    const x1 = labelW + scale;
    out.push(`<line x1="${x1.toFixed(1)}" y1="${top - 4}" x2="${x1.toFixed(1)}" y2="${y - gap}" stroke="#c33" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(x1 + 3).toFixed(1)}" y="${top - 6}" fill="#c33" font-size="11">1.0 = unprotected</text>`);
    y += 28;
  }
  const legend = [
    [OURS, "secsession (this run)"],
    [PLAIN, "grpc-js without secsession (this run)"],
    [SEED, "s2ml seed (SESSIONS.md, its own machine)"],
  ]
    .map(([c, t], i) => `<rect x="${10 + i * 300}" y="${y - 10}" width="12" height="12" fill="${c}"/><text x="${28 + i * 300}" y="${y}">${esc(t!)}</text>`)
    .join("");
  const footer = [
    `Node ${r.versions["node"]}, ${r.machine.cpus} × ${r.machine.model}, ${r.date.slice(0, 10)}; median of ${r.conf[0]?.runsMs.length ?? 0} repetitions, modes interleaved.`,
    `Load average ${r.machine.loadAverage.start.toFixed(1)} at the start: a shared machine, absolute times are noisy. Tables and targets: bench/RESULTS.md.`,
  ];
  const height = y + 52;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="24" font-size="16" font-weight="bold">secsession run-time overhead (npm run bench)</text>
${out.join("\n")}
${legend}
${footer.map((l, i) => `<text x="10" y="${y + 24 + i * 14}" font-size="11" fill="#555">${esc(l)}</text>`).join("\n")}
</svg>
`;
}
