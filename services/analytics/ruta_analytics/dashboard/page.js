"use strict";
const TOKEN_KEY = "ruta.analytics.token";
const $ = (id) => document.getElementById(id);
const fmt = (v) => (v === null || v === undefined) ? "–" : Number(v).toLocaleString("es-PE");
const pct = (v) => (v === null || v === undefined) ? "–" : Number(v).toLocaleString("es-PE", {maximumFractionDigits: 1});
const SVG = "http://www.w3.org/2000/svg";
let last = null;

function showLogin(message) {
  $("board").hidden = true; $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("status").textContent = "Sin conexión";
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = new URLSearchParams({username: $("username").value, password: $("password").value});
  $("login-button").disabled = true;
  let answer, content;
  try {
    answer = await fetch("/dashboard/login", {method: "POST", body});
    content = await answer.json().catch(() => ({}));
  } catch (error) {
    showLogin("No hay conexión con el servidor. Intente de nuevo.");
    return;
  } finally {
    $("login-button").disabled = false;
  }
  if (!answer.ok || !content.access_token) {
    showLogin(content.detail || "No se pudo ingresar.");
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, content.access_token);
  $("password").value = "";
  connect();
});

function cell(tag, text) { const el = document.createElement(tag); el.textContent = text; return el; }

function renderTable(id, header, rows) {
  const table = $(id); table.replaceChildren();
  const head = document.createElement("tr");
  header.forEach((h) => head.appendChild(cell("th", h)));
  table.appendChild(head);
  rows.forEach((r) => { const tr = document.createElement("tr"); r.forEach((c, i) => tr.appendChild(cell(i ? "td" : "th", c))); table.appendChild(tr); });
}

function svgEl(tag, attributes, text) {
  const el = document.createElementNS(SVG, tag);
  Object.entries(attributes).forEach(([k, v]) => el.setAttribute(k, v));
  if (text !== undefined) el.textContent = text;
  return el;
}

// Vertical bars (few short labels, e.g. years), value above each bar.
function renderBars(id, labels, values) {
  const svg = $(id); svg.replaceChildren();
  const width = svg.clientWidth || 400, height = Number(svg.getAttribute("height")) || 200;
  const max = Math.max(1, ...values.map((v) => v || 0));
  const step = width / Math.max(labels.length, 1), bar = Math.min(Math.max(step - 12, 2), 90);
  labels.forEach((label, i) => {
    const h = ((values[i] || 0) / max) * (height - 44), x = i * step + (step - bar) / 2;
    svg.append(
      svgEl("rect", {x, y: height - 22 - h, width: bar, height: h, fill: "#3d6fb6"}),
      svgEl("text", {x: x + bar / 2, y: height - 6, "font-size": 12, "text-anchor": "middle"}, String(label)),
      svgEl("text", {x: x + bar / 2, y: height - 27 - h, "font-size": 12, "text-anchor": "middle"}, fmt(values[i])));
  });
}

// Horizontal bars (long labels, e.g. care types): label, bar, value on one row each.
function renderHBars(id, labels, values) {
  const svg = $(id); svg.replaceChildren();
  const width = svg.clientWidth || 400, row = 22, labelWidth = Math.min(280, width * 0.5);
  svg.setAttribute("height", Math.max(row * labels.length + 4, 40));
  const max = Math.max(1, ...values.map((v) => v || 0)), room = width - labelWidth - 48;
  if (!labels.length) svg.append(svgEl("text", {x: 0, y: 20, "font-size": 12}, "Sin datos"));
  labels.forEach((label, i) => {
    const y = i * row + 2, w = Math.max(((values[i] || 0) / max) * room, 1);
    const name = svgEl("text", {x: labelWidth - 6, y: y + 14, "font-size": 12, "text-anchor": "end"}, String(label));
    svg.append(name);
    for (let n = String(label).length - 1; n > 1 && name.getComputedTextLength() > labelWidth - 8; n--) {
      name.textContent = String(label).slice(0, n) + "…";
    }
    name.appendChild(svgEl("title", {}, String(label)));
    svg.append(
      svgEl("rect", {x: labelWidth, y: y + 2, width: w, height: row - 6, fill: "#3d6fb6"}),
      svgEl("text", {x: labelWidth + w + 4, y: y + 14, "font-size": 12}, fmt(values[i])));
  });
}

function render(payload) {
  last = payload;
  const f = payload.figures, v = f.victims;
  $("cases-opened").textContent = fmt(f.cases_opened);
  $("victims-total").textContent = fmt(v.total);
  $("victims-minor").textContent = fmt(v.column_totals[v.columns.indexOf("minor")]);
  $("referrals-total").textContent = fmt(f.referrals.by_institution_and_outcome.total);
  const rate = f.referrals.acceptance_rate_pct;
  $("acceptance-rate").textContent = rate === null ? "–" : rate.toLocaleString("es-PE") + " %";
  $("overdue-now").textContent = fmt(f.referrals.overdue_now);
  $("returns-home").textContent = fmt(f.returns_home.by_region_of_origin.total);
  $("people-reached").textContent = fmt(f.training.people_reached);
  renderTable("victims-table", ["Sexo", ...v.column_labels, "Total"],
    v.row_labels.map((label, i) => [label, ...v.cells[i].map(fmt), fmt(v.row_totals[i])])
      .concat([["Total", ...v.column_totals.map(fmt), fmt(v.total)]]));
  renderTable("per-year", ["Año", "Casos", "Crec. %", "Víctimas", "Crec. %"],
    f.per_year.map((r) => [String(r.year), fmt(r.cases), pct(r.cases_growth_pct), fmt(r.victims), pct(r.victims_growth_pct)]));
  renderBars("chart-years", f.per_year.map((r) => r.year), f.per_year.map((r) => r.victims));
  renderHBars("chart-care", f.care.by_type.labels, f.care.by_type.values);
}

async function connect() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) { showLogin(); return; }
  $("login").hidden = true; $("board").hidden = false;
  let response;
  try {
    response = await fetch("/dashboard/stream", {headers: {Authorization: "Bearer " + token, Accept: "text/event-stream"}});
  } catch (error) { $("status").textContent = "Reconectando…"; setTimeout(connect, 2000); return; }
  if (response.status === 401 || response.status === 403) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(response.status === 403 ? "Su rol no tiene acceso al tablero." : "La sesión expiró.");
    return;
  }
  if (!response.ok) { $("status").textContent = "Reconectando…"; setTimeout(connect, 2000); return; }
  $("status").textContent = "En vivo";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read().catch(() => ({done: true}));
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
      const lines = block.split("\n");
      const kind = (lines.find((l) => l.startsWith("event: ")) || "event: message").slice(7);
      const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (kind === "expired") {
        reader.cancel().catch(() => {});
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin("La sesión expiró. Ingrese de nuevo.");
        return;
      }
      if (!data) continue;
      render(JSON.parse(data));
      $("updated-at").textContent = "Actualizado: " + new Date().toLocaleString("es-PE", {timeZone: "America/Lima"}) + " (hora de Lima)";
    }
  }
  $("status").textContent = "Reconectando…";
  setTimeout(connect, 1000);
}

let resizing = null;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(() => { if (last && !$("board").hidden) render(last); }, 150);
});

connect();
