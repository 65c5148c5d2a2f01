// The input side: upload (picker and drag-and-drop), the sample gallery, and what the network sees.
import { loadImage } from "../shared/dom.js";
import { esc } from "../shared/escape.js";
import { paintMap } from "../shared/heatmap.js";
import { roving } from "../shared/roving.js";

/** Wire the file input and the drop zone; onFile(file, image) gets the file and a decoded preview. */
export function setupUpload(input, dropZone, onFile, onError) {
  const take = async (file) => {
    if (!file) return;
    const url = URL.createObjectURL(file);
    try {
      onFile(file, await loadImage(url).catch(() => null));
    } catch (err) {
      onError(err.message);
    } finally {
      URL.revokeObjectURL(url);
    }
  };
  input.addEventListener("change", () => take(input.files[0]));
  for (const type of ["dragenter", "dragover"]) {
    dropZone.addEventListener(type, (e) => { e.preventDefault(); dropZone.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) dropZone.addEventListener(type, () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    take(e.dataTransfer.files[0]);
  });
}

/** Fill the gallery with sample buttons (one tab stop, arrows inside); onPick(sample) gets {id, label, pixels, …}. */
export function renderGallery(container, samples, onPick) {
  container.innerHTML = "";
  for (const s of samples) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `sample${s.correct ? "" : " wrong"}`;
    b.dataset.sampleId = s.id;
    b.title = s.correct ? `a ${s.label}` : `a ${s.label} that the network reads as ${s.predicted}`;
    // The accessible name contains the visible text ("5" or "5→3"), as speech input needs.
    b.setAttribute("aria-label", s.correct ? `Sample digit ${s.label}` : `Sample digit ${s.label}→${s.predicted}, misread as ${s.predicted}`);
    b.innerHTML = `<img src="${esc(s.png)}" alt="" width="28" height="28"><span>${esc(s.label)}${
      s.correct ? "" : `→${esc(s.predicted)}`}</span>`;
    b.addEventListener("click", () => onPick(s));
    container.append(b);
  }
  roving(container, "button.sample");
}

/** Paint the 28×28 input the network was given (rows of 0…1) into a canvas of the same size. */
export function showSeen(canvas, input) {
  const pixels = Float32Array.from(input.flat());
  paintMap(canvas, pixels, 0, pixels.length, null);
}

/** The preprocessing steps the server reports (name, description, shape, PNG), or a line saying there were none. */
export function renderSteps(list, steps) {
  const step = (s) => `<li><img src="${esc(s.png)}" alt="${esc(s.name)}"><div><b>${esc(s.name)}</b> ${esc(s.description)}
    <small>${esc(s.shape.join("×"))}</small></div></li>`;
  list.innerHTML = steps.length ? steps.map(step).join("") : "<li>The input was given as 28×28 pixels: no preprocessing.</li>";
}

/** MNIST pixels (light on dark) as a dark-on-light image for the pad, so the user can draw over it. */
export function padImageFromPixels(pixels) {
  const h = pixels.length;
  const w = pixels[0].length;
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(w, h);
  pixels.flat().forEach((v, i) => {
    const g = Math.round(255 * (1 - v));
    img.data.set([g, g, g, 255], i * 4);
  });
  ctx.putImageData(img, 0, 0);
  return c;
}
