// Wires the graph page: an input → the answer and the thumbnails of the nodes in view (one request); nodes that
// scroll into view or unfold ask for their layers by input id; a node opens its maps; a unit traces its field
// onto every node it reaches, the input and its gradient.
import { $ } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { explainHref } from "../shared/links.js";
import { friendly } from "../shared/errors.js";
import { GraphView } from "./graph_view.js";
import { InputPad } from "./input.js";
import { LayerPanel } from "./maps.js";
import { ModelGraph } from "./model_graph.js";
import { SeenView } from "./seen.js";
import { Session, getModel, getModels, v2Url } from "./session.js";
import { showPrediction, unitHtml } from "./unit.js";
import { wireUnitKeys } from "./unit_keys.js";

const status = (message) => { $("status").textContent = message; };

/** Thumbnails asked for in batches: nodes entering view within a few ms share one request. */
function thumbLoader(session, view) {
  let pending = new Set();
  let timer = null;
  const flush = async () => {
    timer = null;
    const names = [...pending].filter((n) => !view.thumbs.has(n));
    pending = new Set();
    if (!names.length || !session.blob) return;
    const generation = session.generation;
    try {
      const frame = await session.layers(names, "0:1");
      if (generation === session.generation) view.addThumbs(frame);
    } catch (err) {
      status(`Some layers could not be loaded: ${friendly(err)}`);
    }
  };
  return (names) => {
    for (const n of names) pending.add(n);
    if (!timer) timer = setTimeout(flush, 16);
  };
}

/** Tracing a unit: its field on every node, the open maps and the input; its gradient and arithmetic. */
function tracer(session, view, panel, seen) {
  const state = { unit: null };
  const clear = () => {
    state.unit = null;
    view.setFields(null);
    panel.setField(null);
    seen.setField(null);
    seen.gradient(null);
    $("unit").replaceChildren();
  };
  const run = async (layer, index) => {
    state.unit = { layer, index };
    const generation = session.generation;
    try {
      const t = await session.trace(layer, index);
      if (generation !== session.generation || state.unit.layer !== layer || state.unit.index !== index) return;
      const fields = new Map(t.fields.map((f) => [f.layer, f]));
      view.setFields(fields);
      panel.setField(fields.get(panel.layer && panel.layer.name) || null);
      seen.setField(fields.get("input") || null);
      seen.gradient(t.gradient);
      $("unit").innerHTML = unitHtml(t);
      $("announce").textContent = $("unit").querySelector("h3").textContent;
      document.dispatchEvent(new CustomEvent("convscope:traced"));
    } catch (err) {
      $("unit").textContent = `This unit could not be traced: ${friendly(err)}`;
    }
  };
  return { run, clear, state };
}

/** The model picker: every model API v2 serves; choosing one reloads the page around it. */
async function wireModelSelect(current) {
  const { models } = await getModels();
  const select = $("model-select");
  select.innerHTML = models.map((m) => `<option value="${esc(m.name)}" ${m.name === current ? "selected" : ""}>${
    esc(m.name)} (${esc(m.input.shape.join("×"))}${m.accuracy ? `, ${(m.accuracy * 100).toFixed(1)} %` : ""})</option>`).join("");
  select.addEventListener("change", () => window.location.assign(`/graph?model=${encodeURIComponent(select.value)}`));
  return models;
}

/** A model's demo images (GET /api/v2/gallery): held-out shapes, MNIST test digits or its --dataset folder. */
async function gallery(model, pad) {
  const response = await fetch(v2Url("/gallery", model)).catch(() => null);
  if (!response || !response.ok) return; // a gallery is a help, never an error: without one the section stays hidden
  const body = await response.json();
  const items = Array.isArray(body.images) ? body.images : [];
  const el = $("gallery");
  el.innerHTML = items.map((g, i) => `<button type="button" class="sample" data-i="${i}" title="${esc(g.name)}"><img
    src="${esc(g.png)}" alt="${esc(g.label ?? `image ${g.id}`)}" width="28" height="28"><span>${esc(g.label ?? "")}</span>
    </button>`).join("");
  el.hidden = !items.length;
  el.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-i]");
    if (!b) return;
    const img = b.querySelector("img");
    pad.take(await (await fetch(img.src)).blob(), img);
  });
}

