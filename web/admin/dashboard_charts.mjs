// The dashboard's charts (issue #17: "Charts with a small pinned library vendored from npm"):
// per department or course, one bar of the credentials issued (active, suspended and revoked
// stacked), one bar of the enrolled (completed and not completed stacked) and the completion
// rate as a line on a 0-100 % axis. Chart.js 4.6.1 (web/vendor, see scripts/vendor-web for why
// it runs under the console's CSP: canvas only, styles through the CSSOM, no eval).
//
// A canvas says nothing to a screen reader: each one has role="img" and an aria-label that
// sums it up (the number of groups and the largest groups' figures), and the table beside it
// is the accessible source with every figure. Animation is off: the chart is drawn at once
// (and a reduced-motion setting has nothing to honour).
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip,
} from '../vendor/chart.js-4.6.1/dist/chart.js';
import {fill, t} from './common.mjs';
import {numberText, percentText} from './console.mjs';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement,
  PointElement, Legend, Tooltip);

// More bars than this get too thin to read on a laptop: the largest groups are drawn, the
// table keeps every group, and a line under the chart says so.
export const CHART_GROUPS_MAX = 12;
const LABEL_CHARS = 24;   // a longer group name is cut on the axis (the tooltip has it whole)
const LABEL_GROUPS = 5;   // groups spelled out in the canvas's aria-label

const charts = new Map(); // canvas id -> Chart (redrawn when the date range changes)

// The page's colours (web/page/credential.css custom properties), so the chart matches the
// table's marks and keeps their contrast.
function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {
    active: v('--accent', '#0a4a8a'), suspended: v('--pending', '#6b4e00'), revoked: v('--fail', '#a4161a'),
    completed: v('--pass', '#116b2f'), open: v('--line', '#d5dbe1'), ink: v('--ink', '#1b1f24'),
    muted: v('--muted', '#4a5560'),
  };
}

const groupSize = (g) => Math.max(g.issued || 0, g.enrolled || 0);

// The groups drawn: all of them in the table's order, or the largest CHART_GROUPS_MAX of them
// (still in the table's order).
export function chartGroups(groups) {
  if (groups.length <= CHART_GROUPS_MAX) {
    return groups;
  }
  const keep = new Set([...groups].sort((a, b) => groupSize(b) - groupSize(a)).slice(0, CHART_GROUPS_MAX));
  return groups.filter((g) => keep.has(g));
}

function ariaLabel(title, groups, shown, key) {
  const top = [...shown].sort((a, b) => groupSize(b) - groupSize(a)).slice(0, LABEL_GROUPS);
  const parts = top.map((g) => fill(t.chartGroup, {
    name: g[key] || t.none, issued: numberText(g.issued || 0), completed: numberText(g.completed || 0),
    enrolled: numberText(g.enrolled || 0), rate: percentText(g.completionRate)}));
  return fill(t.chartLabel, {title, n: numberText(groups.length), groups: parts.join('; ')});
}

const short = (s) => (s.length > LABEL_CHARS ? `${s.slice(0, LABEL_CHARS - 1)}…` : s);

function config(shown, key, lang) {
  const c = palette();
  const bar = (label, field, color, stack) => ({type: 'bar', label, stack, backgroundColor: color,
    data: shown.map((g) => (typeof field === 'function' ? field(g) : g[field] || 0)), yAxisID: 'y'});
  return {
    type: 'bar',
    data: {
      labels: shown.map((g) => g[key] || t.none),
      datasets: [
        bar(t['count.active'], 'active', c.active, 'issued'),
        bar(t['count.suspended'], 'suspended', c.suspended, 'issued'),
        bar(t['count.revoked'], 'revoked', c.revoked, 'issued'),
        bar(t.chartCompleted, 'completed', c.completed, 'enrolled'),
        bar(t.chartNotCompleted, (g) => Math.max((g.enrolled || 0) - (g.completed || 0), 0), c.open, 'enrolled'),
        {type: 'line', label: t.completionRate, yAxisID: 'rate', borderColor: c.ink, backgroundColor: c.ink,
          pointRadius: 4, borderWidth: 2, spanGaps: false,
          data: shown.map((g) => (typeof g.completionRate === 'number' ? g.completionRate * 100 : null))},
      ],
    },
    options: {
      locale: lang, animation: false, responsive: true, maintainAspectRatio: false,
      interaction: {mode: 'index', intersect: false},
      scales: {
        x: {stacked: true, ticks: {color: c.ink, callback(v) {
          return short(this.getLabelForValue(v));
        }}},
        y: {stacked: true, beginAtZero: true, ticks: {color: c.ink, precision: 0}},
        rate: {position: 'right', min: 0, max: 100, grid: {drawOnChartArea: false},
          ticks: {color: c.ink, callback: (v) => percentText(v / 100)}},
      },
      plugins: {
        legend: {labels: {color: c.ink}},
        tooltip: {callbacks: {label(ctx) {
          return ctx.dataset.yAxisID === 'rate' ? `${ctx.dataset.label}: ${percentText(ctx.parsed.y / 100)}`
            : `${ctx.dataset.label}: ${numberText(ctx.parsed.y)}`;
        }}},
      },
    },
  };
}

// Draws (or redraws) the chart of groups on the canvas id; "shownId" is the line saying how
// many of them the chart shows when it cannot show them all. No groups: no chart, the card's
// table says there is no data.
export function drawChart(id, shownId, title, groups, key, lang) {
  const canvas = document.getElementById(id);
  charts.get(id)?.destroy();
  charts.delete(id);
  const shown = chartGroups(groups);
  const line = document.getElementById(shownId);
  line.hidden = shown.length === groups.length;
  line.textContent = line.hidden ? '' : fill(t.chartShown, {shown: numberText(shown.length), n: numberText(groups.length)});
  canvas.dataset.groups = String(shown.length);
  canvas.parentElement.hidden = !groups.length;
  canvas.setAttribute('aria-label', ariaLabel(title, groups, shown, key));
  if (groups.length) {
    charts.set(id, new Chart(canvas, config(shown, key, lang)));
  }
}
