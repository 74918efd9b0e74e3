// The review app's page, style and script, served from memory: no CDN, no external font or
// script, so the app works offline and nothing but this server is ever asked for anything.

enum WebAssets {
    /// The one page; the script reads the token from its meta tag (only a request that already
    /// carried the token gets this page) and sends it in a header with every change.
    static func indexHTML(token: String, readOnly: Bool) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="groundwork-token" content="\(token)">
        <meta name="groundwork-read-only" content="\(readOnly ? "1" : "0")">
        <title>Groundwork review</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
        </head>
        <body>
        <header class="bar">
          <a class="brand" href="#/">Groundwork review</a>
          <span id="project" class="muted"></span>
          <span id="mode" class="badge"></span>
          <span class="spacer"></span>
          <label class="reviewer">Reviewer <input id="reviewer" type="text" maxlength="200" autocomplete="name" placeholder="your name"></label>
          <button id="help-button" type="button" title="Keyboard shortcuts (?)">?</button>
        </header>
        <main id="main"></main>
        <div id="toast" role="status" aria-live="polite"></div>
        <dialog id="help">
          <h2>Keyboard shortcuts</h2>
          <table>
            <tr><td><kbd>j</kbd> <kbd>↓</kbd></td><td>next region or question</td></tr>
            <tr><td><kbd>k</kbd> <kbd>↑</kbd></td><td>previous region or question</td></tr>
            <tr><td><kbd>a</kbd></td><td>accept (status reviewed), then next</td></tr>
            <tr><td><kbd>r</kbd></td><td>reject (status rejected), then next</td></tr>
            <tr><td><kbd>u</kbd></td><td>back to draft</td></tr>
            <tr><td><kbd>n</kbd> <kbd>→</kbd></td><td>next image</td></tr>
            <tr><td><kbd>p</kbd> <kbd>←</kbd></td><td>previous image</td></tr>
            <tr><td><kbd>c</kbd> / <kbd>f</kbd></td><td>clear / confirm the burned-in flag</td></tr>
            <tr><td><kbd>+</kbd> <kbd>-</kbd> <kbd>0</kbd> <kbd>1</kbd></td><td>zoom in, out, fit, 1:1</td></tr>
            <tr><td><kbd>w</kbd></td><td>next window preset</td></tr>
            <tr><td><kbd>Esc</kbd></td><td>back to the grid</td></tr>
          </table>
          <form method="dialog"><button>Close</button></form>
        </dialog>
        </body>
        </html>

