/**
 * Small inline SVG plots for the HTML report: no scripts, no external references.
 */

export interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: readonly (readonly [number, number])[];
}

const WIDTH = 520;
const HEIGHT = 260;
const MARGIN = { left: 56, right: 12, top: 24, bottom: 40 };

/** Distinct colours for up to 8 variants, then repeating. */
export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

export function escapeXml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** Line plot of each series against a numeric x axis (e.g. loss per epoch). */
export function linePlot(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (all.length === 0) return emptyPlot(title);
  const [x0, x1] = range(all.map((p) => p[0]));
  const [y0, y1] = range(all.map((p) => p[1]));
  const sx = scale(x0, x1, MARGIN.left, WIDTH - MARGIN.right);
  const sy = scale(y0, y1, HEIGHT - MARGIN.bottom, MARGIN.top);
  const lines = series.map((s) => {
    const d = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], k) => `${k === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(" ");
    return `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.5"><title>${escapeXml(s.label)}</title></path>`;
  });
  return frame(title, xLabel, yLabel, [x0, x1], [y0, y1], lines, legend(series));
}

/** Dots per category (e.g. one dot per fold, one colour per variant), jittered within the category. */
export function dotPlot(title: string, categories: readonly string[], yLabel: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  if (all.length === 0) return emptyPlot(title);
  const [y0, y1] = range(all);
  const sy = scale(y0, y1, HEIGHT - MARGIN.bottom, MARGIN.top);
  const band = (WIDTH - MARGIN.left - MARGIN.right) / categories.length;
  const dots: string[] = [];
  series.forEach((s, k) => {
    const offset = (k + 1) / (series.length + 1);
    for (const [category, y] of s.points) {
      if (!Number.isFinite(y)) continue;
      const cx = MARGIN.left + band * (category + offset);
      dots.push(`<circle cx="${cx.toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="${s.colour}"><title>${escapeXml(`${s.label}: ${y}`)}</title></circle>`);
    }
  });
  const labels = categories.map(
    (c, k) => `<text x="${(MARGIN.left + band * (k + 0.5)).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${escapeXml(c)}</text>`,
  );
  return frame(title, "", yLabel, undefined, [y0, y1], [...dots, ...labels], legend(series));
}

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  xRange: readonly [number, number] | undefined,
  yRange: readonly [number, number],
  body: readonly string[],
  legendText: string,
): string {
  const bottom = HEIGHT - MARGIN.bottom;
  const right = WIDTH - MARGIN.right;
  const parts = [
    `<svg class="plot" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeXml(title)}">`,
    `<text x="${WIDTH / 2}" y="14" text-anchor="middle" class="title">${escapeXml(title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#444"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#444"/>`,
    `<text x="${MARGIN.left - 4}" y="${bottom}" text-anchor="end">${tick(yRange[0])}</text>`,
    `<text x="${MARGIN.left - 4}" y="${MARGIN.top + 8}" text-anchor="end">${tick(yRange[1])}</text>`,
    `<text x="12" y="${(MARGIN.top + bottom) / 2}" transform="rotate(-90 12 ${(MARGIN.top + bottom) / 2})" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  ];
  if (xRange !== undefined) {
    parts.push(
      `<text x="${MARGIN.left}" y="${bottom + 16}" text-anchor="start">${tick(xRange[0])}</text>`,
      `<text x="${right}" y="${bottom + 16}" text-anchor="end">${tick(xRange[1])}</text>`,
      `<text x="${(MARGIN.left + right) / 2}" y="${HEIGHT - 6}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    );
  }
  parts.push(...body, legendText, "</svg>");
  return parts.join("\n");
}

function legend(series: readonly Series[]): string {
  const seen = new Map<string, string>();
  for (const s of series) if (!seen.has(s.label)) seen.set(s.label, s.colour);
  return [...seen].map(([label, colour], k) =>
    `<g transform="translate(${WIDTH - MARGIN.right - 120},${MARGIN.top + 4 + k * 14})"><rect width="10" height="10" fill="${colour}"/><text x="14" y="9">${escapeXml(label)}</text></g>`,
  ).join("\n");
}

function emptyPlot(title: string): string {
  return `<svg class="plot" viewBox="0 0 ${WIDTH} 40" width="${WIDTH}" height="40" role="img" aria-label="${escapeXml(title)}"><text x="8" y="24">${escapeXml(title)}: no data</text></svg>`;
}

function range(values: readonly number[]): [number, number] {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  return (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
}

function tick(value: number): string {
  return Math.abs(value) >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toPrecision(3);
}
