// The input side: upload (picker and drag-and-drop), the sample gallery, and what the network sees.
import { paintMap } from "./network.js";

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("That file is not an image the browser can show."));
    img.src = src;
  });
}

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

/** Fill the gallery with sample buttons; onPick(sample) gets {id, label, pixels, …}. */
export function renderGallery(container, samples, onPick) {
  container.innerHTML = "";
  for (const s of samples) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = `sample${s.correct ? "" : " wrong"}`;
    b.dataset.sampleId = s.id;
    b.title = s.correct ? `a ${s.label}` : `a ${s.label} that the network reads as ${s.predicted}`;
    b.setAttribute("aria-label", `Sample digit ${s.label}${s.correct ? "" : `, misread as ${s.predicted}`}`);
    b.innerHTML = `<img src="${s.png}" alt="" width="28" height="28"><span>${s.label}${s.correct ? "" : `→${s.predicted}`}</span>`;
    b.addEventListener("click", () => onPick(s));
    container.append(b);
  }
}

export function showSeen(canvas, input) {
  paintMap(canvas, Float32Array.from(input.flat()), 0, 784, null);
}

export function renderSteps(list, steps) {
  list.innerHTML = steps.length
    ? steps.map((s) => `<li><img src="${s.png}" alt="${s.name}"><div><b>${s.name}</b> ${s.description}
        <small>${s.shape.join("×")}</small></div></li>`).join("")
    : "<li>The input was given as 28×28 pixels: no preprocessing.</li>";
}

export { loadImage };
