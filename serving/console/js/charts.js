// Tiny SVG charts for the daily report: horizontal stacked bars and stacked columns.
// Drawn at the container's real pixel width (and redrawn when it changes) rather than scaled
// through a viewBox, so labels stay readable from a 360 px sidebar to a wide screen.

import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "fill") el.style.fill = v; // CSS variables work in style, not in presentation attributes
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function sum(values) {
  return values.reduce((a, b) => a + (b || 0), 0);
}

function legend(keys, keyLabel, color) {
  return h("div.legend", keys.map((k) => h("span.legend-item", h("i.swatch", { style: { background: color(k) } }), keyLabel(k))));
}

// Draw now and again on every resize; returns the wrapper element.
function responsive(draw) {
  const wrap = h("div.chart");
  let last = 0;
  const render = () => {
    const width = Math.floor(wrap.clientWidth);
    if (!width || width === last) return;
    last = width;
    wrap.replaceChildren(...draw(width));
  };
  new ResizeObserver(render).observe(wrap);
  requestAnimationFrame(render);
  return wrap;
}

/**
 * Horizontal bars, one per row, each stacked by key.
 * rows: [{label, values: {key: number}}]; keys: the stacking order.
 * options: keyLabel(k), color(k), format(v), max (default: the largest row total),
 *          reference {value, label} (a dashed line, e.g. the team's figure).
 */
export function stackedBars(rows, keys, { keyLabel = (k) => k, color, format = String, max, reference, showLegend = true } = {}) {
  const chart = responsive((width) => {
    const labelW = Math.min(120, Math.max(64, width * 0.24));
    const valueW = 48;
    const barH = 18, gap = 10, top = reference ? 18 : 4;
    const plotW = Math.max(40, width - labelW - valueW - 8);
    const height = top + rows.length * (barH + gap);
    const top_ = max ?? Math.max(1e-9, ...rows.map((r) => sum(keys.map((k) => r.values[k]))));
    const svg = s("svg", { width, height, role: "img" });
    rows.forEach((row, i) => {
      const y = top + i * (barH + gap);
      svg.append(s("text", { x: labelW - 8, y: y + barH / 2, class: "axis-label", "text-anchor": "end", "dominant-baseline": "central" }, row.label));
      svg.append(s("rect", { x: labelW, y, width: plotW, height: barH, rx: 3, class: "track" }));
      let x = labelW;
      for (const k of keys) {
        const v = row.values[k] || 0;
        if (!v) continue;
        const w = (v / top_) * plotW;
        svg.append(s("rect", { x, y, width: Math.max(w, 1), height: barH, fill: color(k), class: "seg", "data-key": k },
          s("title", {}, `${row.label} · ${keyLabel(k)}: ${format(v)}`)));
        x += w;
      }
      const total = sum(keys.map((k) => row.values[k]));
      svg.append(s("text", { x: labelW + plotW + 6, y: y + barH / 2, class: "value-label", "dominant-baseline": "central" },
        row.total ?? format(total)));
    });
    if (reference && reference.value !== null && reference.value !== undefined) {
      const x = labelW + (reference.value / top_) * plotW;
      svg.append(s("line", { x1: x, x2: x, y1: 12, y2: height, class: "reference" }));
      svg.append(s("text", { x, y: 10, class: "reference-label", "text-anchor": "middle" }, reference.label));
    }
    return [svg];
  });
  return h("figure.chart-figure", chart, showLegend && keys.length > 1 && legend(keys, keyLabel, color));
}

/**
 * Vertical stacked columns (e.g. flags per day).
 * columns: [{label, values: {key: number}}].
 */
export function stackedColumns(columns, keys, { keyLabel = (k) => k, color, format = String } = {}) {
  const chart = responsive((width) => {
    const height = 180, bottom = 22, top = 14, left = 28;
    const plotH = height - bottom - top;
    const plotW = width - left - 4;
    const top_ = Math.max(1, ...columns.map((c) => sum(keys.map((k) => c.values[k]))));
    const slot = plotW / Math.max(1, columns.length);
    const colW = Math.min(36, slot * 0.6);
    const svg = s("svg", { width, height, role: "img" });
    for (const tick of new Set([0, Math.ceil(top_ / 2), top_])) {
      const y = top + plotH - (tick / top_) * plotH;
      svg.append(s("line", { x1: left, x2: width - 4, y1: y, y2: y, class: "grid" }));
      svg.append(s("text", { x: left - 6, y, class: "axis-label", "text-anchor": "end", "dominant-baseline": "central" }, tick));
    }
    columns.forEach((col, i) => {
      const x = left + i * slot + (slot - colW) / 2;
      let y = top + plotH;
      for (const k of keys) {
        const v = col.values[k] || 0;
        if (!v) continue;
        const hgt = (v / top_) * plotH;
        y -= hgt;
        svg.append(s("rect", { x, y, width: colW, height: hgt, fill: color(k), class: "seg", "data-key": k },
          s("title", {}, `${col.label} · ${keyLabel(k)}: ${format(v)}`)));
      }
      svg.append(s("text", { x: x + colW / 2, y: height - 6, class: "axis-label", "text-anchor": "middle" }, col.label));
    });
    return [svg];
  });
  return h("figure.chart-figure", chart, keys.length > 1 && legend(keys, keyLabel, color));
}

// The palette lives in CSS (console.css) so charts and badges agree.
export const colorOf = (group) => (key) => `var(--${group}-${key.replace(/_/g, "-")})`;
