// The dashboard updates itself: its figures are fetched again every few seconds and the
// tables and charts redrawn from them. Without JavaScript the page still shows the figures
// of the moment it was served.
(function () {
  "use strict";
  const REFRESH_MS = 3000;
  const TREND = [["opened", "opened"], ["diagnostic_completed", "diagnosed"],
                 ["enrolment_confirmed", "enrolled"], ["outcome_recorded", "with an outcome"]];
  const COLOURS = ["#1f4e79", "#2e7d32", "#ef6c00", "#6a1b9a"];

  const percent = (share) => (share === null || share === undefined) ? ""
    : Math.round(share * 100) + "%";
  const words = (text) => String(text).replace(/_/g, " ");

  function cell(text, number) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : text;
    if (number) td.className = "number";
    return td;
  }

  function fillRows(tbody, rows) {
    tbody.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement("tr");
      cells.forEach((c) => tr.appendChild(c));
      return tr;
    }));
  }

  function drawFunnel(data) {
    const tbody = document.querySelector("#funnel tbody");
    fillRows(tbody, data.funnel.map((stage) => {
      const cases = cell(stage.cases, true);
      cases.classList.add("cases");
      return [cell(words(stage.stage)), cases, cell(percent(stage.share_of_opened), true),
              cell(percent(stage.conversion_from_previous), true),
              cell(stage.median_days ? stage.median_days.days : "", true)];
    }));
    tbody.querySelectorAll("tr").forEach((tr, i) => tr.dataset.stage = data.funnel[i].stage);
  }

  function drawObjectives(data) {
    const tbody = document.querySelector("#objectives tbody");
    if (!data.objectives.length) return;
    fillRows(tbody, data.objectives.map((line) => {
      const met = cell(line.on_track ? "yes" : "not at this pace");
      met.className = line.on_track ? "on-track" : "late";
      return [cell(line.partner), cell(line.measure), cell(line.target, true),
              cell(line.actual, true), cell(line.forecast, true), met];
    }));
  }

  function drawResponsiveness(data) {
    const lines = [Object.assign({}, data.responsiveness.network, {value: "the network"})]
      .concat(data.responsiveness.by);
    fillRows(document.querySelector("#responsiveness tbody"), lines.map((line) => [
      cell(line.value), cell(line.current.referred, true),
      cell(percent(line.current.within_3_working_days), true),
      cell(percent(line.current.within_5_working_days), true),
      cell(percent(line.previous_quarter.within_5_working_days), true)]));
  }

  function drawAttention(data) {
    const box = document.getElementById("attention");
    if (!data.attention.length) {
      const none = document.createElement("p");
      none.textContent = "None.";
      box.replaceChildren(none);
      return;
    }
    box.replaceChildren(...data.attention.map((flag) => {
      const p = document.createElement("p");
      p.className = "flag";
      const who = document.createElement("strong");
      who.textContent = flag.partner;
      const figures = Object.entries(flag.figures).map(([k, v]) => words(k) + " " + v);
      p.append(who, ": " + words(flag.flag) + " (" + flag.value + " against a threshold of "
               + flag.threshold + "; " + figures.join(", ") + ")");
      return p;
    }));
  }

  let funnelChart = null;
  let trendChart = null;

  function drawCharts(data) {
    if (typeof Chart === "undefined") return;  // the chart library did not load: tables only
    const labels = data.funnel.map((stage) => words(stage.stage));
    const counts = data.funnel.map((stage) => stage.cases);
    if (!funnelChart) {
      funnelChart = new Chart(document.getElementById("funnel-chart"), {
        type: "bar",
        data: {labels, datasets: [{label: "cases", data: counts, backgroundColor: COLOURS[0]}]},
        options: {animation: false, indexAxis: "y", plugins: {legend: {display: false}}},
      });
    } else {
      funnelChart.data.labels = labels;
      funnelChart.data.datasets[0].data = counts;
      funnelChart.update();
    }
    const quarters = data.trend.map((row) => row.quarter);
    const datasets = TREND.map(([measure, label], i) => ({
      label, data: data.trend.map((row) => row[measure] || 0), borderColor: COLOURS[i],
      backgroundColor: COLOURS[i], tension: 0.2}));
    if (!trendChart) {
      trendChart = new Chart(document.getElementById("trend-chart"), {
        type: "line", data: {labels: quarters, datasets}, options: {animation: false}});
    } else {
      trendChart.data.labels = quarters;
      trendChart.data.datasets.forEach((set, i) => set.data = datasets[i].data);
      trendChart.update();
    }
  }

  function draw(data) {
    drawFunnel(data);
    drawObjectives(data);
    drawResponsiveness(data);
    drawAttention(data);
    drawCharts(data);
    document.getElementById("updated-at").textContent = data.updated_at;
  }

  async function refresh() {
    try {
      const answer = await fetch("/dashboard/data", {credentials: "same-origin",
                                                      headers: {Accept: "application/json"}});
      if (answer.redirected || !answer.ok) {  // signed out, or the session expired
        window.location.reload();
        return;
      }
      draw(await answer.json());
    } catch (unreachable) {
      // the service is restarting: the next round tries again
    } finally {
      window.setTimeout(refresh, REFRESH_MS);
    }
  }

  drawCharts(JSON.parse(document.getElementById("dashboard-data").textContent));
  window.setTimeout(refresh, REFRESH_MS);
})();