/** A new input: the answer and the thumbnails in view in one request, then the input itself and the open maps. */
function inputHandler(session, view, panel, seen, trace) {
  return async (blob) => {
    view.clearThumbs();
    trace.clear();
    $("upload-error").textContent = "";
    const generation = session.generation + 1;
    try {
      const frame = await session.start(blob, view.missingInView());
      if (generation !== session.generation) return;
      showPrediction({ label: $("prediction"), confidence: $("confidence"), top: $("top") }, frame);
      view.addThumbs(frame);
      status("");
      performance.mark("cs:painted");
      document.dispatchEvent(new CustomEvent("convscope:painted", { detail: { bytes: session.bytes } }));
      const rest = view.missingInView();
      const [input] = await Promise.all([session.layers(["input"]), rest.length ? session.layers(rest, "0:1")
        .then((f) => generation === session.generation && view.addThumbs(f)) : null]);
      if (generation !== session.generation) return;
      seen.show(input.layers[0].data);
      if (panel.layer) await panel.open(panel.layer.name);
    } catch (err) {
      if (generation !== session.generation) return;
      showPrediction({ label: $("prediction"), confidence: $("confidence"), top: $("top") }, null);
      seen.clear();
      $("upload-error").textContent = friendly(err);
    }
  };
}

async function main() {
  const models = await getModels();
  const name = new URLSearchParams(window.location.search).get("model") || models.default;
  wireModelSelect(name);
  $("explain-link").href = explainHref(name); // and, once a unit is picked, that unit's card
  const graph = new ModelGraph(await getModel(name));
  const session = new Session(name);
  session.onId = (id) => { document.body.dataset.inputId = id; }; // for the browser tests and the benchmark
  const seen = new SeenView($("gp-seen"), $("gradient"), models.models.find((m) => m.name === name).input);
  let trace = null;
  const panel = new LayerPanel(
    { title: $("layer-title"), tools: $("map-tools"), maps: $("maps"), more: $("more"), order: $("order"), zoom: $("zoom") },
    session, graph, {
      onUnit: (layer, unit) => { $("explain-link").href = explainHref(name, layer, unit); trace.run(layer, unit); },
      onError: (err) => status(friendly(err)),
    },
  );
  wireUnitKeys($("maps"), panel, (text) => { $("announce").textContent = text; });
  const view = new GraphView($("graph"), $("graph-scroll"), graph, {
    onOpen: (layer) => {
      // One column (phones): the maps are below the graph, so bring them into view.
      if (window.matchMedia("(max-width: 999px), (max-height: 599px)").matches) $("detail-panel").scrollIntoView({ block: "start" });
      return panel.open(layer).catch((err) => status(friendly(err)));
    },
    onNeed: (names) => load(names),
  });
  const load = thumbLoader(session, view);
  trace = tracer(session, view, panel, seen);
  const pad = new InputPad($("gp-pad"), {
    colour: $("gp-colour"), brush: $("gp-brush"), clear: $("gp-clear"), upload: $("upload"), drop: $("drop"),
    onInput: inputHandler(session, view, panel, seen, trace), onError: (m) => { $("upload-error").textContent = m; },
  });
  $("expand-all").addEventListener("click", () => view.setExpanded(new Set(graph.groups.keys())));
  $("collapse-all").addEventListener("click", () => view.setExpanded(new Set()));
  if (models.models.find((m) => m.name === name).gallery) gallery(name, pad);
  status("Give the model an image: draw, upload, drop or paste one.");
  document.body.dataset.ready = "true";
}

main().catch((err) => status(`The page could not start: ${friendly(err)}`));
