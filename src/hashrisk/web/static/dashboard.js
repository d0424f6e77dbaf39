// hashrisk dashboard: a price slider driving the cost curve, the share underwater and the stress fan.
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
  const timers = {};

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
      const curve = await getJSON("/api/cost-curve?price_usd=" + encodeURIComponent(price));
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
        body: JSON.stringify({ shock_pct: shock, shock_days: 30, horizon_days: 90, paths: 300 }),
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

  async function init() {
    try {
      snapshot = await getJSON("/api/snapshot");
      $("snapshot-line").textContent = "Snapshot " + snapshot.date + ": BTC " + usd(snapshot.price_usd) +
        ", " + (snapshot.hashrate_ths / 1e6).toFixed(0) + " EH/s, difficulty " +
        (snapshot.difficulty / 1e12).toFixed(2) + " T, height " + snapshot.height.toLocaleString("en-US");
      const slider = $("price-slider");
      slider.min = String(Math.round(snapshot.price_usd * 0.3 / 100) * 100);
      slider.max = String(Math.round(snapshot.price_usd * 1.5 / 100) * 100);
      slider.value = String(Math.round(snapshot.price_usd / 100) * 100);
      slider.disabled = false;
      slider.addEventListener("input", onSlide);
      onSlide();

      const cost = await getJSON("/api/cost");
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
      const adj = await getJSON("/api/next-adjustment");
      $("adjustment-line").textContent = "Height " + adj.retarget_height.toLocaleString("en-US") + ": " +
        signed(adj.change_pct.p50) + " (90% band " + signed(adj.change_pct.p05) + " to " +
        signed(adj.change_pct.p95) + "), in about " + adj.days_to_lock_in.p50.toFixed(1) +
        " days; basis: " + adj.basis + ".";
    } catch (err) {
      fail("loading", err);
    }
  }

  document.addEventListener("DOMContentLoaded", init);
})();
