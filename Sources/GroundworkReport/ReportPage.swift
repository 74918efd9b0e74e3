/// The page's HTML and style. Nothing in them reaches outside the report folder: no fonts, no
/// scripts, no images from elsewhere (the icon is an empty data: URL, so the browser asks for none).
enum ReportAssets {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Groundwork report</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="style.css">
        </head>
        <body>
        <header>
          <h1 id="title">Groundwork report</h1>
          <span id="subtitle"></span>
          <nav>
            <button type="button" data-tab="overview" class="active">Overview</button>
            <button type="button" data-tab="gallery">Questions</button>
          </nav>
        </header>
        <main>
          <section id="overview" aria-label="Overview"><p class="muted">Loading…</p></section>
          <section id="gallery" aria-label="Questions" hidden>
            <div id="toolbar">
              <div class="group">
                <label>Model <select id="left-model"></select></label>
                <label>beside <select id="right-model"></select></label>
              </div>
              <div class="group">
                <label>Modality <select id="filter-modality"></select></label>
                <label>Label <select id="filter-label"></select></label>
                <label>Split <select id="filter-split"></select></label>
                <label>Answer <select id="filter-answer">
                  <option value="">any</option><option value="right">right</option>
                  <option value="wrong">wrong</option><option value="none">not answered</option>
                </select></label>
              </div>
              <div class="group">
                <label>Sort by <select id="sort-metric"></select></label>
                <select id="sort-order" aria-label="Sort order">
                  <option value="worst">worst first</option><option value="best">best first</option>
                </select>
              </div>
              <div class="group">
                <label>Layer <input type="range" id="layer" min="0" max="0" value="0"> <output id="layer-value"></output></label>
                <label id="head-label" hidden>Head <select id="head"></select></label>
                <label>Opacity <input type="range" id="opacity" min="0" max="100" value="60"></label>
                <label>Colours <select id="colormap"><option value="turbo">turbo</option><option value="viridis">viridis</option></select></label>
                <label title="Low values more transparent"><input type="checkbox" id="fade" checked> fade low</label>
                <label><input type="checkbox" id="show-regions" checked> regions</label>
                <span class="legend"><span>min</span><canvas id="legend" width="256" height="1"></canvas><span>max</span></span>
              </div>
            </div>
            <p id="gallery-count" class="muted"></p>
            <div id="cards"></div>
            <div id="sentinel"></div>
          </section>
        </main>
        <script src="app.js"></script>
        <script src="data/report.js"></script>
        </body>
        </html>

        """#

    static let style = #"""
        :root { --fg: #1d2430; --muted: #5b6576; --line: #d8dde6; --bg: #f6f7f9; --card: #fff; --accent: #2456c8;
          --right: #1a7f37; --wrong: #c0262d; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: var(--bg); font-size: 14px; }
        header { display: flex; align-items: baseline; gap: 16px; padding: 10px 20px; background: #fff;
          border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; }
        header h1 { font-size: 18px; margin: 0; }
        #subtitle { color: var(--muted); }
        nav { margin-left: auto; display: flex; gap: 4px; }
        nav button { border: 1px solid var(--line); background: #fff; padding: 5px 14px; border-radius: 4px; cursor: pointer; font: inherit; }
        nav button.active { background: var(--accent); color: #fff; border-color: var(--accent); }
        main { padding: 16px 20px 40px; }
        h2 { font-size: 16px; margin: 26px 0 8px; }
        h3 { font-size: 14px; margin: 0 0 6px; }
        .muted { color: var(--muted); }
        table { border-collapse: collapse; background: #fff; margin: 6px 0 12px; }
        th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: right; white-space: nowrap; }
        th { background: #eef1f5; font-weight: 600; }
        td:first-child, th:first-child { text-align: left; }
        th.sortable { cursor: pointer; user-select: none; }
        th.sortable::after { content: " \2195"; color: #9aa3b2; }
        th.sorted-asc::after { content: " \2191"; color: var(--fg); }
        th.sorted-desc::after { content: " \2193"; color: var(--fg); }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 12px; }
        .chart { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
        .chart svg { width: 100%; height: auto; display: block; }
        .chart .axis { stroke: #9aa3b2; stroke-width: 1; }
        .chart .grid { stroke: #eceff3; stroke-width: 1; }
        .chart text { font-size: 10px; fill: var(--muted); }
        .models { display: flex; flex-wrap: wrap; gap: 10px; margin: 4px 0; }
        .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
        .controls { margin: 6px 0; }
        #toolbar { display: flex; flex-wrap: wrap; gap: 8px 20px; background: #fff; border: 1px solid var(--line);
          border-radius: 6px; padding: 8px 12px; position: sticky; top: 47px; z-index: 4; }
        #toolbar .group { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; }
        #toolbar select, #toolbar input { font: inherit; }
        .legend { display: inline-flex; align-items: center; gap: 4px; color: var(--muted); }
        #legend { width: 120px; height: 12px; border: 1px solid var(--line); image-rendering: pixelated; }
        #cards { display: flex; flex-direction: column; gap: 12px; margin-top: 8px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
        .card .meta { color: var(--muted); font-size: 12px; }
        .card .q { margin: 4px 0 8px; font-weight: 600; }
        .panels { display: flex; flex-wrap: wrap; gap: 16px; }
        .panel { flex: 1 1 300px; max-width: 440px; }
        .panel .name { font-weight: 600; margin-bottom: 4px; }
        .view { position: relative; width: 100%; overflow: hidden; background: #000; }
        .view img, .view svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
        .view img { object-fit: fill; }
        .view canvas { position: absolute; image-rendering: pixelated; }
        .view .noimage { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #ccc; font-size: 12px; }
        .view svg .region { fill: none; stroke: #ffffff; stroke-width: 2.5; vector-effect: non-scaling-stroke; }
        .view svg .region-inner { fill: none; stroke: #e0119d; stroke-width: 1.2; vector-effect: non-scaling-stroke; }
        .view.hide-regions svg { display: none; }
        .answer.right { color: var(--right); font-weight: 600; }
        .answer.wrong { color: var(--wrong); font-weight: 600; }
        .values { font-size: 12px; margin: 6px 0 0; }
        .values td, .values th { padding: 1px 6px; }
        .note { color: var(--wrong); font-size: 12px; }

        """#
}
