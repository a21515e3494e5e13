// Small SVG line charts for live training curves: no library, nothing fetched. Smoothing is TensorBoard's (an
// exponential moving average, debiased at the start); hovering shows every series' value at the nearest step.
(function () {
  'use strict';
  const palette = ['#3056d3', '#e8590c', '#2f9e44', '#ae3ec9', '#1098ad', '#f08c00', '#c2255c', '#5c940d'];

  function niceTicks(min, max, count) {
    if (!(max > min)) { max = min + 1; }
    const step = Math.pow(10, Math.floor(Math.log10((max - min) / count)));
    const err = (count * step) / (max - min);
    const mult = err <= 0.15 ? 10 : err <= 0.35 ? 5 : err <= 0.75 ? 2 : 1;
    const s = step * mult, ticks = [];
    for (let v = Math.ceil(min / s) * s; v <= max + 1e-12; v += s) ticks.push(+v.toPrecision(12));
    return ticks;
  }

  /** An exponential moving average with weight w on the past, debiased like TensorBoard's so it starts at the data. */
  function smooth(points, w) {
    if (!(w > 0)) return points;
    let last = 0, n = 0;
    return points.map(([x, y]) => {
      if (!Number.isFinite(y)) return [x, y];
      last = last * w + (1 - w) * y; n++;
      return [x, last / (1 - Math.pow(w, n))];
    });
  }

  // series: [{ name, points: [[x, y], ...], dashed? }]; options: width, height, format, smoothing (0 to 1)
  function lineChart(svg, series, options) {
    options = options || {};
    series = series.map(s => Object.assign({}, s, { points: smooth(s.points, options.smoothing) }));
    const width = options.width || 560, height = options.height || 240, pad = { l: 52, r: 12, t: 12, b: 28 };
    const all = series.flatMap(s => s.points).filter(p => Number.isFinite(p[1]));
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.classList.add('chart');
    svg.dataset.points = String(all.length);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const ns = 'http://www.w3.org/2000/svg';
    const el = (name, attrs, text) => {
      const e = document.createElementNS(ns, name);
      for (const k in attrs) e.setAttribute(k, attrs[k]);
      if (text !== undefined) e.textContent = text;
      svg.appendChild(e);
      return e;
    };
    if (all.length === 0) {
      el('text', { x: width / 2 - 40, y: height / 2 }, options.empty || 'no points yet');
      return;
    }
    const xs = all.map(p => p[0]), ys = all.map(p => p[1]);
    let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const sx = x => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
    const sy = y => height - pad.b - ((y - y0) / (y1 - y0)) * (height - pad.t - pad.b);
    for (const t of niceTicks(y0, y1, 4)) {
      el('line', { x1: pad.l, x2: width - pad.r, y1: sy(t), y2: sy(t), stroke: '#eef0f3' });
      el('text', { x: 4, y: sy(t) + 4 }, options.format ? options.format(t) : String(+t.toPrecision(4)));
    }
    for (const t of niceTicks(x0, x1, 5)) el('text', { x: sx(t) - 8, y: height - 8 }, String(t));
    series.forEach((s, i) => {
      const pts = s.points.filter(p => Number.isFinite(p[1]));
      if (pts.length === 0) return;
      const color = s.color || palette[i % palette.length];
      el('polyline', {
        fill: 'none', stroke: color, 'stroke-width': 1.6, 'stroke-dasharray': s.dashed ? '5 3' : '',
        points: pts.map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' '), 'data-series': s.name,
      });
      if (pts.length < 40) pts.forEach(p => el('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: color }));
    });
    // Hover: a line at the nearest recorded step, and each series' value there.
    const steps = [...new Set(xs)].sort((a, b) => a - b);
    const cursor = el('line', { y1: pad.t, y2: height - pad.b, stroke: '#98a2b3', visibility: 'hidden' });
    const readout = el('text', { x: pad.l + 4, y: pad.t + 10, class: 'readout' });
    const area = el('rect', { x: pad.l, y: pad.t, width: width - pad.l - pad.r, height: height - pad.t - pad.b,
      fill: 'transparent' });
    const fmtValue = v => options.format ? options.format(v) : String(+v.toPrecision(4));
    area.addEventListener('mousemove', e => {
      const box = svg.getBoundingClientRect();
      const x = x0 + ((e.clientX - box.left) * (width / box.width) - pad.l) / (width - pad.l - pad.r) * (x1 - x0);
      const step = steps.reduce((best, s) => Math.abs(s - x) < Math.abs(best - x) ? s : best, steps[0]);
      cursor.setAttribute('x1', sx(step)); cursor.setAttribute('x2', sx(step));
      cursor.setAttribute('visibility', 'visible');
      readout.textContent = `step ${step}: ` + series.map(s => {
        const p = s.points.find(q => q[0] === step);
        return p && Number.isFinite(p[1]) ? `${s.name} ${fmtValue(p[1])}` : null;
      }).filter(Boolean).join(', ');
      svg.dataset.hover = readout.textContent;
    });
    area.addEventListener('mouseleave', () => { cursor.setAttribute('visibility', 'hidden');
      readout.textContent = ''; });
  }

  function legend(container, series) {
    container.className = 'legend';
    container.innerHTML = '';
    series.forEach((s, i) => {
      const span = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.background = s.color || palette[i % palette.length];
      span.append(swatch, document.createTextNode(s.name));
      container.appendChild(span);
    });
  }

  window.Charts = { lineChart, legend, palette, smooth };
})();
