// hashrisk dashboard: an as-of date picker and a window selector that every panel follows, a price slider
// driving the cost curve, the share underwater and the stress fan, the history charts and "What changed", and
// the pools and coinbase flows scanned from the user's own node (/api/onchain, from the window's first day), and
// who is forced to sell under the -10/-20/-30% shocks (POST /api/stress, from the as-of day).
// Every number comes from the JSON API of the same server; plotly.js is served locally (/static/plotly.min.js).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const usd = (x) => (x === null || x === undefined ? "n/a" : "$" + Math.round(x).toLocaleString("en-US"));
  const pct = (x, d = 1) => (x === null || x === undefined ? "n/a" : (100 * x).toFixed(d) + "%");
  const signed = (x) => (x === null || x === undefined ? "n/a" : (x >= 0 ? "+" : "") + x.toFixed(2) + "%");
  const RED = "#d62728";
  const BLUE = "#1f77b4";
  const PLOT_CONFIG = { displaylogo: false, responsive: true };
  const BASE_LAYOUT = {
    paper_bgcolor: "#fff",
    plot_bgcolor: "#fff",
    margin: { l: 70, r: 20, t: 50, b: 50 },
    height: 380,
    font: { family: "Helvetica, Arial, sans-serif", size: 12 },
    legend: { orientation: "h", y: -0.2 },
  };

  let snapshot = null;
  let curveSeq = 0;
  let simSeq = 0;
  let loadSeq = 0;
  let historySeq = 0;
  let onchainSeq = 0;
  let stressSeq = 0;
  let coverage = { stored: false };
  let asOf = null; // null: the embedded snapshot (nothing stored)
  const timers = {};
  const MAX_EVENTS = 50;

  // the as-of day as a query parameter of the panels that take ?date=
  const dated = (url) => (asOf ? url + (url.includes("?") ? "&" : "?") + "date=" + asOf : url);

  function shiftDay(day, days, years) {
    const d = new Date(day + "T00:00:00Z");
    if (years) d.setUTCFullYear(d.getUTCFullYear() - years);
    if (days) d.setUTCDate(d.getUTCDate() - days);
    return d.toISOString().slice(0, 10);
  }

  function windowStart(until) {
    const w = $("window").value;
    const start = { "30d": shiftDay(until, 30, 0), "90d": shiftDay(until, 90, 0), "1y": shiftDay(until, 0, 1),
      "2y": shiftDay(until, 0, 2), "all": coverage.first_day }[w];
    return start < coverage.first_day ? coverage.first_day : start;
  }

  async function getJSON(url, options) {
    const response = await fetch(url, options);
    const body = await response.json();
    if (!response.ok) {
      throw new Error(body.message || response.statusText);
    }
    return body;
  }

  function debounce(key, ms, fn) {
    clearTimeout(timers[key]);
    timers[key] = setTimeout(fn, ms);
  }

  function fail(what, err) {
    $("status").textContent = what + ": " + err.message;
    console.error("hashrisk dashboard: " + what + ": " + err.message);
  }

  function drawCurve(curve) {
    const x = [];
    const y = [];
    const xu = [];
    const yu = [];
    let left = 0;
    for (const p of curve.points) {
      const right = left + p.hashrate_ths / 1e6;
      x.push(left, right);
      y.push(p.breakeven_price_usd, p.breakeven_price_usd);
      if (p.breakeven_price_usd > curve.price_usd) {
        xu.push(left, right, null);
        yu.push(p.breakeven_price_usd, p.breakeven_price_usd, null);
      }
      left = right;
    }
    const traces = [
      {
        x: x, y: y, mode: "lines", line: { color: BLUE, width: 2 }, fill: "tozeroy",
        fillcolor: "rgba(31,119,180,0.12)", name: "breakeven (electricity)",
        hovertemplate: "%{x:,.0f} EH/s: $%{y:,.0f}<extra></extra>",
      },
      {
        x: xu, y: yu, mode: "lines", line: { color: RED, width: 3 }, name: "underwater at this price",
        hoverinfo: "skip",
      },
    ];
    const layout = Object.assign({}, BASE_LAYOUT, {
      title: { text: "Cost curve at BTC " + usd(curve.price_usd) },
      xaxis: { title: { text: "cumulative hashrate, cheapest first [EH/s]" } },
      yaxis: { title: { text: "breakeven BTC price [USD]" }, tickformat: "$,.0f" },
      shapes: [{
        type: "line", xref: "paper", x0: 0, x1: 1, y0: curve.price_usd, y1: curve.price_usd,
        line: { color: RED, width: 2, dash: "dash" },
      }],
    });
    Plotly.react("curve-chart", traces, layout, PLOT_CONFIG);
  }

  function drawFan(sim, price) {
    const d = sim.dates;
    const f = sim.fans.hashrate_ths;
    const eh = (a) => a.map((v) => v / 1e6);
    const band = (lo, hi, alpha, name) => ({
      x: d.concat(d.slice().reverse()),
      y: eh(hi).concat(eh(lo).reverse()),
      fill: "toself", fillcolor: "rgba(255,127,14," + alpha + ")", line: { width: 0 },
      hoverinfo: "skip", name: name,
    });
    const traces = [
      band(f.p05, f.p95, 0.15, "p05-p95"),
      band(f.p25, f.p75, 0.3, "p25-p75"),
      {
        x: d, y: eh(f.p50), mode: "lines", line: { color: "#ff7f0e", width: 2 }, name: "median hashrate",
        hovertemplate: "%{x}: %{y:,.0f} EH/s<extra></extra>",
      },
      {
        x: d, y: sim.fans.difficulty.p50.map((v) => v / 1e12), mode: "lines", yaxis: "y2",
        line: { color: "#555", width: 1, dash: "dot" }, name: "median difficulty [T]",
        hovertemplate: "%{x}: %{y:,.1f} T<extra></extra>",
      },
    ];
    const layout = Object.assign({}, BASE_LAYOUT, {
      margin: { l: 70, r: 70, t: 50, b: 50 },
      title: { text: "Stress: price to " + usd(price) + " over 30 days (" + sim.paths + " paths)" },
      yaxis: { title: { text: "online hashrate [EH/s]" } },
      yaxis2: {
        title: { text: "difficulty [T]" }, overlaying: "y", side: "right", showgrid: false, tickformat: ".0f",
      },
    });
    Plotly.react("fan-chart", traces, layout, PLOT_CONFIG);
  }

  async function updateCurve(price) {
    const seq = ++curveSeq;
    try {
      const curve = await getJSON(dated("/api/cost-curve?price_usd=" + encodeURIComponent(price)));
      if (seq !== curveSeq) return; // a newer request is on its way
      $("share-underwater").textContent = pct(curve.share_unprofitable);
      $("share-within").textContent = pct(curve.share_within_10pct);
      $("hashprice").textContent = "$" + curve.hashprice_usd_per_ph_day.toFixed(2) + "/PH/day";
      $("marginal-cost").textContent = usd(curve.marginal_cost_usd);
      drawCurve(curve);
      document.body.dataset.curvePrice = String(price);
    } catch (err) {
      fail("cost curve", err);
    }
  }

  async function updateSim(price) {
    const seq = ++simSeq;
    const shock = Math.max(-90, Math.min(100, (price / snapshot.price_usd - 1) * 100));
    $("first-retarget").textContent = "…";
    try {
      const sim = await getJSON("/api/simulate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ shock_pct: shock, shock_days: 30, horizon_days: 90, paths: 300, date: asOf }),
      });
      if (seq !== simSeq) return;
      const s = sim.summary;
      const rt = s.next_retargets.length ? s.next_retargets[0] : null;
      $("first-retarget").textContent = rt ? signed(rt.change_pct_p50) : "n/a";
      $("offline").textContent = pct(s.hashrate_offline_vs_start_at_shock_end.p50);
      drawFan(sim, price);
      document.body.dataset.simPrice = String(price);
      $("status").textContent = "";
    } catch (err) {
      fail("simulation", err);
    }
  }

  function onSlide() {
    const price = Number($("price-slider").value);
    $("price-value").textContent = usd(price);
    $("price-move").textContent = "(" + signed((price / snapshot.price_usd - 1) * 100) + " vs " +
      snapshot.date + ")";
    debounce("curve", 120, () => updateCurve(price));
    debounce("sim", 400, () => updateSim(price));
  }

  async function loadPanels() {
    const seq = ++loadSeq;
    try {
      snapshot = await getJSON(dated("/api/snapshot"));
      if (seq !== loadSeq) return;
      $("snapshot-line").textContent = "Snapshot " + snapshot.date + ": BTC " + usd(snapshot.price_usd) +
        ", " + (snapshot.hashrate_ths / 1e6).toFixed(0) + " EH/s, difficulty " +
        (snapshot.difficulty / 1e12).toFixed(2) + " T, height " + snapshot.height.toLocaleString("en-US");
      document.body.dataset.snapshotDate = snapshot.date;
      const slider = $("price-slider");
      slider.min = String(Math.round(snapshot.price_usd * 0.3 / 100) * 100);
      slider.max = String(Math.round(snapshot.price_usd * 1.5 / 100) * 100);
      slider.value = String(Math.round(snapshot.price_usd / 100) * 100);
      slider.disabled = false;
      onSlide();

      const cost = await getJSON(dated("/api/cost"));
      if (seq !== loadSeq) return;
      $("power-price").textContent = String(cost.power_price_usd_per_kwh);
      const rows = [
        ["electricity-only, fleet", cost.electricity_fleet_usd_per_btc],
        ["electricity-only, CBECI-style lower / best guess / upper", null,
          usd(cost.electricity_basket_usd_per_btc.lower) + " / " + usd(cost.electricity_basket_usd_per_btc.best_guess) +
          " / " + usd(cost.electricity_basket_usd_per_btc.upper)],
        ["all-in (electricity + other opex + depreciation)", cost.all_in_usd_per_btc.total],
        ["cost curve median breakeven", cost.breakeven_p50_usd],
      ];
      const body = $("cost-table").querySelector("tbody");
      body.replaceChildren();
      for (const [label, value, text] of rows) {
        const tr = document.createElement("tr");
        const a = document.createElement("td");
        a.textContent = label;
        const b = document.createElement("td");
        b.className = "num";
        b.textContent = text !== undefined ? text : usd(value);
        tr.append(a, b);
        body.append(tr);
      }
      const adj = await getJSON(dated("/api/next-adjustment"));
      if (seq !== loadSeq) return;
      $("adjustment-line").textContent = "Height " + adj.retarget_height.toLocaleString("en-US") + ": " +
        signed(adj.change_pct.p50) + " (90% band " + signed(adj.change_pct.p05) + " to " +
        signed(adj.change_pct.p95) + "), in about " + adj.days_to_lock_in.p50.toFixed(1) +
        " days; basis: " + adj.basis + ".";
      document.body.dataset.panelsDate = asOf || "embedded";
    } catch (err) {
      fail("loading", err);
    }
  }

  const eh = (a) => a.map((v) => (v === null ? null : v / 1e6));
  const last = (a) => { for (let i = a.length - 1; i >= 0; i--) if (a[i] !== null) return a[i]; return null; };

  function drawHistory(h) {
    const d = h.dates;
    const s = h.series;
    const line = (y, name, color, extra) => Object.assign(
      { x: d, y: y, mode: "lines", name: name, line: { color: color, width: 1.6 } }, extra || {});
    Plotly.react("hist-price-chart", [
      line(s.cost_electricity_upper_usd_per_btc, "electricity-only, upper", "rgba(31,119,180,0.3)",
        { line: { width: 0 }, showlegend: false }),
      line(s.cost_electricity_lower_usd_per_btc, "electricity-only, lower .. upper", "rgba(31,119,180,0.3)",
        { fill: "tonexty", fillcolor: "rgba(31,119,180,0.18)", line: { width: 0 } }),
      line(s.cost_all_in_usd_per_btc, "all-in, dated fleet", "#7f7f7f"),
      line(s.price_usd, "BTC price", RED, { line: { color: RED, width: 2 } }),
    ], Object.assign({}, BASE_LAYOUT, {
      title: { text: "Price against the cost band" },
      yaxis: { title: { text: "USD per BTC" }, tickformat: "$,.0f", type: "log" },
    }), PLOT_CONFIG);
    Plotly.react("hist-hashrate-chart", [
      line(eh(s.hashrate_7d_ths), "hashrate, 7-day mean [EH/s]", "#ff7f0e"),
      line(s.difficulty.map((v) => (v === null ? null : v / 1e12)), "difficulty [T]", "#444",
        { yaxis: "y2", line: { color: "#444", width: 1.2, shape: "hv" } }),
      {
        x: h.retargets.map((r) => r.day), y: h.retargets.map((r) => r.difficulty / 1e12), yaxis: "y2",
        mode: "markers", name: "retargets", marker: { symbol: "diamond", size: 6,
          color: h.retargets.map((r) => (r.change !== null && r.change < 0 ? RED : "#2ca02c")) },
        text: h.retargets.map((r) => (r.change === null ? "" : signed(100 * r.change))),
        hovertemplate: "%{x}: %{text}<extra>retarget</extra>",
      },
    ], Object.assign({}, BASE_LAYOUT, {
      margin: { l: 70, r: 70, t: 50, b: 50 },
      title: { text: "Hashrate and difficulty (" + h.retargets.length + " retargets)" },
      yaxis: { title: { text: "EH/s" } },
      yaxis2: { title: { text: "difficulty [T]" }, overlaying: "y", side: "right", showgrid: false },
    }), PLOT_CONFIG);
    Plotly.react("hist-share-chart", [
      line(s.share_underwater, "underwater", RED, { fill: "tozeroy" }),
      line(s.share_within_10pct, "within 10% of breakeven", "#ff7f0e"),
    ], Object.assign({}, BASE_LAYOUT, {
      title: { text: "Share of hashrate underwater" },
      yaxis: { title: { text: "share of hashrate" }, tickformat: ".0%", rangemode: "tozero" },
    }), PLOT_CONFIG);
    const shapes = h.capitulations.map((c) => ({
      type: "rect", xref: "x", yref: "paper", x0: c.start, x1: c.end || h.until, y0: 0, y1: 1,
      fillcolor: "rgba(214,39,40,0.15)", line: { width: 0 }, layer: "below",
    }));
    Plotly.react("hist-ribbon-chart", [
      line(eh(s.ribbon_fast_ths), "fast MA [EH/s]", BLUE),
      line(eh(s.ribbon_slow_ths), "slow MA [EH/s]", "#9467bd"),
      line(s.puell_multiple, "Puell multiple", "#2ca02c", { yaxis: "y2", line: { color: "#2ca02c", width: 1 } }),
    ], Object.assign({}, BASE_LAYOUT, {
      margin: { l: 70, r: 70, t: 50, b: 50 },
      title: { text: "Hash ribbons (" + h.capitulations.length + " capitulations shaded) and Puell" },
      yaxis: { title: { text: "EH/s" } },
      yaxis2: { title: { text: "Puell multiple" }, overlaying: "y", side: "right", showgrid: false },
      shapes: shapes,
    }), PLOT_CONFIG);
  }

  function showFigure(id, value, text) {
    $(id).textContent = text;
    $(id).dataset.value = value === null ? "" : String(value);
  }

  async function loadHistory() {
    if (!coverage.stored) return;
    const seq = ++historySeq;
    const until = asOf;
    const since = windowStart(until);
    const span = since + " to " + until;
    try {
      const h = await getJSON("/api/history?since=" + since + "&until=" + until);
      if (seq !== historySeq) return;
      $("history-window").textContent = "(" + span + ", " + h.days + " days" +
        (h.thinned ? ", " + h.points + " drawn" : "") + ")";
      showFigure("hist-price", last(h.series.price_usd), usd(last(h.series.price_usd)));
      showFigure("hist-all-in", last(h.series.cost_all_in_usd_per_btc), usd(last(h.series.cost_all_in_usd_per_btc)));
      showFigure("hist-underwater", last(h.series.share_underwater), pct(last(h.series.share_underwater)));
      drawHistory(h);
      document.body.dataset.history = since + "|" + until;
      const ch = await getJSON("/api/changes?since=" + since + "&until=" + until);
      if (seq !== historySeq) return;
      $("changes-window").textContent = "(" + span + ": " + ch.count + " events" +
        (ch.count > MAX_EVENTS ? ", newest " + MAX_EVENTS + " shown" : "") + ")";
      const list = $("changes-list");
      list.replaceChildren();
      for (const e of ch.events.slice().reverse().slice(0, MAX_EVENTS)) {
        const li = document.createElement("li");
        li.dataset.day = e.day;
        li.dataset.kind = e.kind;
        li.textContent = e.day + ": " + e.message;
        const rule = document.createElement("span");
        rule.className = "rule";
        rule.textContent = "rule " + e.rule;
        li.append(rule);
        list.append(li);
      }
      if (!ch.count) {
        const li = document.createElement("li");
        li.textContent = "No event between " + span + ".";
        list.append(li);
      }
      document.body.dataset.changes = since + "|" + until + "|" + ch.count;
    } catch (err) {
      fail("history", err);
    }
  }

  // -- pools and coinbase flows from the user's own node (GET /api/onchain) ---------------------------------
  const btc = (x) => (x === null || x === undefined ? "n/a"
    : x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));

  function onchainMessage(text, code) {
    const m = $("onchain-message");
    m.replaceChildren(text);
    if (code) {
      const c = document.createElement("code");
      c.textContent = code;
      m.append(c);
    }
    m.hidden = false;
    $("onchain-body").hidden = true;
  }

  function cell(tr, text, num) {
    const td = document.createElement("td");
    if (num) td.className = "num";
    td.textContent = text;
    tr.append(td);
    return td;
  }

  function drawOnchain(o) {
    const dist = o.distribution.slice().reverse(); // largest share on top
    Plotly.react("onchain-share-chart", [{
      type: "bar", orientation: "h", y: dist.map((d) => d.pool), x: dist.map((d) => d.share),
      marker: { color: BLUE }, name: "share of blocks",
      error_x: {
        type: "data", symmetric: false, color: "#444",
        array: dist.map((d) => d.share_high - d.share), arrayminus: dist.map((d) => d.share - d.share_low),
      },
      customdata: dist.map((d) => [d.blocks, d.share_low, d.share_high]),
      hovertemplate: "%{y}: %{x:.1%} of blocks (95%: %{customdata[1]:.1%} to %{customdata[2]:.1%}), " +
        "%{customdata[0]} blocks<extra></extra>",
    }], Object.assign({}, BASE_LAYOUT, {
      margin: { l: 130, r: 20, t: 50, b: 50 },
      title: { text: "Share of blocks by pool (" + o.blocks.toLocaleString("en-US") + " blocks, 95% intervals)" },
      xaxis: { title: { text: "share of blocks ≈ share of hashrate" }, tickformat: ".0%", rangemode: "tozero" },
      yaxis: { automargin: true },
      showlegend: false,
    }), PLOT_CONFIG);
    const m = o.moved_vs_mined;
    const days = m.map((r) => r.date);
    const bars = (key, name, color) => ({
      type: "bar", x: days, y: m.map((r) => r[key]), name: name, marker: { color: color },
      hovertemplate: "%{x}: %{y:,.2f} BTC<extra>" + name + "</extra>",
    });
    Plotly.react("onchain-flows-chart", [
      bars("mined_btc", "mined (coinbase)", "#7f7f7f"),
      bars("moved_out_btc", "moved out (first hop)", RED),
      bars("consolidated_btc", "consolidated (to the pool)", "#2ca02c"),
    ], Object.assign({}, BASE_LAYOUT, {
      barmode: "group",
      title: { text: "Coinbase BTC mined vs moved out, per day" + (o.pool ? " (" + o.pool + ")" : "") },
      xaxis: { type: "category" },
      yaxis: { title: { text: "BTC" }, rangemode: "tozero" },
    }), PLOT_CONFIG);
  }

  function fillOnchainTables(o) {
    const pools = $("onchain-pools").querySelector("tbody");
    pools.replaceChildren();
    for (const d of o.distribution) {
      const tr = document.createElement("tr");
      tr.dataset.pool = d.pool;
      tr.dataset.blocks = String(d.blocks);
      tr.dataset.share = String(d.share);
      tr.dataset.shareLow = String(d.share_low);
      tr.dataset.shareHigh = String(d.share_high);
      cell(tr, d.pool);
      cell(tr, d.blocks.toLocaleString("en-US"), true);
      cell(tr, pct(d.share) + " (" + pct(d.share_low) + " to " + pct(d.share_high) + ")", true).className +=
        " share";
      pools.append(tr);
    }
    const sales = $("onchain-sales").querySelector("tbody");
    sales.replaceChildren();
    for (const q of o.beside_disclosed_sales) {
      const tr = document.createElement("tr");
      tr.dataset.quarter = q.quarter;
      cell(tr, q.quarter);
      cell(tr, String(q.days_scanned), true);
      cell(tr, btc(q.mined_btc), true);
      cell(tr, btc(q.moved_out_btc), true);
      cell(tr, btc(q.disclosed_sold_btc), true);
      cell(tr, btc(q.disclosed_produced_btc), true);
      sales.append(tr);
    }
    if (!o.beside_disclosed_sales.length) {
      const tr = document.createElement("tr");
      cell(tr, "no quarter in this window").colSpan = 6;
      sales.append(tr);
    }
  }

  function fillPoolOptions(o) {
    const select = $("onchain-pool");
    const keep = select.value;
    select.replaceChildren(new Option("all pools", ""));
    for (const d of o.distribution) select.append(new Option(d.pool + " (" + pct(d.share) + ")", d.pool));
    select.value = keep;
  }

  async function loadOnchain() {
    const seq = ++onchainSeq;
    const since = coverage.stored && asOf ? windowStart(asOf) : null;
    const pool = $("onchain-pool").value;
    const query = [];
    if (since) query.push("since=" + since);
    if (pool) query.push("pool=" + encodeURIComponent(pool));
    const tag = (since || "") + "|" + pool;
    let o;
    try {
      const response = await fetch("/api/onchain" + (query.length ? "?" + query.join("&") : ""));
      o = await response.json();
      if (seq !== onchainSeq) return;
      if (!response.ok) {
        if (o.field === "pool" && pool) { // that pool has no block in this window: show every pool
          $("onchain-pool").value = "";
          await loadOnchain();
          return;
        }
        onchainMessage("No scanned block in this window (" + (o.message || response.statusText) + ").");
        $("onchain-window").textContent = since ? "(since " + since + ")" : "";
        document.body.dataset.onchain = tag + "|error";
        return;
      }
    } catch (err) {
      if (seq === onchainSeq) fail("on-chain flows", err);
      return;
    }
    if (!o.stored) {
      onchainMessage("Scan your node: ", "hashrisk data fetch --source bitcoind --coinbase");
      $("onchain-window").textContent = "(nothing scanned)";
      document.body.dataset.onchain = tag + "|none";
      return;
    }
    $("onchain-message").hidden = true;
    $("onchain-body").hidden = false;
    $("onchain-window").textContent = "(" + (since ? "since " + since : "everything scanned") + ": " +
      o.blocks.toLocaleString("en-US") + " blocks, " + o.first_time.slice(0, 10) + " to " +
      o.last_time.slice(0, 10) + (o.pool ? ", " + o.pool : "") + ")";
    if (!pool) fillPoolOptions(o);
    fillOnchainTables(o);
    drawOnchain(o);
    $("onchain-note").textContent = o.note;
    document.body.dataset.onchain = tag + "|" + o.blocks;
  }

  // -- who is forced to sell under the canned shocks (POST /api/stress) ---------------------------------------
  const RUNWAY_CAP = 120; // hashrisk.sim.result.RUNWAY_CAP_MONTHS
  const months = (x) => (x === null || x === undefined ? "n/a" : x >= RUNWAY_CAP ? ">= " + RUNWAY_CAP + " (cap)"
    : x.toFixed(1));
  const whole = (x) => (x === null || x === undefined ? "n/a" : Math.round(x).toLocaleString("en-US"));
  const shockLabel = (s) => (s.shock_pct > 0 ? "+" : "") + s.shock_pct.toFixed(0) + "%";

  function fillStress(body) {
    const owners = $("stress-owners").querySelector("tbody");
    const loop = $("stress-loop").querySelector("tbody");
    owners.replaceChildren();
    loop.replaceChildren();
    for (const s of body.shocks) {
      for (const o of s.owners) {
        const tr = document.createElement("tr");
        tr.dataset.owner = o.owner;
        cell(tr, shockLabel(s));
        const name = cell(tr, o.owner);
        // provenance of the balance sheet: each value's document or "assumption: ..."
        name.title = Object.entries(o.sources).map(([k, v]) => k + ": " + v).join("\n");
        const share = o.treasury_drawn_share_of_start_btc.mean;
        cell(tr, whole(o.sold_btc.mean), true);
        cell(tr, whole(o.sold_production_btc.mean), true);
        cell(tr, whole(o.treasury_drawn_btc.mean) + (share === null ? "" : " (" + pct(share) + ")"), true);
        cell(tr, usd(o.capital_raised_usd.mean) + " (" + usd(o.raise_cost_usd.mean) + ")", true);
        cell(tr, months(o.runway_months.p50), true);
        owners.append(tr);
      }
      const a = s.amplification;
      const tr = document.createElement("tr");
      cell(tr, shockLabel(s));
      cell(tr, whole(s.ai_hpc_forced.treasury_drawn_btc.mean), true);
      cell(tr, pct(a.max_drawdown_on_p50), true);
      cell(tr, pct(a.max_drawdown_off_p50), true);
      cell(tr, a.max_drawdown_ratio_p50 === null ? "n/a" : a.max_drawdown_ratio_p50.toFixed(3), true);
      loop.append(tr);
    }
    const first = body.shocks[0];
    const nf = first.net_flows;
    $("stress-note").textContent = "Means over " + body.paths.toLocaleString("en-US") + " paths x " +
      body.horizon_days + " days from " + body.date + " (production sold + treasury drawn = BTC sold; the shock " +
      "unfolds over " + body.shock_days + " days). Owners: the listed miners of the day, balance sheets from " +
      "the cited datasets (hover an owner for each value's document or 'assumption'), and the rest of the " +
      "network (assumptions). Treasury buying netted in the feedback: " + usd(nf.treasury_buying_usd_per_day) +
      "/day, " + nf.basis + ". AI/HPC: " + first.ai_hpc_forced.note + " Amplification: " +
      first.amplification.definition + ".";
  }

  // one stress request at a time from this page (the server runs one at a time): a new as-of day waits for the
  // run in flight, and only the newest day's answer is shown
  let stressChain = Promise.resolve();
  function loadStress() {
    const seq = ++stressSeq;
    stressChain = stressChain.then(() => (seq === stressSeq ? fetchStress(seq) : undefined));
    return stressChain;
  }

  async function fetchStress(seq) {
    $("stress-message").hidden = false;
    $("stress-message").textContent = "running the shocks…";
    try {
      const body = await getJSON("/api/stress", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ paths: 300, horizon_days: 90, date: asOf }),
      });
      if (seq !== stressSeq) return;
      fillStress(body);
      $("stress-window").textContent = "(from " + body.date + ", BTC " + usd(body.price_usd) + ")";
      $("stress-message").hidden = true;
      document.body.dataset.stress = body.date + "|" + body.paths;
    } catch (err) {
      if (seq !== stressSeq) return;
      $("stress-message").textContent = "stress: " + err.message;
      console.error("hashrisk dashboard: stress: " + err.message);
    }
  }

  function onDate() {
    const v = $("asof-date").value;
    if (!v || v < coverage.first_day || v > coverage.last_day) return;
    asOf = v;
    loadPanels();
    loadHistory();
    loadOnchain();
    loadStress();
  }

  async function init() {
    $("price-slider").addEventListener("input", onSlide);
    try {
      coverage = await getJSON("/api/history/coverage");
    } catch (err) {
      fail("coverage", err);
    }
    if (coverage.stored) {
      const picker = $("asof-date");
      picker.min = coverage.first_day;
      picker.max = coverage.last_day;
      picker.value = coverage.last_day;
      picker.disabled = false;
      $("window").disabled = false;
      picker.addEventListener("change", onDate);
      $("window").addEventListener("change", loadHistory);
      $("window").addEventListener("change", loadOnchain);
      asOf = coverage.last_day;
      $("coverage-line").textContent = "stored history " + coverage.first_day + " to " + coverage.last_day +
        " (" + coverage.days.toLocaleString("en-US") + " days)";
    } else {
      $("coverage-line").textContent = "no stored history: the embedded snapshot (import data with " +
        "`hashrisk data import FILE` or `hashrisk update` for the history panels)";
      $("history-window").textContent = "(needs stored history)";
    }
    $("onchain-pool").addEventListener("change", loadOnchain);
    const onchain = loadOnchain(); // independent of the other panels
    await loadPanels();
    const stress = loadStress();
    await loadHistory();
    await onchain;
    await stress;
  }

  document.addEventListener("DOMContentLoaded", init);
})();
