/**
 * Small self-contained SVG plots for the analysis report: a scatter plot (eigenvalues against the unit circle,
 * fixed points) and a line plot (gradient norm against lag, frequency response), with linear or log axes.
 * Output is plain SVG text with no scripts or external references, deterministic for the same input.
 * @module
 */

/** One series of a line plot. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** x values (same length as y). */
  x: ArrayLike<number>;
  /** y values; non-finite values (and values <= 0 on a log axis) break the line. */
  y: ArrayLike<number>;
  /** Stroke colour (CSS); default from a fixed palette. */
  color?: string;
  /** Dashed stroke (a prediction drawn over a measurement). */
  dashed?: boolean;
}

/** One point of a scatter plot. */
export interface ScatterPoint {
  /** Horizontal coordinate (data units). */
  x: number;
  /** Vertical coordinate (data units). */
  y: number;
  /** Fill colour (CSS); default the first palette colour. */
  color?: string;
  /** Tooltip text (an SVG `<title>`). */
  label?: string;
  /** Marker: filled circle (default), open circle or cross. */
  marker?: 'dot' | 'ring' | 'cross';
}

/** Options common to both plots. */
export interface PlotOptions {
  /** Title above the plot. */
  title: string;
  /** Label under the x axis. */
  xLabel?: string;
  /** Label beside the y axis. */
  yLabel?: string;
  /** Width in pixels (default 480). */
  width?: number;
  /** Height in pixels (default 320). */
  height?: number;
}

/** Palette (colour-blind safe, Okabe-Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const M = { left: 62, right: 16, top: 30, bottom: 44 };

/** Escapes text for SVG/HTML content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** "Nice" tick values covering [lo, hi] (1, 2, 5 times a power of ten), about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

interface Frame {
  sx: (x: number) => number;
  sy: (y: number) => number;
  parts: string[];
  w: number;
  h: number;
}

function frame(o: PlotOptions, xr: [number, number], yr: [number, number], logY: boolean, equal = false): Frame {
  const w = o.width ?? 480, h = o.height ?? 320;
  let [x0, x1] = xr, [y0, y1] = yr;
  if (equal) {
    // Same units per pixel on both axes, so that the unit circle is round.
    const pw = w - M.left - M.right, ph = h - M.top - M.bottom;
    const ux = (x1 - x0) / pw, uy = (y1 - y0) / ph, u = Math.max(ux, uy);
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    x0 = cx - (u * pw) / 2; x1 = cx + (u * pw) / 2; y0 = cy - (u * ph) / 2; y1 = cy + (u * ph) / 2;
  }
  const sx = (x: number): number => M.left + ((x - x0) / (x1 - x0)) * (w - M.left - M.right);
  const ty = (y: number): number => (logY ? Math.log10(y) : y);
  const ly0 = ty(y0), ly1 = ty(y1);
  const sy = (y: number): number => h - M.bottom - ((ty(y) - ly0) / (ly1 - ly0)) * (h - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ` +
    `font-family="sans-serif" font-size="11" role="img" aria-label="${escapeXml(o.title)}">`);
  parts.push(`<rect width="${w}" height="${h}" fill="#fff"/>`);
  parts.push(`<text x="${w / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`);
  const xt = niceTicks(x0, x1, 6);
  const yt = logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  for (const v of xt) {
    const X = sx(v);
    parts.push(`<line x1="${num(X)}" y1="${M.top}" x2="${num(X)}" y2="${h - M.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${num(X)}" y="${h - M.bottom + 14}" text-anchor="middle">${fmtTick(v)}</text>`);
  }
  for (const v of yt) {
    const Y = sy(v);
    parts.push(`<line x1="${M.left}" y1="${num(Y)}" x2="${w - M.right}" y2="${num(Y)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${num(Y + 4)}" text-anchor="end">${fmtTick(v)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${w - M.left - M.right}" height="${h - M.top - M.bottom}" ` +
    `fill="none" stroke="#888"/>`);
  if (o.xLabel) parts.push(`<text x="${(M.left + w - M.right) / 2}" y="${h - 8}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`);
  if (o.yLabel) {
    parts.push(`<text x="14" y="${(M.top + h - M.bottom) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 14 ${(M.top + h - M.bottom) / 2})">${escapeXml(o.yLabel)}</text>`);
  }
  return { sx, sy, parts, w, h };
}

function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi));
  const step = Math.max(1, Math.ceil((b - a) / 6));
  const out: number[] = [];
  for (let e = a; e <= b; e += step) if (10 ** e >= lo * (1 - 1e-9) && 10 ** e <= hi * (1 + 1e-9)) out.push(10 ** e);
  return out.length ? out : [lo];
}

function range(values: number[], pad: number, log: boolean): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && (!log || x > 0));
  if (v.length === 0) return log ? [0.1, 10] : [-1, 1];
  let lo = Math.min(...v), hi = Math.max(...v);
  if (log) {
    if (hi / lo < 10) { lo /= 3; hi *= 3; }
    return [10 ** Math.floor(Math.log10(lo)), 10 ** Math.ceil(Math.log10(hi))];
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) { lo -= 1; hi += 1; }
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

/**
 * A line plot of one or more series, with a legend; `logY` draws y on a log10 axis (values <= 0 are gaps).
 * `hLines` are dashed horizontal reference lines (e.g. a threshold).
 */
