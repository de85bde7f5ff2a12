/**
 * report.html: one self-contained file (these travel by e-mail and open on locked-down laptops).
 * Chart.js and its drawing script are inlined from node_modules when the file is written, nothing
 * is fetched when it is viewed; the tables are plain HTML, so the numbers read without JavaScript.
 *
 * Chart.js (MIT, pinned in package.json) rather than uPlot or hand-made SVG: the report needs
 * grouped bars (money by tenant), lines over numeric time, scatter (plan candidates) and shaded
 * bands (sweep 95% intervals); Chart.js draws all four from one small config each, where uPlot
 * has no grouped bars without a plugin of our own and SVG would mean writing axes, ticks and
 * legends by hand. Its cost is size: ~200 KB inlined.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { chartsFor, type ChartSpec } from './charts.js';
import { REPORT_CSV_FILES, type ReportDir, type Table } from './read.js';

const require = createRequire(import.meta.url);

/** Chart.js's UMD build, without its source-map comment (a viewer's devtools would try to fetch it). */
function chartJsSource(): string {
  // The package exports only its module entries; the UMD build sits beside the CommonJS one.
  const text = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  return text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

/** Rows of a table shown in the page; requests.csv (one row per request) is charted, never tabled. */
const TABLE_ROW_LIMIT = 20000;

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON safe inside <script>: `<` escaped so no `</script>` or `<!--` can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const NUMERIC = /^-?\d+(\.\d+)?$/;

function tableHtml(t: Table, caption: string, rows: string[][] = t.rows): string {
  const shown = rows.slice(0, TABLE_ROW_LIMIT);
  const head = `<tr>${t.header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = shown
    .map((row) => `<tr>${row.map((cell) => `<td${NUMERIC.test(cell) ? ' class="n"' : ''}>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('\n');
  const more = rows.length > shown.length ? `<p class="note">First ${shown.length} of ${rows.length} rows; the rest are in ${t.file}.</p>` : '';
  return `<div class="table"><table data-file="${escapeHtml(t.file)}"><caption>${escapeHtml(caption)}</caption><thead>${head}</thead><tbody>\n${body}\n</tbody></table></div>${more}`;
}

const CAPTIONS: Record<string, string> = {
  'summary.csv': 'summary.csv: one row per scope and key (rows overlap across scopes: sum within one scope only)',
  'pnl.csv': 'pnl.csv: the finance table, one level of detail (sums are the summary totals to the cent)',
  'timeseries.csv': 'timeseries.csv: one row per report interval and deployment',
  'sweep.csv': 'sweep.csv: one row per point and scope',
  'summary_ci.csv': 'summary_ci.csv: mean and 95% confidence half-width over replications (total scope shown)',
  'plan.csv': 'plan.csv: every candidate fleet the search simulated',
};

function chartHtml(c: ChartSpec): string {
  return `<figure class="chart"><figcaption><strong>${escapeHtml(c.title)}</strong> ${escapeHtml(c.note)}</figcaption><div class="canvas"><canvas id="chart-${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div></figure>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1400px;padding:16px 24px;color:#1d2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.meta{color:#5a6473;margin:0 0 8px}.note{color:#5a6473;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}
figure.chart{margin:0;border:1px solid #dde2ea;border-radius:6px;padding:8px 10px}
figure.chart figcaption{font-size:12px;color:#5a6473;margin-bottom:6px}figure.chart strong{color:#1d2430;display:block;font-size:13px}
.canvas{position:relative;height:260px}
.nojs{background:#fff7e0;border:1px solid #f0d890;padding:6px 10px;border-radius:4px}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
.table{overflow:auto;max-height:480px;border:1px solid #dde2ea;margin-top:6px}
table{border-collapse:collapse;font-size:12px;white-space:nowrap}caption{text-align:left;padding:4px 6px;color:#5a6473}
th,td{padding:2px 8px;border-bottom:1px solid #eef1f5}th{position:sticky;top:0;background:#f4f6f9;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
ul.assumptions{font-size:12px;color:#3a4350}
`;

/**
 * Draws every chart from the embedded specs; sets data-charts-drawn on <html> when done so a
 * browser test knows the page finished. Animation is off so a screenshot shows the final frame.
 */
const DRAW = `
(function(){
  var specs = JSON.parse(document.getElementById('fleetsim-charts').textContent);
  var palette = ['#2f6fdf','#e8833a','#3aa36b','#c8423c','#8c62c9','#7d6b58','#d66bb5','#6b7a8c','#b5b52f','#2bb3c4'];
  Chart.defaults.animation = false;
  Chart.defaults.font.size = 11;
  var drawn = 0;
  specs.forEach(function(s){
    var canvas = document.getElementById('chart-' + s.id);
    var datasets = [];
    s.datasets.forEach(function(d, i){
      var color = palette[(d.colorIndex === undefined ? i : d.colorIndex) % palette.length];
      if (d.band) {
        datasets.push({label: d.label + ' 95% low', data: d.band.lo, borderWidth: 0, pointRadius: 0, fill: false, backgroundColor: color + '33', borderColor: 'transparent'});
        datasets.push({label: d.label + ' 95% high', data: d.band.hi, borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: color + '33', borderColor: 'transparent'});
      }
      datasets.push({label: d.label, data: d.data, borderColor: color, backgroundColor: s.kind === 'line' ? color : color + 'cc',
        borderWidth: s.kind === 'bar' ? 0 : 1.5, borderDash: d.dashed ? [5, 3] : undefined, pointRadius: s.kind === 'scatter' ? 4 : (s.labels ? 3 : 0), spanGaps: false, fill: false});
    });
    var numericX = !s.labels;
    var chart = new Chart(canvas, {
      type: s.kind,
      data: s.labels ? {labels: s.labels, datasets: datasets} : {datasets: datasets},
      options: {
        responsive: true, maintainAspectRatio: false, parsing: s.labels ? undefined : {xAxisKey: 'x', yAxisKey: 'y'},
        interaction: {mode: s.kind === 'scatter' ? 'nearest' : 'index', intersect: s.kind === 'scatter'},
        plugins: {
          legend: {labels: {boxWidth: 10, filter: function(item){ return !/ 95% (low|high)$/.test(item.text); }}},
          tooltip: {callbacks: {afterLabel: function(ctx){ return ctx.raw && ctx.raw.label ? ctx.raw.label : ''; }}}
        },
        scales: {
          x: numericX ? {type: 'linear', title: {display: true, text: s.xTitle}} : {title: {display: true, text: s.xTitle}},
          y: {beginAtZero: s.kind !== 'scatter', title: {display: true, text: s.yTitle}}
        }
      }
    });
    canvas.dataset.series = JSON.stringify(chart.data.datasets.map(function(d){ return d.label; }));
    drawn++;
  });
  document.documentElement.dataset.chartsDrawn = String(drawn);
  var nojs = document.querySelectorAll('.nojs');
  for (var i = 0; i < nojs.length; i++) nojs[i].hidden = true;
})();
`;

/** Which kind of directory this is, for the title. */
function kindOf(r: ReportDir): string {
  return [r.summary ? 'run' : '', r.sweep ? 'sweep' : '', r.plan ? 'plan' : ''].filter(Boolean).join(' + ') || 'replications';
}

export interface HtmlReport {
  html: string;
  charts: ChartSpec[];
}

/** The whole page for a report directory (deterministic: the same CSVs give the same bytes). */
export function buildHtml(r: ReportDir): HtmlReport {
  const charts = chartsFor(r);
  const name = r.runJson?.scenario ?? basename(r.dir);
  const sections = [...new Set(charts.map((c) => c.section))];
  const chartBlocks = sections
    .map((s) => `<section><h2>${escapeHtml(s)}</h2><div class="charts">\n${charts.filter((c) => c.section === s).map(chartHtml).join('\n')}\n</div></section>`)
    .join('\n');
  const tables: string[] = [];
  for (const file of REPORT_CSV_FILES) {
    if (file === 'requests.csv') continue;
    const t = fileTable(r, file);
    if (!t) continue;
    let rows = t.rows;
    if (file === 'summary_ci.csv') {
      const scope = t.header.indexOf('scope');
      rows = rows.filter((row) => row[scope] === 'total');
    }
    tables.push(`<details${file === 'summary.csv' || file === 'plan.csv' || file === 'pnl.csv' ? ' open' : ''}><summary>${escapeHtml(file)}</summary>${tableHtml(t, CAPTIONS[file] ?? file, rows)}</details>`);
  }
  const run = r.runJson;
  const meta = run
    ? `<p class="meta">scenario ${escapeHtml(String(run.scenario ?? ''))}, seed ${escapeHtml(String(run.seed ?? ''))}, start ${escapeHtml(String(run.start ?? ''))}, horizon ${escapeHtml(String(run.horizon_s ?? ''))} s, fleetsim ${escapeHtml(String(run.fleetsim_version ?? ''))}</p>`
    : '';
  const assumptions = run?.assumptions?.length
    ? `<section><h2>Assumptions</h2><p class="note">Catalog figures this run used that are assumptions, not measurements (run.json).</p><ul class="assumptions">${run.assumptions.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ul></section>`
    : '';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="fleetsim">
<title>fleetsim ${escapeHtml(kindOf(r))} report: ${escapeHtml(name)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>fleetsim ${escapeHtml(kindOf(r))} report: ${escapeHtml(name)}</h1>
${meta}
<p class="nojs">Charts need JavaScript; every number is also in the tables below.</p>
${chartBlocks}
<section><h2>Tables</h2>
${tables.join('\n')}
</section>
${assumptions}
<script type="application/json" id="fleetsim-charts">${scriptJson(charts)}</script>
<script>${chartJsSource()}</script>
<script>${DRAW}</script>
</body>
</html>
`;
  return { html, charts };
}

function fileTable(r: ReportDir, file: string): Table | undefined {
  const byFile: Record<string, Table | undefined> = {
    'summary.csv': r.summary,
    'pnl.csv': r.pnl,
    'timeseries.csv': r.timeseries,
    'sweep.csv': r.sweep,
    'summary_ci.csv': r.summaryCi,
    'plan.csv': r.plan,
  };
  return byFile[file];
}
