/**
 * The experiments page: one self-contained HTML document (inline CSS and SVG, no scripts, no external resources)
 * with each experiment's claim, parameters, plots, verdict and checks.
 * @module
 */
import { escapeXml, linePlot, scatterPlot } from '../analysis/svg.js';
import type { Check, ExperimentResult, PlotSpec } from './types.js';

/** One plot specification as SVG text (the same drawing code as the analysis report). */
export function renderPlotSvg(plot: PlotSpec): string {
  if (plot.type === 'line') {
    return linePlot(plot.series, {
      title: plot.title, xLabel: plot.xLabel, yLabel: plot.yLabel, ...(plot.logY ? { logY: true } : {}),
      ...(plot.hLines ? { hLines: plot.hLines } : {}),
    });
  }
  return scatterPlot(plot.points, {
    title: plot.title, xLabel: plot.xLabel, yLabel: plot.yLabel, ...(plot.unitCircle ? { unitCircle: true } : {}),
    ...(plot.legend ? { legend: plot.legend } : {}),
  });
}

function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e6 ? v.toExponential(3) : String(Number(v.toPrecision(6)));
}

function checkRow(c: Check): string {
  const rel = c.op === '==' ? `= ${num(c.bound)} &plusmn; ${num(c.tolerance ?? 0)}` : `${escapeXml(c.op)} ${num(c.bound)}`;
  return `<tr class="${c.holds ? 'ok' : 'bad'}"><td class="l">${escapeXml(c.name)}</td><td>${num(c.value)}</td>` +
    `<td>${rel}</td><td>${c.holds ? 'holds' : 'fails'}</td></tr>`;
}

/** The command line that re-runs a result with the same parameters. */
export function commandLine(r: Pick<ExperimentResult, 'name' | 'params'>): string {
  return ['rnn-wasm experiments', r.name, ...Object.entries(r.params).map(([k, v]) => `--${k} ${v}`)].join(' ');
}

/** The page for one or more experiment results, in the order given. */
export function renderExperimentsHtml(results: readonly ExperimentResult[], title = 'rnn-wasm experiments'): string {
  const held = results.filter((r) => r.verdict.holds).length;
  const toc = results.map((r) => `<li><a href="#${escapeXml(r.name)}">${r.number}. ${escapeXml(r.title)}</a> ` +
    `<span class="${r.verdict.holds ? 'ok' : 'bad'}">${r.verdict.holds ? 'holds' : 'does not hold'}</span></li>`).join('\n');
  const sections = results.map((r) => {
    const params = Object.entries(r.params).map(([k, v]) => `<code>${escapeXml(k)} = ${escapeXml(String(v))}</code>`).join(' ');
    return `<section id="${escapeXml(r.name)}">
<h2>${r.number}. ${escapeXml(r.title)}</h2>
<p class="claim"><b>Claim.</b> ${escapeXml(r.claim)}</p>
<p>Parameters: ${params || '(none)'} &middot; ${r.elapsedMs} ms &middot; re-run (change any value) with
<code>${escapeXml(commandLine(r))}</code></p>
<div class="plots">${r.plots.map(renderPlotSvg).join('\n')}</div>
<p class="verdict ${r.verdict.holds ? 'ok' : 'bad'}"><b>${r.verdict.holds ? 'Holds' : 'Does not hold'}.</b> ${escapeXml(r.verdict.summary)}</p>
<table><thead><tr><th>check</th><th>measured</th><th>required</th><th></th></tr></thead><tbody>
${r.verdict.checks.map(checkRow).join('\n')}
</tbody></table>
</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;max-width:1020px;margin:2em auto;color:#222;line-height:1.4}
.plots{display:flex;flex-wrap:wrap;gap:12px}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td.l{text-align:left}
.ok{color:#007a3d}.bad{color:#b00020}tr.ok td,tr.bad td{color:inherit}tr.bad{background:#fde8ea}
.claim{background:#f3f6fa;padding:.5em .8em;border-left:3px solid #0072B2}section{margin-top:2.5em}
code{background:#f4f4f4;padding:0 3px}</style>
</head><body>
<h1>${escapeXml(title)}</h1>
<p>${held} of ${results.length} claims hold with the parameters below. Each section states the claim, shows the plots,
and lists the numeric checks that decide the verdict.</p>
<ol class="toc" style="list-style:none;padding:0">${toc}</ol>
${sections}
</body></html>
`;
}