export function linePlot(series: LineSeries[], o: PlotOptions & { logY?: boolean; hLines?: { y: number; label: string }[] }): string {
  const logY = o.logY ?? false;
  const xs: number[] = [], ys: number[] = [];
  for (const s of series) for (let i = 0; i < s.x.length; i++) { xs.push(s.x[i]!); ys.push(s.y[i]!); }
  for (const l of o.hLines ?? []) ys.push(l.y);
  const f = frame(o, range(xs, 0, false), range(ys, 0.05, logY), logY);
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    let d = '';
    let pen = false;
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!, y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${num(f.sx(x))} ${num(f.sy(y))}`;
      pen = true;
    }
    if (d) f.parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${escapeXml(s.name)}</title></path>`);
    const ly = M.top + 14 + 14 * k;
    f.parts.push(`<line x1="${f.w - M.right - 120}" y1="${ly - 4}" x2="${f.w - M.right - 104}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/>`);
    f.parts.push(`<text x="${f.w - M.right - 100}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  for (const l of o.hLines ?? []) {
    if (logY && l.y <= 0) continue;
    const Y = num(f.sy(l.y));
    f.parts.push(`<line x1="${M.left}" y1="${Y}" x2="${f.w - M.right}" y2="${Y}" stroke="#999" stroke-dasharray="4 3"/>`);
    f.parts.push(`<text x="${M.left + 4}" y="${Number(Y) - 3}" fill="#666">${escapeXml(l.label)}</text>`);
  }
  f.parts.push('</svg>');
  return f.parts.join('');
}

/**
 * A scatter plot; `unitCircle` draws |z| = 1 and uses equal axis scales (for eigenvalues in the complex plane).
 */
export function scatterPlot(points: ScatterPoint[],
                            o: PlotOptions & { unitCircle?: boolean; legend?: { name: string; color: string; marker?: ScatterPoint['marker'] }[] }): string {
  const xs = points.map((p) => p.x), ys = points.map((p) => p.y);
  if (o.unitCircle) { xs.push(-1.1, 1.1); ys.push(-1.1, 1.1); }
  const f = frame(o, range(xs, 0.08, false), range(ys, 0.08, false), false, o.unitCircle ?? false);
  if (o.unitCircle) {
    const cx = f.sx(0), cy = f.sy(0), r = f.sx(1) - f.sx(0);
    f.parts.push(`<circle cx="${num(cx)}" cy="${num(cy)}" r="${num(r)}" fill="none" stroke="#444" stroke-dasharray="5 3"/>`);
    f.parts.push(`<line x1="${M.left}" y1="${num(cy)}" x2="${f.w - M.right}" y2="${num(cy)}" stroke="#bbb"/>`);
    f.parts.push(`<line x1="${num(cx)}" y1="${M.top}" x2="${num(cx)}" y2="${f.h - M.bottom}" stroke="#bbb"/>`);
  }
  for (const p of points) {
    const t = p.label ? `<title>${escapeXml(p.label)}</title>` : '';
    f.parts.push(marker(f.sx(p.x), f.sy(p.y), p.color ?? PALETTE[0]!, p.marker ?? 'dot', t));
  }
  (o.legend ?? []).forEach((l, k) => {
    const ly = M.top + 14 + 14 * k;
    f.parts.push(marker(f.w - M.right - 106, ly, l.color, l.marker ?? 'dot', '').replace('class="pt"', 'class="key"'));
    f.parts.push(`<text x="${f.w - M.right - 96}" y="${ly + 4}">${escapeXml(l.name)}</text>`);
  });
  f.parts.push('</svg>');
  return f.parts.join('');
}

function marker(x: number, y: number, c: string, kind: 'dot' | 'ring' | 'cross', title: string): string {
  if (kind === 'cross') {
    return `<path class="pt" d="M${num(x - 4)} ${num(y - 4)}L${num(x + 4)} ${num(y + 4)}M${num(x - 4)} ${num(y + 4)}` +
      `L${num(x + 4)} ${num(y - 4)}" stroke="${c}" stroke-width="2">${title}</path>`;
  }
  return `<circle class="pt" cx="${num(x)}" cy="${num(y)}" r="3.5" fill="${kind === 'ring' ? 'none' : c}" stroke="${c}" ` +
    `stroke-width="1.5">${title}</circle>`;
}
