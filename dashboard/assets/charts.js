// Hand-drawn SVG charts. Every label is set with textContent; colours come
// from the stylesheet's s0…s5 classes. Each chart has a fixed viewBox, so
// that new data never changes its size on the page.

const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round upper bound for an axis, and its tick step. */
function scale(max) {
  if (!(max > 0)) return { top: 4, step: 1 };
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return { top: step * 4, step };
}

function number(v) {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function legend(series) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  series.forEach((s, i) => {
    const li = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch s' + (s.colour ?? i);
    sw.setAttribute('aria-hidden', 'true');
    li.append(sw, document.createTextNode(s.name));
    ul.append(li);
  });
  return ul;
}

function frame(label, w, h) {
  const svg = el('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': label, preserveAspectRatio: 'xMidYMid meet' });
  svg.append(el('title', {}, label));
  return svg;
}

function yAxis(svg, top, step, x0, x1, y0, y1, unit) {
  for (let v = 0; v <= top + 1e-9; v += step) {
    const y = y1 - ((y1 - y0) * v) / top;
    svg.append(el('line', { x1: x0, x2: x1, y1: y, y2: y, class: v === 0 ? 'axis' : 'grid' }));
    svg.append(el('text', { x: x0 - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, number(v) + (unit || '')));
  }
}

function xLabels(svg, categories, x0, band, y) {
  const every = Math.ceil(categories.length / 12);
  categories.forEach((c, i) => {
    if (i % every !== 0) return;
    svg.append(el('text', { x: x0 + band * i + band / 2, y, class: 'tick', 'text-anchor': 'middle' }, c));
  });
}

/**
 * Vertical bars per category: grouped, or stacked when opts.stacked.
 * series: [{name, values, colour?}]
 */
export function barChart(host, { label, categories, series, stacked, unit }) {
  const W = 640, H = 240, L = 44, R = 8, T = 12, B = 28;
  const sums = categories.map((_, i) => series.reduce((a, s) => a + (s.values[i] || 0), 0));
  const max = stacked ? Math.max(0, ...sums) : Math.max(0, ...series.flatMap((s) => s.values.map((v) => v || 0)));
  const { top, step } = scale(max);
  const svg = frame(label, W, H);
  yAxis(svg, top, step, L, W - R, T, H - B, unit);
  const band = (W - L - R) / Math.max(1, categories.length);
  const y = (v) => H - B - ((H - B - T) * v) / top;
  categories.forEach((c, i) => {
    let base = 0;
    series.forEach((s, j) => {
      const v = s.values[i] || 0;
      if (v <= 0) return;
      let x, w, y1, y2;
      if (stacked) {
        w = band * 0.7;
        x = L + band * i + band * 0.15;
        y1 = y(base + v);
        y2 = y(base);
        base += v;
      } else {
        w = (band * 0.8) / series.length;
        x = L + band * i + band * 0.1 + w * j;
        y1 = y(v);
        y2 = y(0);
      }
      const r = el('rect', { x, y: y1, width: Math.max(1, w - 1), height: Math.max(0, y2 - y1), class: 's' + (s.colour ?? j) });
      r.append(el('title', {}, `${c} · ${s.name}: ${number(v)}${unit || ''}`));
      svg.append(r);
    });
  });
  xLabels(svg, categories, L, band, H - 8);
  host.replaceChildren(svg, legend(series));
}

/** A line per series over the categories; null values leave a gap. */
export function lineChart(host, { label, categories, series, unit }) {
  const W = 640, H = 240, L = 44, R = 8, T = 12, B = 28;
  const max = Math.max(0, ...series.flatMap((s) => s.values.filter((v) => v !== null)));
  const { top, step } = scale(max);
  const svg = frame(label, W, H);
  yAxis(svg, top, step, L, W - R, T, H - B, unit);
  const band = (W - L - R) / Math.max(1, categories.length);
  const y = (v) => H - B - ((H - B - T) * v) / top;
  series.forEach((s, j) => {
    let d = '';
    s.values.forEach((v, i) => {
      if (v === null) {
        d += ' ';
        return;
      }
      const x = L + band * i + band / 2;
      d += (d === '' || d.endsWith(' ') ? 'M' : 'L') + x.toFixed(1) + ' ' + y(v).toFixed(1);
      const dot = el('circle', { cx: x, cy: y(v), r: 3.5, class: 's' + (s.colour ?? j) });
      dot.append(el('title', {}, `${categories[i]} · ${s.name}: ${number(v)}${unit || ''}`));
      svg.append(dot);
    });
    if (d.trim() !== '') svg.insertBefore(el('path', { d: d.trim(), class: 'line l' + (s.colour ?? j) }), svg.querySelector('circle'));
  });
  xLabels(svg, categories, L, band, H - 8);
  host.replaceChildren(svg, legend(series));
}

/** Horizontal bars, one row per category, grouped by series. */
export function hbarChart(host, { label, categories, series }) {
  const row = 14 * series.length + 10;
  const W = 640, L = 150, R = 40, T = 6;
  const H = T + row * Math.max(1, categories.length) + 6;
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const { top } = scale(max);
  const svg = frame(label, W, H);
  const x = (v) => L + ((W - L - R) * v) / top;
  categories.forEach((c, i) => {
    const y0 = T + row * i;
    svg.append(el('text', { x: L - 8, y: y0 + row / 2 + 2, class: 'tick', 'text-anchor': 'end' }, c));
    series.forEach((s, j) => {
      const v = s.values[i] || 0;
      const r = el('rect', { x: L, y: y0 + 4 + j * 14, width: Math.max(0, x(v) - L), height: 12, class: 's' + (s.colour ?? j) });
      r.append(el('title', {}, `${c} · ${s.name}: ${number(v)}`));
      svg.append(r);
      svg.append(el('text', { x: x(v) + 4, y: y0 + 14 + j * 14, class: 'tick' }, number(v)));
    });
  });
  svg.append(el('line', { x1: L, x2: L, y1: T, y2: H - 6, class: 'axis' }));
  host.replaceChildren(svg, legend(series));
}