        """
    }

    static let appCSS = #"""
        :root { --bg: #16181d; --panel: #1f232b; --line: #313743; --text: #e4e7ec; --muted: #9aa3b2;
          --accent: #4f9cf0; --ok: #3fb27f; --bad: #e5534b; --warn: #d9a62e; font-family: system-ui, sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--text); font-size: 14px; }
        a { color: var(--accent); }
        .bar { display: flex; align-items: center; gap: 12px; padding: 8px 14px; background: var(--panel);
          border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; }
        .brand { font-weight: 600; color: var(--text); text-decoration: none; }
        .spacer { flex: 1; }
        .muted { color: var(--muted); }
        .badge { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #2b3240; }
        .badge.ro { background: #5b4413; color: #ffd98a; }
        .badge.draft { background: #2b3240; } .badge.reviewed { background: #1d4d38; color: #9ff0c8; }
        .badge.rejected { background: #5a2222; color: #ffb3ae; }
        .badge.flagged { background: #5b4413; color: #ffd98a; } .badge.cleared { background: #1d4d38; color: #9ff0c8; }
        input, select, button { font: inherit; color: var(--text); background: #262b35; border: 1px solid var(--line);
          border-radius: 6px; padding: 4px 8px; }
        button { cursor: pointer; } button:hover { border-color: var(--accent); }
        button:disabled { opacity: .45; cursor: default; }
        button.ok { border-color: var(--ok); } button.bad { border-color: var(--bad); }
        .reviewer input { width: 12em; } .reviewer input.missing { border-color: var(--bad); }
        .filters { display: flex; flex-wrap: wrap; gap: 10px; padding: 12px 14px; align-items: end; }
        .filters label { display: flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
        .count { padding: 0 14px 8px; color: var(--muted); }
        .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; padding: 0 14px 20px; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden;
          text-decoration: none; color: var(--text); display: flex; flex-direction: column; }
        .card:hover, .card:focus { border-color: var(--accent); outline: none; }
        .card .thumb { height: 150px; display: flex; align-items: center; justify-content: center; background: #000; }
        .card img { max-width: 100%; max-height: 150px; }
        .card .meta { padding: 6px 8px; display: flex; flex-direction: column; gap: 4px; }
        .card .name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 13px; }
        .card .tags { display: flex; gap: 4px; flex-wrap: wrap; }
        .more { margin: 0 14px 20px; }
        .viewer { display: grid; grid-template-columns: minmax(0, 1fr) 420px; height: calc(100vh - 49px); }
        .stage-wrap { display: flex; flex-direction: column; min-width: 0; border-right: 1px solid var(--line); }
        .tools { display: flex; gap: 6px; padding: 8px; align-items: center; flex-wrap: wrap; border-bottom: 1px solid var(--line); }
        .stage { flex: 1; overflow: auto; background: #0b0c0f; position: relative; }
        .canvas { position: relative; margin: auto; }
        .canvas img, .canvas svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
        .canvas img.pixelated { image-rendering: pixelated; }
        .side { overflow: auto; padding: 10px 12px; }
        .side h2 { font-size: 15px; margin: 14px 0 6px; } .side h2:first-child { margin-top: 0; }
        .kv { display: grid; grid-template-columns: 110px 1fr; gap: 2px 8px; font-size: 13px; }
        .kv div:nth-child(odd) { color: var(--muted); } .kv div { overflow-wrap: anywhere; }
        .item { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; margin-bottom: 6px; background: var(--panel); }
        .item.focused { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
        .item .row { display: flex; align-items: center; gap: 6px; }
        .item .grow { flex: 1; min-width: 0; }
        .item .actions { display: flex; gap: 4px; }
        .item .who { font-size: 12px; color: var(--muted); margin-top: 3px; }
        .swatch { width: 12px; height: 12px; border-radius: 3px; display: inline-block; flex: none; }
        .swatch.consensus { background: repeating-linear-gradient(45deg, #fff 0 3px, #000 3px 6px) !important; }
        .flagbox { border: 1px solid var(--warn); border-radius: 6px; padding: 8px; background: #2a2417; }
        .flagbox.cleared { border-color: var(--ok); background: #17271f; }
        .flagbox.none { border-color: var(--line); background: var(--panel); }
        pre { background: #0f1115; border: 1px solid var(--line); border-radius: 6px; padding: 8px; font-size: 12px;
          overflow: auto; max-height: 340px; }
        #toast { position: fixed; bottom: 16px; left: 50%; transform: translateX(-50%); background: #2b3240;
          border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; display: none; z-index: 10; max-width: 80vw; }
        #toast.show { display: block; } #toast.error { border-color: var(--bad); }
        dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 8px; }
        dialog td { padding: 2px 10px 2px 0; } kbd { background: #2b3240; border-radius: 4px; padding: 1px 5px; font-size: 12px; }
        .legend { display: flex; gap: 10px; flex-wrap: wrap; font-size: 12px; color: var(--muted); padding: 4px 8px; }
        .legend span { display: inline-flex; align-items: center; gap: 4px; }
        .empty { padding: 30px; color: var(--muted); }
        """#

    static let appJS = #"""
        "use strict";
        // Groundwork review app. Every change sends the token in a header; the server checks it,
        // the origin and the item's version (a stale version gets 409 and the page reloads).
        const TOKEN = document.querySelector('meta[name="groundwork-token"]').content;
        const READ_ONLY = document.querySelector('meta[name="groundwork-read-only"]').content === "1";
        const PALETTE = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#8dd3c7"];
        const FILTERS = ["split", "modality", "label", "source", "review", "flag"];
        const state = { facets: null, session: null, ids: null, idsKey: null, detail: null, focus: 0, items: [],
          zoom: null, window: "stored", overlays: true };
        const $ = (sel, root = document) => root.querySelector(sel);
        function el(tag, attrs = {}, ...children) {
          const node = document.createElement(tag);
          for (const [key, value] of Object.entries(attrs)) {
            if (value === null || value === undefined || value === false) continue;
            if (key === "class") node.className = value;
            else if (key === "style") node.style.cssText = value;
            else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
            else node.setAttribute(key, value === true ? "" : value);
          }
          for (const child of children.flat()) {
            if (child === null || child === undefined || child === false) continue;
            node.append(child instanceof Node ? child : document.createTextNode(String(child)));
          }
          return node;
        }
        function svg(tag, attrs = {}) {
          const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
          for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
          return node;
        }
        function toast(message, error = false) {
          const box = $("#toast");
          box.textContent = message;
          box.className = "show" + (error ? " error" : "");
          clearTimeout(toast.timer);
          toast.timer = setTimeout(() => { box.className = ""; }, error ? 6000 : 2500);
        }
        async function getJSON(url) {
          const response = await fetch(url, { credentials: "same-origin" });
          const body = await response.json().catch(() => ({}));
          if (!response.ok) throw new Error(body.error || response.status + " " + response.statusText);
          return body;
        }
        async function post(url, payload) {
          const response = await fetch(url, {
            method: "POST", credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-Groundwork-Token": TOKEN },
            body: JSON.stringify(payload) });
          const body = await response.json().catch(() => ({}));
          return { status: response.status, body };
        }

        // Routing: #/?filters (the grid) and #/image/ID?filters (one image).
        function route() {
          const hash = location.hash.replace(/^#/, "") || "/";
          const [path, query] = hash.split("?");
          const params = new URLSearchParams(query || "");
          const match = path.match(/^\/image\/(\d+)$/);
          if (match) showImage(Number(match[1]), params); else showGrid(params);
        }
        // Encoded with %20 for spaces (the server reads '+' as itself).
        function toQuery(params) {
          return [...params.entries()].map(([k, v]) => encodeURIComponent(k) + "=" + encodeURIComponent(v)).join("&");
        }
        function filterQuery(params) {
          const out = new URLSearchParams();
          for (const key of [...FILTERS, "part"]) if (params.get(key)) out.set(key, params.get(key));
          return toQuery(out);
        }

        // The grid.
        async function showGrid(params) {
          document.body.dataset.view = "grid";
          const main = $("#main");
          main.replaceChildren(el("div", { class: "empty" }, "Loading…"));
          const facets = state.facets;
          const select = (name, title, options) => {
            const current = name === "split" ? [params.get("split"), params.get("part")].filter(Boolean).join(":") : params.get(name) || "";
            const node = el("select", { name, "data-filter": name },
              el("option", { value: "" }, "any"),
              options.map(([value, text]) => el("option", { value, selected: value === current }, text)));
            node.addEventListener("change", () => {
              const next = new URLSearchParams(filterQuery(params));
              if (name === "split") {
                const [split, part] = node.value.split(":");
                next.delete("split"); next.delete("part");
                if (split) next.set("split", split);
                if (part) next.set("part", part);
              } else if (node.value) next.set(name, node.value); else next.delete(name);
              location.hash = "#/?" + toQuery(next);
            });
            return el("label", {}, title, node);
          };
          const splitOptions = [];
          for (const split of facets.splits) {
            splitOptions.push([split.name, split.name + " (all parts)"]);
            for (const part of split.parts) splitOptions.push([split.name + ":" + part, split.name + ": " + part]);
          }
          const filters = el("div", { class: "filters" },
            select("split", "Split", splitOptions),
            select("modality", "Modality", facets.modalities.map((m) => [m, m])),
            select("label", "Label", facets.labels.map((m) => [m, m])),
            select("source", "Source", facets.sources.map((m) => [m, m])),
            select("review", "Review status", [["pending", "has drafts"], ["reviewed", "all reviewed"], ["rejected", "has rejections"], ["none", "no regions or questions"]]),
            select("flag", "Burned-in flag", [["flagged", "flagged, not reviewed"], ["confirmed", "confirmed"], ["cleared", "cleared"], ["any", "flagged or cleared"], ["none", "never flagged"]]));
          const query = filterQuery(params);
          let page;
          try {
            page = await getJSON("/api/images?limit=120&" + query);
          } catch (error) {
            main.replaceChildren(filters, el("div", { class: "empty" }, "Could not list images: " + error.message));
            return;
          }
          const grid = el("div", { class: "grid", id: "grid" });
          const count = el("div", { class: "count", id: "count" });
          const more = el("button", { class: "more", type: "button" }, "Load more");
          let shown = 0;
          const add = (images) => {
            for (const image of images) grid.append(card(image, query));
            shown += images.length;
            count.textContent = page.total + " image" + (page.total === 1 ? "" : "s") + (shown < page.total ? " (" + shown + " shown)" : "");
            more.hidden = shown >= page.total;
          };
          more.addEventListener("click", async () => {
            const next = await getJSON("/api/images?limit=120&offset=" + shown + "&" + query);
            add(next.images);
          });
          main.replaceChildren(filters, count, grid, more);
          add(page.images);
          if (page.total === 0) grid.append(el("div", { class: "empty" }, "No image matches these filters."));
        }
        function card(image, query) {
          const tags = [];
          if (image.modality) tags.push(el("span", { class: "badge" }, image.modality));
          if (image.drafts > 0) tags.push(el("span", { class: "badge draft" }, image.drafts + " draft"));
          else if (image.regions + image.questions > 0) tags.push(el("span", { class: "badge reviewed" }, "reviewed"));
          if (image.flag === "flagged") tags.push(el("span", { class: "badge flagged" }, image.flagReviewed ? "burned-in: confirmed" : "burned-in?"));
          if (image.flag === "cleared") tags.push(el("span", { class: "badge cleared" }, "flag cleared"));
          return el("a", { class: "card", href: "#/image/" + image.id + (query ? "?" + query : ""), "data-image": image.id },
            el("div", { class: "thumb" }, el("img", { src: "/api/images/" + image.id + "/thumbnail", alt: image.name, loading: "lazy" })),
            el("div", { class: "meta" },
              el("div", { class: "name", title: image.name }, "#" + image.id + " " + image.name),
              el("div", { class: "muted" }, image.width + "×" + image.height + " · " + image.regions + " regions · " + image.questions + " questions"),
              el("div", { class: "tags" }, tags)));
        }

        // One image.
        function colourOf(region) {
          if (region.consensusMethod) return "#ffffff";
          const index = state.facets.annotators.indexOf(region.annotator);
          return index < 0 ? "#bbbbbb" : PALETTE[index % PALETTE.length];
        }
        async function showImage(id, params) {
          document.body.dataset.view = "image";
          const query = filterQuery(params);
          let detail;
          try {
            detail = await getJSON("/api/images/" + id);
          } catch (error) {
            $("#main").replaceChildren(el("div", { class: "empty" }, "Could not open image " + id + ": " + error.message));
            return;
          }
          if (state.idsKey !== query) {
            state.ids = await getJSON("/api/image-ids?" + query).catch(() => []);
            state.idsKey = query;
          }
          const sameImage = state.detail && state.detail.id === id;
          state.detail = detail;
          state.items = [...detail.regions.map((r) => ({ kind: "region", item: r })), ...detail.questions.map((q) => ({ kind: "question", item: q }))];
          if (!sameImage) { state.focus = 0; state.zoom = null; state.window = "stored"; }
          state.focus = Math.min(state.focus, Math.max(0, state.items.length - 1));
          renderImage(query);
        }
        function neighbour(step) {
          const ids = state.ids || [];
          const index = ids.indexOf(state.detail.id);
          if (index < 0) return null;
          const next = ids[index + step];
          return next === undefined ? null : next;
        }
        function renderImage(query) {
          const d = state.detail;
          const previous = neighbour(-1), next = neighbour(1);
          const go = (target) => { if (target !== null) location.hash = "#/image/" + target + (query ? "?" + query : ""); };
          const windowSelect = el("select", { id: "window", title: "Window (w)" },
            d.windows.map((w) => el("option", { value: w.id, selected: w.id === state.window }, w.title)));
          windowSelect.addEventListener("change", () => { state.window = windowSelect.value; loadPixels(); });
          const position = state.ids ? (state.ids.indexOf(d.id) + 1) + " of " + state.ids.length : "";
          const tools = el("div", { class: "tools" },
            el("a", { href: "#/" + (query ? "?" + query : ""), title: "Back to the grid (Esc)" }, "← Grid"),
            el("button", { type: "button", id: "prev", disabled: previous === null, onclick: () => go(previous), title: "Previous image (p)" }, "‹ Prev"),
            el("button", { type: "button", id: "next", disabled: next === null, onclick: () => go(next), title: "Next image (n)" }, "Next ›"),
            el("span", { class: "muted" }, position),
            el("span", { class: "spacer" }),
            el("button", { type: "button", onclick: () => zoomBy(1 / 1.25), title: "Zoom out (-)" }, "−"),
            el("span", { id: "zoom-level", class: "muted" }),
            el("button", { type: "button", onclick: () => zoomBy(1.25), title: "Zoom in (+)" }, "+"),
            el("button", { type: "button", onclick: () => setZoom(null), title: "Fit (0)" }, "Fit"),
            el("button", { type: "button", onclick: () => setZoom(1), title: "Full resolution (1)" }, "1:1"),
            windowSelect,
            el("label", { class: "muted" }, el("input", { type: "checkbox", id: "overlays", checked: state.overlays,
              onchange: (e) => { state.overlays = e.target.checked; drawOverlays(); } }), " regions"));
          const annotators = [...new Set(d.regions.filter((r) => !r.consensusMethod).map((r) => r.annotator))];
          const legend = el("div", { class: "legend" },
            annotators.map((a) => el("span", {}, el("i", { class: "swatch", style: "background:" + colourOf({ annotator: a }) }), a || "no annotator")),
            d.regions.some((r) => r.consensusMethod) ? el("span", {}, el("i", { class: "swatch consensus" }), "consensus (dashed)") : null);
          const canvas = el("div", { class: "canvas", id: "canvas" },
            el("img", { id: "pixels", alt: "image " + d.id, draggable: "false" }),
            svg("svg", { id: "overlay", viewBox: "0 0 " + d.width + " " + d.height, preserveAspectRatio: "none" }));
          const stage = el("div", { class: "stage", id: "stage" }, canvas);
          const side = el("div", { class: "side", id: "side" });
          $("#main").replaceChildren(el("div", { class: "viewer" }, el("div", { class: "stage-wrap" }, tools, legend, stage), side));
          renderSide();
          loadPixels();
          setZoom(state.zoom);
          new ResizeObserver(() => { if (state.zoom === null) setZoom(null); }).observe(stage);
        }
        function loadPixels() {
          const img = $("#pixels");
          if (!img) return;
          img.src = "/api/images/" + state.detail.id + "/view?window=" + encodeURIComponent(state.window);
        }
        function setZoom(zoom) {
          state.zoom = zoom;
          const d = state.detail, stage = $("#stage"), canvas = $("#canvas");
          if (!stage || !canvas) return;
          const fit = Math.min((stage.clientWidth - 16) / d.width, (stage.clientHeight - 16) / d.height);
          const scale = zoom === null ? Math.max(fit, 0.01) : zoom;
          canvas.style.width = Math.round(d.width * scale) + "px";
          canvas.style.height = Math.round(d.height * scale) + "px";
          canvas.style.marginTop = Math.max(0, (stage.clientHeight - d.height * scale) / 2) + "px";
          $("#pixels").classList.toggle("pixelated", scale >= 2);
          $("#zoom-level").textContent = Math.round(scale * 100) + "%";
          state.scale = scale;
        }
        function zoomBy(factor) { setZoom(Math.min(32, Math.max(0.05, (state.scale || 1) * factor))); }
        function drawOverlays() {
          const layer = $("#overlay");
          if (!layer) return;
          layer.replaceChildren();
          if (!state.overlays) return;
          const d = state.detail;
          const focused = state.items[state.focus];
          const highlighted = new Set();
          if (focused && focused.kind === "region") highlighted.add(focused.item.id);
          if (focused && focused.kind === "question") for (const id of focused.item.targets) highlighted.add(id);
          // Consensus underneath, readers over it, the focused item's regions on top.
          const rank = (r) => (highlighted.has(r.id) ? 2 : r.consensusMethod ? 0 : 1);
          const ordered = [...d.regions].sort((a, b) => rank(a) - rank(b));
          for (const region of ordered) {
            const colour = colourOf(region);
            const on = highlighted.has(region.id);
            const width = on ? 3.5 : 2;
            const common = { fill: "none", stroke: colour, "stroke-width": width, "vector-effect": "non-scaling-stroke",
              "data-region": region.id, opacity: region.status === "rejected" ? 0.45 : 1 };
            if (region.consensusMethod) common["stroke-dasharray"] = "7 4";
            if (region.status === "rejected") common["stroke-dasharray"] = "2 3";
            const group = svg("g", {});
            if (region.maskCounts) {
              const image = maskImage(region.maskCounts, d.width, d.height, colour, on ? 0.45 : 0.28);
              if (image) group.append(svg("image", { href: image, x: 0, y: 0, width: d.width, height: d.height, preserveAspectRatio: "none" }));
              const [x0, y0, x1, y1] = region.box;
              group.append(svg("rect", { ...common, x: x0, y: y0, width: x1 - x0, height: y1 - y0, "stroke-dasharray": "1 3" }));
            } else if (region.polygons) {
              for (const ring of region.polygons) {
                const points = [];
                for (let i = 0; i + 1 < ring.length; i += 2) points.push(ring[i] + "," + ring[i + 1]);
                group.append(svg("polygon", { ...common, points: points.join(" ") }));
              }
            } else {
              const [x0, y0, x1, y1] = region.box;
              if (region.consensusMethod) group.append(svg("rect", { ...common, stroke: "#000", "stroke-dasharray": "none", "stroke-width": width + 2, x: x0, y: y0, width: x1 - x0, height: y1 - y0 }));
              group.append(svg("rect", { ...common, x: x0, y: y0, width: x1 - x0, height: y1 - y0 }));
            }
            layer.append(group);
          }
        }
        // COCO RLE counts (column-major, starting with background) to a translucent image.
        function maskImage(counts, width, height, colour, alpha) {
          const canvas = document.createElement("canvas");
          canvas.width = width; canvas.height = height;
          const context = canvas.getContext("2d");
          const data = context.createImageData(width, height);
          const r = parseInt(colour.slice(1, 3), 16), g = parseInt(colour.slice(3, 5), 16), b = parseInt(colour.slice(5, 7), 16);
          let position = 0;
          for (let i = 0; i < counts.length; i++) {
            if (i % 2 === 1) {
              for (let k = position; k < position + counts[i] && k < width * height; k++) {
                const x = Math.floor(k / height), y = k % height, o = (y * width + x) * 4;
                data.data[o] = r; data.data[o + 1] = g; data.data[o + 2] = b; data.data[o + 3] = Math.round(alpha * 255);
              }
            }
            position += counts[i];
          }
          context.putImageData(data, 0, 0);
          return canvas.toDataURL();
        }
        function statusBadge(status) { return el("span", { class: "badge " + status, "data-status": status }, status); }
        function who(item) {
          return item.reviewedBy ? el("div", { class: "who" }, "by " + item.reviewedBy + " at " + item.reviewedAt.replace("T", " ").replace(/\.\d+Z$/, "Z")) : null;
        }
        function actions(index) {
          if (READ_ONLY) return null;
          return el("div", { class: "actions" },
            el("button", { type: "button", class: "ok", title: "Accept (a)", onclick: (e) => { e.stopPropagation(); state.focus = index; review("reviewed"); } }, "Accept"),
            el("button", { type: "button", class: "bad", title: "Reject (r)", onclick: (e) => { e.stopPropagation(); state.focus = index; review("rejected"); } }, "Reject"));
        }
        function renderSide() {
          const d = state.detail;
          const side = $("#side");
          const render = d.render ? JSON.stringify(JSON.parse(d.render), null, 2) : null;
          const flagState = d.flag.state || "none";
          const flagTitle = { none: "Not flagged", flagged: d.flag.reviewedBy ? "Flagged: burned-in identifiers confirmed" : "Flagged: may carry burned-in identifiers", cleared: "Cleared by a reviewer" }[flagState];
          const flag = el("div", { class: "flagbox " + flagState, id: "flag", "data-flag": flagState },
            el("strong", {}, flagTitle),
            d.flag.reason ? el("div", { class: "muted" }, d.flag.reason) : null,
            who(d.flag),
            READ_ONLY ? null : el("div", { class: "row", style: "margin-top:6px; display:flex; gap:6px" },
              el("button", { type: "button", class: "ok", id: "flag-clear", disabled: flagState === "none", onclick: () => decideFlag("clear"), title: "No identifier in the pixels (c)" }, "Clear flag"),
              el("button", { type: "button", class: "bad", id: "flag-confirm", onclick: () => decideFlag("confirm"), title: "The pixels carry identifiers (f)" }, flagState === "none" ? "Flag burned-in identifiers" : "Confirm flag")),
            el("div", { class: "muted", style: "margin-top:4px; font-size:12px" }, "Decide after looking at the pixels at full resolution (1:1) and through the window presets."));
          const regionNodes = d.regions.map((region, index) => {
            const node = el("div", { class: "item" + (index === state.focus ? " focused" : ""), "data-item": "region-" + region.id, onclick: () => { state.focus = index; refreshFocus(); } },
              el("div", { class: "row" },
                el("i", { class: "swatch" + (region.consensusMethod ? " consensus" : ""), style: "background:" + colourOf(region) }),
                el("div", { class: "grow" }, el("strong", {}, "#" + region.id + " " + region.label),
                  el("span", { class: "muted" }, " " + region.kind + " · " + (region.consensusMethod ? "consensus " + region.consensusMethod : (region.annotator || "no annotator")) + (region.iscrowd ? " · crowd" : ""))),
                statusBadge(region.status), actions(index)),
              el("div", { class: "muted", style: "font-size:12px" }, "box " + region.box.map((v) => Math.round(v * 10) / 10).join(" ")),
              who(region));
            return node;
          });
          const questionNodes = d.questions.map((q, offset) => {
            const index = d.regions.length + offset;
            return el("div", { class: "item" + (index === state.focus ? " focused" : ""), "data-item": "question-" + q.id, onclick: () => { state.focus = index; refreshFocus(); } },
              el("div", { class: "row" },
                el("div", { class: "grow" }, el("strong", {}, "Q" + q.id + " "), q.question),
                statusBadge(q.status), actions(index)),
              el("div", {}, el("span", { class: "muted" }, "Answer: "), q.answer, el("span", { class: "muted" }, " · " + q.answerType + " · " + q.questionType + (q.label ? " · " + q.label : ""))),
              el("div", { class: "muted", style: "font-size:12px" }, q.targets.length ? "Targets: " + q.targets.map((t) => "#" + t).join(", ") : (q.groundable ? "No target region" : "Not groundable")),
              who(q));
          });
          side.replaceChildren(
            el("h2", {}, "Image #" + d.id),
            el("div", { class: "kv" },
              el("div", {}, "File"), el("div", {}, d.originalPath),
              el("div", {}, "Size"), el("div", {}, d.width + " × " + d.height + " · " + d.bitDepth + "-bit " + d.photometric + (d.sourceBitDepth !== d.bitDepth ? " (source " + d.sourceBitDepth + "-bit)" : "")),
              el("div", {}, "Modality"), el("div", {}, [d.modality, d.bodyPart].filter(Boolean).join(" · ") || "–"),
              el("div", {}, "Patient / study"), el("div", {}, (d.patientId || "–") + " / " + (d.studyId || "–")),
              el("div", {}, "Source"), el("div", {}, (d.source || "–") + (d.license ? " (" + d.license + ")" : "")),
              el("div", {}, "Object"), el("div", {}, el("a", { href: "/objects/" + d.sha256, target: "_blank", rel: "noopener" }, d.sha256.slice(0, 16) + "…"))),
            el("h2", {}, "Burned-in identifiers"), flag,
            el("h2", {}, "Regions (" + d.regions.length + ")"),
            ...(regionNodes.length ? regionNodes : [el("div", { class: "muted" }, "No regions.")]),
            el("h2", {}, "Questions (" + d.questions.length + ")"),
            ...(questionNodes.length ? questionNodes : [el("div", { class: "muted" }, "No questions.")]),
            el("h2", {}, "DICOM render record"),
            render ? el("pre", { id: "render" }, render) : el("div", { class: "muted" }, "Not rendered from DICOM."));
          drawOverlays();
        }
        function refreshFocus() {
          document.querySelectorAll(".item").forEach((node, index) => node.classList.toggle("focused", index === state.focus));
          const node = document.querySelectorAll(".item")[state.focus];
          if (node) node.scrollIntoView({ block: "nearest" });
          drawOverlays();
        }
        function reviewer() {
          const input = $("#reviewer");
          const name = input.value.trim();
          if (!name) {
            input.classList.add("missing");
            input.focus();
            toast("Enter your name as reviewer first: every review records who made it.", true);
            return null;
          }
          return name;
        }
        async function reload(message) {
          toast(message, true);
          const params = new URLSearchParams((location.hash.split("?")[1]) || "");
          await showImage(state.detail.id, params);
        }
        async function review(status) {
          if (READ_ONLY) { toast("Read-only: nothing can be changed.", true); return; }
          const entry = state.items[state.focus];
          if (!entry) return;
          const name = reviewer();
          if (!name) return;
          const url = "/api/" + (entry.kind === "region" ? "regions" : "questions") + "/" + entry.item.id + "/review";
          const { status: code, body } = await post(url, { status, version: entry.item.version, reviewer: name });
          if (code === 409) return reload("Conflict: " + body.error + ". Reloaded.");
          if (code !== 200) return toast("Refused: " + (body.error || code), true);
          const params = new URLSearchParams((location.hash.split("?")[1]) || "");
          if (status !== "draft") state.focus = Math.min(state.focus + 1, state.items.length - 1);
          await showImage(state.detail.id, params);
          toast((entry.kind === "region" ? "Region #" : "Question Q") + entry.item.id + " " + status);
        }
        async function decideFlag(decision) {
          if (READ_ONLY) { toast("Read-only: nothing can be changed.", true); return; }
          const name = reviewer();
          if (!name) return;
          const { status: code, body } = await post("/api/images/" + state.detail.id + "/flag", { decision, version: state.detail.flag.version, reviewer: name });
          if (code === 409) return reload("Conflict: " + body.error + ". Reloaded.");
          if (code !== 200) return toast("Refused: " + (body.error || code), true);
          const params = new URLSearchParams((location.hash.split("?")[1]) || "");
          await showImage(state.detail.id, params);
          toast(decision === "clear" ? "Flag cleared" : "Flag confirmed");
        }
        document.addEventListener("keydown", (event) => {
          if (event.target.matches("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
          if (event.key === "?") { $("#help").showModal(); return; }
          if (document.body.dataset.view !== "image" || !state.detail) return;
          const key = event.key;
          const handled = true;
          if (key === "j" || key === "ArrowDown") { state.focus = Math.min(state.focus + 1, state.items.length - 1); refreshFocus(); }
          else if (key === "k" || key === "ArrowUp") { state.focus = Math.max(state.focus - 1, 0); refreshFocus(); }
          else if (key === "a") review("reviewed");
          else if (key === "r") review("rejected");
          else if (key === "u") review("draft");
          else if (key === "n" || key === "ArrowRight") $("#next").click();
          else if (key === "p" || key === "ArrowLeft") $("#prev").click();
          else if (key === "c") { if (state.detail.flag.state) decideFlag("clear"); }
          else if (key === "f") decideFlag("confirm");
          else if (key === "+" || key === "=") zoomBy(1.25);
          else if (key === "-") zoomBy(1 / 1.25);
          else if (key === "0") setZoom(null);
          else if (key === "1") setZoom(1);
          else if (key === "w") {
            const select = $("#window");
            select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
            state.window = select.value; loadPixels();
          }
          else if (key === "Escape") { location.hash = "#/" + (location.hash.includes("?") ? "?" + location.hash.split("?")[1] : ""); }
          else return;
          if (handled) event.preventDefault();
        });
        async function start() {
          const input = $("#reviewer");
          input.value = localStorage.getItem("groundwork-reviewer") || "";
          input.addEventListener("input", () => { localStorage.setItem("groundwork-reviewer", input.value.trim()); input.classList.remove("missing"); });
          $("#help-button").addEventListener("click", () => $("#help").showModal());
          if (READ_ONLY) { $("#mode").textContent = "read-only"; $("#mode").classList.add("ro"); } else $("#mode").remove();
          try {
            [state.session, state.facets] = await Promise.all([getJSON("/api/session"), getJSON("/api/facets")]);
          } catch (error) {
            $("#main").replaceChildren(el("div", { class: "empty" }, "Could not reach the server: " + error.message));
            return;
          }
          $("#project").textContent = state.session.project;
          window.addEventListener("hashchange", route);
          route();
        }
        start();
        """#
}
