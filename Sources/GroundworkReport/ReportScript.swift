extension ReportAssets {
    /// The page's script: draws the overview from the summaries, and the gallery from the
    /// questions, loading per-question values and map chunks (data/*.js, base64 inside: browsers
    /// refuse fetch() of files opened from disk, but run scripts) only when they are needed.
    static let script = #"""
        "use strict";
        window.GW = (function () {
          const S = {
            data: null, values: {}, chunks: {}, loading: {}, order: [], shown: 0, page: 40,
            left: 0, right: -1, layer: 0, head: -1, opacity: 0.6, cmap: "turbo", regions: true,
            sortMetric: -1, sortOrder: "worst", tableMetric: 0, fade: true, observer: null, rendered: []
          };
          const COLORS = ["#2456c8", "#d1495b", "#1a936f", "#edae49", "#6a4c93", "#00798c", "#8d6a9f", "#c05f2a"];
          const NS = "http://www.w3.org/2000/svg";

          // --- colour maps: 256 RGB entries each -------------------------------------------------
          // turbo: the polynomial approximation of Google's Turbo (Apache-2.0, A. Mikhailov, 2019).
          function turbo(x) {
            const r = 0.13572138 + x * (4.61539260 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
            const g = 0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
            const b = 0.10667330 + x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
            return [r, g, b].map(v => Math.round(255 * Math.min(1, Math.max(0, v))));
          }
          // viridis: matplotlib's (CC0), eleven stops, linear in between.
          const VIRIDIS = ["440154", "482475", "414487", "355f8d", "2a788e", "21918c", "22a884", "44bf70", "7ad151", "bddf26", "fde725"]
            .map(h => [0, 2, 4].map(i => parseInt(h.slice(i, i + 2), 16)));
          function viridis(x) {
            const p = x * 10, i = Math.min(9, Math.floor(p)), f = p - i;
            return [0, 1, 2].map(k => Math.round(VIRIDIS[i][k] * (1 - f) + VIRIDIS[i + 1][k] * f));
          }
          function lut(name) {
            const out = new Uint8Array(256 * 3);
            for (let i = 0; i < 256; i++) {
              const c = name === "viridis" ? viridis(i / 255) : turbo(i / 255);
              out[3 * i] = c[0]; out[3 * i + 1] = c[1]; out[3 * i + 2] = c[2];
            }
            return out;
          }
          const LUTS = { turbo: lut("turbo"), viridis: lut("viridis") };

          // --- small helpers ----------------------------------------------------------------------
          function el(tag, attrs, ...children) {
            const e = document.createElement(tag);
            for (const [k, v] of Object.entries(attrs || {})) {
              if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
            }
            for (const c of children) if (c != null) e.append(c);
            return e;
          }
          function svg(tag, attrs) {
            const e = document.createElementNS(NS, tag);
            for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
            return e;
          }
          function fmt(v) {
            if (v == null || Number.isNaN(v)) return "–";
            if (Number.isInteger(v)) return String(v);
            const a = Math.abs(v);
            return a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(2) : v.toFixed(a >= 100 ? 1 : 3);
          }
          function base64(text) {
            const bin = atob(text), out = new Uint8Array(bin.length);
            for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
            return out;
          }
          function load(src) {
            if (!S.loading[src]) {
              S.loading[src] = new Promise((resolve, reject) => {
                const s = document.createElement("script");
                s.src = src;
                s.onload = resolve;
                s.onerror = () => reject(new Error("cannot load " + src));
                document.head.append(s);
              });
            }
            return S.loading[src];
          }
          function model(m) { return S.data.models[m]; }
          function metricsOf(m) { return model(m).summary.parameters.metrics; }
          function layersOf(m) { return model(m).summary.parameters.layers; }
          function shortName(id) { return id.replace(/@\d+$/, ""); }
          function bestLayer(m, stat) {
            let best = null;
            for (const s of stat.layers) {
              if (s.mean == null) continue;
              if (best == null || (stat.higher_is_better ? s.mean > best.mean : s.mean < best.mean)) best = s;
            }
            return best;
          }
          function allMetrics() {
            const ids = [];
            for (const m of S.data.models) for (const id of m.summary.parameters.metrics) if (!ids.includes(id)) ids.push(id);
            return ids;
          }

          // --- overview ---------------------------------------------------------------------------
          function chart(metric) {
            const W = 380, H = 210, L = 46, R = 10, T = 10, B = 28;
            const series = [];
            S.data.models.forEach((m, i) => {
              const stat = m.summary.metrics.find(s => s.id === metric);
              if (stat) series.push({ i, stat });
            });
            let xs = [], ys = [];
            for (const { stat } of series) {
              for (const s of stat.layers) {
                xs.push(s.layer);
                if (s.mean != null) ys.push(s.mean);
                if (s.ci) ys.push(s.ci[0], s.ci[1]);
              }
              if (stat.chance != null) ys.push(stat.chance);
            }
            const box = el("div", { class: "chart" });
            box.append(el("h3", { text: metric + (series[0] && !series[0].stat.higher_is_better ? " (lower is better)" : "") }));
            if (!xs.length || !ys.length) { box.append(el("p", { class: "muted", text: "no values" })); return box; }
            let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
            if (x0 === x1) { x0 -= 0.5; x1 += 0.5; }
            if (y0 === y1) { y0 -= 0.5; y1 += 0.5; }
            // Round ticks: a step of 1, 2 or 5 times a power of ten, about five of them.
            const raw = (y1 - y0) / 5, power = Math.pow(10, Math.floor(Math.log10(raw)));
            const step = [1, 2, 5, 10].map(f => f * power).find(v => v >= raw);
            y0 = Math.floor(y0 / step) * step; y1 = Math.ceil(y1 / step) * step;
            const digits = Math.max(0, -Math.floor(Math.log10(step)));
            const px = x => L + (x - x0) / (x1 - x0) * (W - L - R);
            const py = y => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
            const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": metric + " by layer" });
            for (let y = y0; y <= y1 + step / 2; y += step) {
              s.append(svg("line", { class: "grid", x1: L, x2: W - R, y1: py(y), y2: py(y) }));
              const t = svg("text", { x: L - 4, y: py(y) + 3, "text-anchor": "end" });
              t.textContent = Math.abs(y) < step / 2 ? "0" : y.toFixed(digits); s.append(t);
            }
            const layerTicks = [...new Set(xs)].sort((a, b) => a - b);
            const every = Math.max(1, Math.ceil(layerTicks.length / 10));
            layerTicks.forEach((x, k) => {
              if (k % every) return;
              const t = svg("text", { x: px(x), y: H - B + 13, "text-anchor": "middle" }); t.textContent = x; s.append(t);
            });
            const lt = svg("text", { x: (L + W - R) / 2, y: H - 3, "text-anchor": "middle" }); lt.textContent = "layer"; s.append(lt);
            s.append(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
            s.append(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
            for (const { i, stat } of series) {
              const color = COLORS[i % COLORS.length];
              const withCI = stat.layers.filter(l => l.ci);
              if (withCI.length > 1) {
                const pts = withCI.map(l => `${px(l.layer)},${py(l.ci[1])}`)
                  .concat(withCI.slice().reverse().map(l => `${px(l.layer)},${py(l.ci[0])}`));
                s.append(svg("polygon", { points: pts.join(" "), fill: color, "fill-opacity": 0.15, stroke: "none" }));
              }
              if (stat.chance != null) {
                s.append(svg("line", { x1: L, x2: W - R, y1: py(stat.chance), y2: py(stat.chance), stroke: color,
                  "stroke-dasharray": "4 3", "stroke-opacity": 0.8 }));
              }
              const pts = stat.layers.filter(l => l.mean != null).map(l => `${px(l.layer)},${py(l.mean)}`);
              if (pts.length) s.append(svg("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
              const best = bestLayer(i, stat);
              if (best) {
                const c = svg("circle", { cx: px(best.layer), cy: py(best.mean), r: 4.5, fill: "#fff", stroke: color, "stroke-width": 2 });
                const title = svg("title"); title.textContent = `${model(i).name}: best layer ${best.layer}, ${fmt(best.mean)}`;
                c.append(title); s.append(c);
              }
            }
            box.append(s);
            const legend = el("div", { class: "models muted" });
            for (const { i } of series) {
              legend.append(el("span", {}, el("span", { class: "swatch", style: `background:${COLORS[i % COLORS.length]}` }), model(i).name));
            }
            legend.append(el("span", { text: "band: 95% CI · dashed: chance · circle: best layer" }));
            box.append(legend);
            return box;
          }

          function sortableTable(head, rows, numericFrom) {
            const table = el("table");
            const tr = el("tr");
            head.forEach((h, k) => {
              const th = el("th", { class: "sortable", text: h });
              th.addEventListener("click", () => {
                const asc = !th.classList.contains("sorted-asc");
                table.querySelectorAll("th").forEach(x => x.classList.remove("sorted-asc", "sorted-desc"));
                th.classList.add(asc ? "sorted-asc" : "sorted-desc");
                const body = [...table.querySelectorAll("tr")].slice(1);
                body.sort((a, b) => {
                  const va = a.children[k].dataset.v, vb = b.children[k].dataset.v;
                  let c;
                  if (k >= numericFrom) {
                    const na = va === "" ? NaN : Number(va), nb = vb === "" ? NaN : Number(vb);
                    if (Number.isNaN(na) || Number.isNaN(nb)) return Number.isNaN(na) - Number.isNaN(nb);
                    c = na - nb;
                  } else c = va < vb ? -1 : va > vb ? 1 : 0;
                  return asc ? c : -c;
                });
                for (const r of body) table.append(r);
              });
              tr.append(th);
            });
            table.append(tr);
            for (const row of rows) {
              const r = el("tr");
              row.forEach((v, k) => {
                const shown = k >= numericFrom && typeof v === "number" ? fmt(v) : (v == null ? "–" : String(v));
                const td = el("td", { text: shown });
                td.dataset.v = v == null || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v);
                r.append(td);
              });
              table.append(r);
            }
            return table;
          }

          function overview() {
            const o = document.getElementById("overview");
            o.textContent = "";
            const d = S.data;
            o.append(el("h2", { text: "Models" }));
            const rows = d.models.map((m, i) => {
              const c = m.summary.counts;
              const acc = m.summary.answers ? m.summary.answers.accuracy : null;
              return [m.name, c.questions, c.scored, c.skipped, c.failed, m.summary.parameters.layers.length,
                m.summary.parameters.per_head ? "per head" : "mean", acc == null ? null : acc];
            });
            const t = sortableTable(["model", "questions", "scored", "skipped", "failed", "layers", "heads", "accuracy"], rows, 1);
            [...t.querySelectorAll("tr")].slice(1).forEach((r, i) =>
              r.children[0].prepend(el("span", { class: "swatch", style: `background:${COLORS[i % COLORS.length]}` })));
            o.append(t);

            o.append(el("h2", { text: "Best layer per metric" }));
            const bestRows = [];
            for (const id of allMetrics()) {
              d.models.forEach((m, i) => {
                const stat = m.summary.metrics.find(s => s.id === id);
                if (!stat) return;
                const b = bestLayer(i, stat);
                bestRows.push([id, m.name, b ? b.layer : null, b ? b.mean : null,
                  b && b.ci ? `[${fmt(b.ci[0])}, ${fmt(b.ci[1])}]` : null, stat.chance, b ? b.n : null]);
              });
            }
            o.append(sortableTable(["metric", "model", "best layer", "mean", "95% CI", "chance", "n"], bestRows, 2));

            o.append(el("h2", { text: "Per layer" }));
            const charts = el("div", { class: "charts" });
            for (const id of allMetrics()) charts.append(chart(id));
            o.append(charts);

            const withAnswers = d.models.map((m, i) => i).filter(i => d.models[i].summary.answers);
            if (withAnswers.length) {
              o.append(el("h2", { text: "Answers" }));
              const accRows = [];
              for (const i of withAnswers) {
                const a = d.models[i].summary.answers;
                accRows.push([d.models[i].name, "all", a.questions, a.answered, a.correct, a.accuracy]);
                for (const g of a.breakdowns.question_type || []) {
                  accRows.push([d.models[i].name, "question type: " + g.group, g.questions, g.answered, g.correct, g.accuracy]);
                }
              }
              o.append(sortableTable(["model", "group", "questions", "answered", "right", "accuracy"], accRows, 2));
              o.append(el("h2", { text: "Grounding of right and wrong answers (at each model's best layer)" }));
              const gRows = [];
              for (const id of allMetrics()) {
                for (const i of withAnswers) {
                  const m = d.models[i];
                  const stat = m.summary.metrics.find(s => s.id === id);
                  const groups = (m.summary.breakdowns.answer || []);
                  if (!stat) continue;
                  const b = bestLayer(i, stat);
                  if (!b) continue;
                  const li = m.summary.parameters.layers.indexOf(b.layer);
                  const g = name => groups.find(x => x.group === name);
                  const v = name => { const x = g(name); return x && x.means[id] ? x.means[id][li] : null; };
                  const n = name => { const x = g(name); return x ? x.n : 0; };
                  gRows.push([id, m.name, b.layer, v("right"), n("right"), v("wrong"), n("wrong"), v("(not answered)"), n("(not answered)")]);
                }
              }
              o.append(sortableTable(["metric", "model", "layer", "right", "n right", "wrong", "n wrong", "not answered", "n"], gRows, 2));
            }

            o.append(el("h2", { text: "Breakdowns (mean at each model's best layer)" }));
            const pick = el("select", { id: "table-metric" });
            allMetrics().forEach((id, k) => pick.append(el("option", { value: k, text: id })));
            pick.value = S.tableMetric;
            const holder = el("div");
            pick.addEventListener("change", () => { S.tableMetric = Number(pick.value); breakdowns(holder); });
            o.append(el("div", { class: "controls" }, el("label", {}, "Metric ", pick)));
            o.append(holder);
            breakdowns(holder);
          }

          function breakdowns(holder) {
            holder.textContent = "";
            const id = allMetrics()[S.tableMetric];
            for (const [dim, title] of [["modality", "By modality"], ["label", "By label"], ["question_type", "By question type"], ["split", "By split"]]) {
              const groups = new Map();
              const head = ["group"];
              S.data.models.forEach((m, i) => {
                head.push(m.name + " n", m.name);
                const stat = m.summary.metrics.find(s => s.id === id);
                const b = stat ? bestLayer(i, stat) : null;
                const li = b ? m.summary.parameters.layers.indexOf(b.layer) : -1;
                for (const g of m.summary.breakdowns[dim] || []) {
                  if (!groups.has(g.group)) groups.set(g.group, new Array(2 * S.data.models.length).fill(null));
                  const row = groups.get(g.group);
                  row[2 * i] = g.n;
                  row[2 * i + 1] = li >= 0 && g.means[id] ? g.means[id][li] : null;
                }
              });
              if (!groups.size) continue;
              holder.append(el("h3", { text: `${title}: ${id}` }));
              const rows = [...groups.entries()].sort((a, b) => a[0] < b[0] ? -1 : 1).map(([g, r]) => [g, ...r]);
              holder.append(sortableTable(head, rows, 1));
            }
          }

          // --- gallery ----------------------------------------------------------------------------
          function options(select, values, labels) {
            select.textContent = "";
            values.forEach((v, k) => select.append(el("option", { value: v, text: labels ? labels[k] : v })));
          }
          function distinct(key) {
            const set = new Set();
            for (const q of S.data.questions) set.add(q[key] == null ? "(none)" : q[key]);
            return [...set].sort();
          }

          function setupGallery() {
            const names = S.data.models.map(m => m.name);
            const idx = names.map((_, i) => String(i));
            options(document.getElementById("left-model"), idx, names);
            options(document.getElementById("right-model"), ["-1", ...idx], ["(none)", ...names]);
            if (S.data.models.length > 1) { S.right = 1; document.getElementById("right-model").value = "1"; }
            for (const [id, key] of [["filter-modality", "modality"], ["filter-label", "label"], ["filter-split", "split"]]) {
              const values = distinct(key);
              options(document.getElementById(id), ["", ...values], ["any", ...values]);
            }
            const on = (id, ev, f) => document.getElementById(id).addEventListener(ev, f);
            on("left-model", "change", e => { S.left = Number(e.target.value); setupModelControls(); refresh(); });
            on("right-model", "change", e => { S.right = Number(e.target.value); setupHeads(); refresh(); });
            for (const id of ["filter-modality", "filter-label", "filter-split", "filter-answer", "sort-order"]) on(id, "change", refresh);
            on("sort-metric", "change", e => { S.sortMetric = Number(e.target.value); refresh(); });
            on("layer", "input", e => { S.layer = Number(e.target.value); updateLayerLabel(); redraw(); });
            on("head", "change", e => { S.head = Number(e.target.value); redraw(); });
            on("opacity", "input", e => {
              S.opacity = Number(e.target.value) / 100;
              document.querySelectorAll(".view canvas").forEach(c => { c.style.opacity = S.opacity; });
            });
            on("colormap", "change", e => { S.cmap = e.target.value; drawLegend(); redraw(); });
            on("fade", "change", e => { S.fade = e.target.checked; redraw(); });
            on("show-regions", "change", e => {
              S.regions = e.target.checked;
              document.querySelectorAll(".view").forEach(v => v.classList.toggle("hide-regions", !S.regions));
            });
            S.observer = new IntersectionObserver(entries => {
              if (entries.some(e => e.isIntersecting)) more();
            }, { rootMargin: "600px" });
            S.observer.observe(document.getElementById("sentinel"));
            setupModelControls();
            drawLegend();
          }

          function setupModelControls() {
            const layers = layersOf(S.left);
            const slider = document.getElementById("layer");
            slider.max = String(Math.max(0, layers.length - 1));
            if (S.layer > layers.length - 1) S.layer = 0;
            slider.value = String(S.layer);
            updateLayerLabel();
            setupHeads();
            const metrics = metricsOf(S.left);
            options(document.getElementById("sort-metric"), ["-1", ...metrics.map((_, k) => String(k))], ["release order", ...metrics]);
            if (S.sortMetric >= metrics.length) S.sortMetric = -1;
            document.getElementById("sort-metric").value = String(S.sortMetric);
          }

          // The head selector: shown when a model on screen has per-head maps.
          function setupHeads() {
            const count = Math.max(model(S.left).heads || 0, S.right >= 0 ? model(S.right).heads || 0 : 0);
            document.getElementById("head-label").hidden = count === 0;
            const heads = ["-1"], labels = ["mean"];
            for (let h = 0; h < count; h++) { heads.push(String(h)); labels.push(String(h)); }
            options(document.getElementById("head"), heads, labels);
            if (S.head >= count) S.head = -1;
            document.getElementById("head").value = String(S.head);
          }

          function updateLayerLabel() {
            document.getElementById("layer-value").textContent = String(layersOf(S.left)[S.layer]);
          }

          function drawLegend() {
            const c = document.getElementById("legend"), ctx = c.getContext("2d");
            const img = ctx.createImageData(256, 1), L = LUTS[S.cmap];
            for (let i = 0; i < 256; i++) {
              img.data[4 * i] = L[3 * i]; img.data[4 * i + 1] = L[3 * i + 1]; img.data[4 * i + 2] = L[3 * i + 2]; img.data[4 * i + 3] = 255;
            }
            ctx.putImageData(img, 0, 0);
          }

          function ensureValues(m) {
            if (S.values[m]) return Promise.resolve();
            return load(`data/values-${m}.js`);
          }

          function value(m, q, layerIndex, metricIndex) {
            const v = S.values[m];
            if (!v) return NaN;
            const M = metricsOf(m).length, L = layersOf(m).length;
            return v[(q * L + layerIndex) * M + metricIndex];
          }

          function answerState(q, m) {
            const e = S.data.questions[q].models[m];
            return e.ok === true ? "right" : e.ok === false ? "wrong" : "none";
          }

          async function refresh() {
            await ensureValues(S.left);
            if (S.right >= 0) await ensureValues(S.right);
            const f = id => document.getElementById(id).value;
            const modality = f("filter-modality"), label = f("filter-label"), split = f("filter-split"), answer = f("filter-answer");
            const keep = (q, key, want) => !want || (q[key] == null ? "(none)" : q[key]) === want;
            const order = [];
            S.data.questions.forEach((q, i) => {
              if (!keep(q, "modality", modality) || !keep(q, "label", label) || !keep(q, "split", split)) return;
              if (answer && answerState(i, S.left) !== answer) return;
              order.push(i);
            });
            S.sortOrder = f("sort-order");
            if (S.sortMetric >= 0) {
              const higher = model(S.left).higher_is_better[S.sortMetric];
              const worstFirst = S.sortOrder === "worst";
              const ascending = higher === worstFirst;
              const key = order.map(i => value(S.left, i, S.layer, S.sortMetric));
              const pos = new Map(order.map((q, k) => [q, k]));
              order.sort((a, b) => {
                const va = key[pos.get(a)], vb = key[pos.get(b)];
                const na = Number.isNaN(va), nb = Number.isNaN(vb);
                if (na || nb) return na - nb || a - b;
                return (ascending ? va - vb : vb - va) || a - b;
              });
            }
            S.order = order;
            S.shown = 0;
            S.rendered = [];
            document.getElementById("cards").textContent = "";
            const sortText = S.sortMetric >= 0
              ? ` · sorted by ${metricsOf(S.left)[S.sortMetric]} at layer ${layersOf(S.left)[S.layer]}, ${S.sortOrder} first` : "";
            document.getElementById("gallery-count").textContent = `${order.length} of ${S.data.questions.length} question(s)${sortText}`;
            more();
          }

          function more() {
            if (!S.data || S.shown >= S.order.length) return;
            const cards = document.getElementById("cards");
            const end = Math.min(S.order.length, S.shown + S.page);
            for (let k = S.shown; k < end; k++) cards.append(card(S.order[k]));
            S.shown = end;
            const sentinel = document.getElementById("sentinel");
            const rect = sentinel.getBoundingClientRect();
            if (rect.top < window.innerHeight + 600) requestAnimationFrame(more);
          }

          function card(q) {
            const Q = S.data.questions[q];
            const c = el("article", { class: "card", "data-question": Q.id });
            const meta = [`#${Q.id}`, Q.split, Q.modality, Q.label, Q.question_type].filter(x => x != null).join(" · ");
            c.append(el("div", { class: "meta", text: meta }));
            c.append(el("div", { class: "q", text: Q.question }));
            let expected = Q.answer;
            if (Q.options && Q.correct_option != null) expected = `${String.fromCharCode(65 + Q.correct_option)}. ${Q.options[Q.correct_option]}`;
            c.append(el("div", { class: "meta", text: `expected: ${expected}` }));
            const panels = el("div", { class: "panels" });
            for (const m of [S.left, S.right]) if (m >= 0) panels.append(panel(q, m));
            c.append(panels);
            return c;
          }

          function panel(q, m) {
            const Q = S.data.questions[q], E = Q.models[m], M = model(m);
            const p = el("div", { class: "panel", "data-model": String(m) });
            p.append(el("div", { class: "name" }, el("span", { class: "swatch", style: `background:${COLORS[m % COLORS.length]}` }), M.name));
            if (E.answer != null) {
              const state = E.ok ? "right" : "wrong";
              p.append(el("div", {}, "answer: ", el("span", { class: "answer " + state, text: `${E.answer} (${state})` })));
            } else {
              // Always one line here, so that two models' images stay level.
              p.append(el("div", { class: "muted", text: M.has_answers ? "not answered" : "no answers given" }));
            }
            const view = el("div", { class: "view" + (S.regions ? "" : " hide-regions") });
            view.style.aspectRatio = `${Q.width} / ${Q.height}`;
            if (Q.image) view.append(el("img", { src: Q.image, loading: "lazy", alt: `image of question ${Q.id}`, decoding: "async" }));
            else view.append(el("div", { class: "noimage", text: "no pixels in this release (restricted or left out)" }));
            if (E.grid) {
              const g = E.grid, canvas = el("canvas", { width: g[5], height: g[4] });
              canvas.style.left = `${100 * g[0] / Q.width}%`;
              canvas.style.top = `${100 * g[1] / Q.height}%`;
              canvas.style.width = `${100 * (g[2] - g[0]) / Q.width}%`;
              canvas.style.height = `${100 * (g[3] - g[1]) / Q.height}%`;
              canvas.style.opacity = S.opacity;
              view.append(canvas);
            }
            const s = svg("svg", { viewBox: `0 0 ${Q.width} ${Q.height}`, preserveAspectRatio: "none" });
            for (const r of Q.regions) {
              let d = "";
              if (r.kind === "box") { const b = r.box; d = `M${b[0]} ${b[1]}H${b[2]}V${b[3]}H${b[0]}Z`; }
              else if (r.kind === "polygon") d = r.rings.map(ring => "M" + ring.join(" ").replace(/^(\S+ \S+)/, "$1L") + "Z").join("");
              else d = r.path;
              s.append(svg("path", { class: "region", d }));
              s.append(svg("path", { class: "region-inner", d }));
            }
            view.append(s);
            p.append(view);
            const info = el("div", { class: "map-info muted" });
            p.append(info);
            const values = el("table", { class: "values" });
            p.append(values);
            if (E.note) p.append(el("div", { class: "note", text: E.note }));
            S.rendered.push({ q, m, panel: p });
            draw(q, m, p);
            return p;
          }

          function layerIndexFor(m) {
            const wanted = layersOf(S.left)[S.layer];
            return layersOf(m).indexOf(wanted);
          }

          function draw(q, m, p) {
            const Q = S.data.questions[q], E = Q.models[m], M = model(m);
            const li = layerIndexFor(m);
            const table = p.querySelector(".values");
            table.textContent = "";
            const metrics = metricsOf(m);
            const layerName = layersOf(S.left)[S.layer];
            if (li < 0) table.append(el("tr", {}, el("td", { text: `layer ${layerName} not scored` })));
            else if (E.scored) {
              ensureValues(m).then(() => {
                table.textContent = "";
                metrics.forEach((id, k) => table.append(el("tr", {}, el("th", { text: shortName(id) }), el("td", { text: fmt(value(m, q, li, k)) }))));
              });
            } else table.append(el("tr", {}, el("td", { class: "muted", text: "not scored" })));
            const canvas = p.querySelector("canvas"), info = p.querySelector(".map-info");
            if (!canvas || !E.grid) { info.textContent = M.has_maps ? "" : "no attention maps given for this model"; return; }
            if (li < 0) { canvas.style.visibility = "hidden"; return; }
            canvas.style.visibility = "visible";
            const key = `${m}-${E.chunk}`;
            const paint = () => {
              const bytes = S.chunks[key];
              const rows = E.grid[4], cols = E.grid[5], n = rows * cols;
              const perLayer = 1 + (M.heads || 0);
              const head = S.head >= 0 && S.head < (M.heads || 0) ? S.head : -1;
              const index = li * perLayer + (head >= 0 ? 1 + head : 0);
              const start = E.offset + index * (8 + n);
              const view = new DataView(bytes.buffer, bytes.byteOffset + start, 8);
              const lo = view.getFloat32(0, true), hi = view.getFloat32(4, true);
              const ctx = canvas.getContext("2d"), img = ctx.createImageData(cols, rows), L = LUTS[S.cmap];
              for (let i = 0; i < n; i++) {
                const v = bytes[start + 8 + i];
                img.data[4 * i] = L[3 * v]; img.data[4 * i + 1] = L[3 * v + 1]; img.data[4 * i + 2] = L[3 * v + 2];
                img.data[4 * i + 3] = S.fade ? Math.min(255, Math.round(v * 1.6)) : 255;
              }
              ctx.putImageData(img, 0, 0);
              canvas.dataset.layer = String(layersOf(m)[li]);
              canvas.dataset.head = String(head);
              info.textContent = `layer ${layersOf(m)[li]}${head >= 0 ? ", head " + head : ""} · map ${fmt(lo)} to ${fmt(hi)} · grid ${rows}×${cols}`;
            };
            if (S.chunks[key]) paint();
            else load(`data/maps-${key}.js`).then(paint, err => { info.textContent = String(err.message); });
          }

          function redraw() {
            for (const r of S.rendered) draw(r.q, r.m, r.panel);
          }

          function tab(name) {
            document.querySelectorAll("nav button").forEach(b => b.classList.toggle("active", b.dataset.tab === name));
            document.getElementById("overview").hidden = name !== "overview";
            document.getElementById("gallery").hidden = name !== "gallery";
            if (name === "gallery" && !S.galleryReady) { S.galleryReady = true; setupGallery(); refresh(); }
            // Not "#overview": the browser would scroll to the element of that id once loaded.
            const want = name === "gallery" ? "#questions" : "";
            if (location.hash !== want) history.replaceState(null, "", want || location.pathname + location.search);
          }

          function start(data) {
            S.data = data;
            document.getElementById("subtitle").textContent =
              `release ${data.release.version} (${data.release.root_hash.slice(0, 12)}…) · ${data.questions.length} question(s) · ${data.models.length} model(s)`;
            document.querySelectorAll("nav button").forEach(b => b.addEventListener("click", () => tab(b.dataset.tab)));
            overview();
            tab(location.hash === "#questions" ? "gallery" : "overview");
            window.GW_READY = true;
          }

          return {
            start,
            values(m, text) { const b = base64(text); S.values[m] = new Float32Array(b.buffer, 0, b.length / 4); },
            chunk(m, c, text) { S.chunks[`${m}-${c}`] = base64(text); },
            colormap(name) { return Array.from(LUTS[name || S.cmap]); },
            state: S
          };
        })();

        """#
}
