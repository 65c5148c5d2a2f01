// The visualiser's controls: the pad and its tools, uploads and the gallery, the model picker and the view options.
// Each function wires one part of the page to the live loop or the network view.
import { getModels, getSamples } from "../shared/api.js";
import { $, loadImage } from "../shared/dom.js";
import { DrawPad } from "../shared/draw.js";
import { esc } from "../shared/escape.js";
import { friendly } from "../shared/errors.js";
import { padImageFromPixels, renderGallery, setupUpload } from "./input_panel.js";
import { renderKernels } from "./kernels.js";

/** The drawing pad and its tools; every stroke runs the live loop (steps only once the stroke ends). */
export function wirePad(loop) {
  const hint = $("pad-hint");
  const pad = new DrawPad($("pad"), {
    onChange: (final) => {
      if (pad.isEmpty()) hint.hidden = false;
      else if (!pad.erasing) hint.hidden = true;
      // No ink left (all erased): the source gives null and the loop clears the answer without a request.
      loop.use(async () => { const blob = pad.isEmpty() ? null : pad.toBlob(); return blob && { blob }; }, final, "pad");
    },
  });
  $("brush").addEventListener("input", (e) => pad.setBrush(Number(e.target.value)));
  $("eraser").addEventListener("click", (e) => {
    const on = e.currentTarget.getAttribute("aria-pressed") !== "true";
    e.currentTarget.setAttribute("aria-pressed", String(on));
    pad.setEraser(on);
  });
  $("undo").addEventListener("click", () => pad.undo());
  $("clear").addEventListener("click", () => pad.clear());
  return pad;
}

/** Uploads and the sample gallery: each shows its image on the pad and becomes the loop's input. */
export function wireInputs(loop, pad, detail) {
  setupUpload($("upload"), $("drop"), (file, image) => {
    if (image) pad.setBackground(image);
    else pad.clear(false); // the browser cannot show it: the old drawing must not stay as if it were the upload
    $("pad-hint").hidden = Boolean(image);
    loop.use(async () => ({ blob: file }), true, "upload");
  }, (message) => { $("upload-error").textContent = message; });
  getSamples().then((body) => renderGallery($("gallery"), body.samples, async (s) => {
    pad.setBackground(await loadImage(padImageFromPixels(s.pixels).toDataURL()));
    $("pad-hint").hidden = true;
    detail.setLabel(s.label);
    loop.use(async () => ({ pixels: s.pixels }), true, "sample");
  })).catch((err) => { $("status").textContent = `The sample digits are unavailable: ${friendly(err)}`; });
}

/** The model picker: choosing another network reloads the page around its layers. */
export function wireModelSelect(model) {
  getModels().then(({ models }) => {
    const select = $("model-select");
    select.innerHTML = models.map((m) => `<option value="${esc(m.name)}" ${m.name === model.name ? "selected" : ""}>
      ${esc(m.name)} (${esc(m.architecture)}, ${(m.test_accuracy * 100).toFixed(2)} %)</option>`).join("");
    select.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("model", select.value);
      window.location.assign(url);
    });
  });
}

/** Show or hide a conv layer's kernels (its "Show kernels" button). */
function toggleKernels(view, btn) {
  const entry = view.entry(btn.dataset.kernelsFor);
  if (!entry.kernelsEl.childElementCount) renderKernels(entry.kernelsEl, entry.layer);
  entry.kernelsEl.hidden = !entry.kernelsEl.hidden;
  btn.setAttribute("aria-expanded", String(!entry.kernelsEl.hidden));
  btn.textContent = entry.kernelsEl.hidden ? "Show kernels" : "Hide kernels";
}

/** View options: colour range mode, one checkbox per layer, the kernel and zoom buttons of each layer. */
export function wireViewOptions(layers, view) {
  $("range-mode").addEventListener("change", (e) => view.setRangeMode(e.target.value));
  for (const layer of layers) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" id="toggle-${esc(layer.name)}" checked> ${esc(layer.name)}`;
    label.querySelector("input").addEventListener("change", (e) => view.setVisible(layer.name, e.target.checked));
    $("layer-toggles").append(label);
  }
  $("network").addEventListener("click", (e) => {
    const kernels = e.target.closest("button[data-kernels-for]");
    if (kernels) toggleKernels(view, kernels);
    const zoom = e.target.closest("button[data-zoom-for]");
    if (zoom) view.setZoom(zoom.dataset.zoomFor, !view.isZoomed(zoom.dataset.zoomFor));
  });
}
