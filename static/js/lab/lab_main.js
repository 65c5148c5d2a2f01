// The convolution lab: input → kernel (stride, padding) → activation → pooling → flattening, softmax and losses.
import { getLabPresets, getModel, postJson, predict } from "../shared/api.js";
import { DrawPad } from "../shared/draw.js";
import { KernelEditor } from "./kernel_editor.js";
import { MapView, fmt, windowMarks } from "./maps.js";
import { SoftmaxPanel } from "./softmax.js";

const $ = (id) => document.getElementById(id);
const ACT_NAMES = { none: "no activation", relu: "ReLU", leaky_relu: "leaky ReLU", tanh: "tanh", sigmoid: "sigmoid" };

function conv1Kernels(model) {
  const conv1 = model.layers.find((l) => l.name === "conv1");
  const [out, , k] = conv1.weight_shape;
  return Array.from({ length: out }, (_, o) => Array.from({ length: k }, (_, y) =>
    conv1.weights.slice(o * k * k + y * k, o * k * k + (y + 1) * k)));
}

async function main() {
  const [presets, model] = await Promise.all([getLabPresets(), getModel()]);
  let image = presets.examples.smiley.input; // replaced by the user's digit once drawn
  let result = null;
  let timer = 0;
  const status = (m) => { $("lab-status").textContent = m || ""; };
  const maps = Object.fromEntries(["input", "feature", "before", "activated", "pooled"].map((n) => [n, new MapView($(`map-${n}`))]));

  const settings = () => {
    const mode = $("padding-mode").value;
    return {
      input: image,
      kernel: editor.values,
      bias: Number($("bias").value) || 0,
      stride: Math.min(3, Math.max(1, Number($("stride").value) || 1)),
      padding: mode === "number" ? Math.min(5, Math.max(0, Number($("padding-number").value) || 0)) : mode,
      activation: $("activation").value,
      slope: Number($("slope").value) || 0,
      pool: { type: $("pool-type").value, size: Number($("pool-size").value) || 2,
        stride: Number($("pool-stride").value) || 2 },
    };
  };

  const run = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      try {
        result = await postJson("/lab/convolve", settings());
        status("");
        show();
      } catch (err) {
        status(err.message);
      }
    }, 30);
  };

  const editor = new KernelEditor({ select: $("kernel-preset"), sizeSelect: $("kernel-size"),
    grid: $("kernel-editor"), onChange: run });
  editor.setPresets(presets.kernels, conv1Kernels(model));

  const explainConv = (y, x) => {
    const s = result.stride;
    const k = result.kernel.values;
    const f = k.length;
    const win = [y * s, x * s, y * s + f - 1, x * s + f - 1];
    maps.input.mark(windowMarks(win));
    maps.feature.mark({ [`${y},${x}`]: "winner" });
    const terms = [];
    let sum = 0;
    for (let i = 0; i < f; i++) {
      for (let j = 0; j < f; j++) {
        const v = result.padded.values[win[0] + i][win[1] + j];
        sum += v * k[i][j];
        if (f <= 3 || (v !== 0 && k[i][j] !== 0)) terms.push(`${fmt(v)}×${fmt(k[i][j])}`);
      }
    }
    const value = result.feature_map.values[y][x];
    $("lab-detail").innerHTML = `<p><b>feature map [${y}, ${x}]</b> — the kernel over padded input rows
      ${win[0]}…${win[2]}, columns ${win[1]}…${win[3]} (stride ${s}: ${y}·${s}, ${x}·${s}).</p>
      <p class="eq">${terms.length ? terms.join(" + ") : "all products are 0"}${f > 3 ? " (zero products left out)" : ""} + bias ${fmt(result.bias)}
      = <b data-role="sum" data-value="${sum + result.bias}">${fmt(sum + result.bias)}</b>
      <span class="muted">(server: <span data-role="value" data-value="${value}">${fmt(value)}</span>)</span></p>`;
  };

  const explainPool = (y, x) => {
    const p = result.pooled;
    const i = y * p.shape[1] + x;
    const win = p.windows[i];
    const w = result.activated.shape[1];
    const winner = p.winners ? [Math.floor(p.winners[i] / w), p.winners[i] % w] : null;
    maps.activated.mark(windowMarks(win, winner));
    maps.pooled.mark({ [`${y},${x}`]: "winner" });
    const cells = [];
    for (let r = win[0]; r <= win[2]; r++) for (let c = win[1]; c <= win[3]; c++) cells.push(result.activated.values[r][c]);
    const partial = win[2] - win[0] + 1 < p.size || win[3] - win[1] + 1 < p.size;
    $("lab-detail").innerHTML = `<p><b>pooled [${y}, ${x}]</b> — ${p.type} of the ${win[2] - win[0] + 1}×${win[3] - win[1] + 1}
      window at rows ${win[0]}…${win[2]}, columns ${win[1]}…${win[3]}${partial ? " (a partial window past the edge: its cells are pooled as they are)" : ""}.</p>
      <p class="eq">${p.type}(${cells.map(fmt).join(", ")}) = <b data-role="value" data-value="${p.values[y][x]}">${fmt(p.values[y][x])}</b></p>`;
  };

  const paddingMarks = () => {
    const marks = {};
    const p = result.padding;
    const [h, w] = result.padded.shape;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (y < p || x < p || y >= h - p || x >= w - p) marks[`${y},${x}`] = "pad";
    return marks;
  };

  const show = () => {
    const { rows, cols } = result.output_size;
    $("output-size").innerHTML = `rows: ${rows.formula}<br>columns: ${cols.formula}<br>
      feature map: <b data-role="size">${rows.value}×${cols.value}</b>`;
    maps.input.render(result.padded.values, { marks: paddingMarks() });
    maps.feature.render(result.feature_map.values, { onCell: explainConv });
    const range = Math.max(...result.feature_map.values.flat().map(Math.abs));
    maps.before.render(result.feature_map.values, { range });
    maps.activated.render(result.activated.values, { range });
    $("after-caption").textContent = `after ${ACT_NAMES[result.activation]}`;
    if (result.pooled) {
      maps.pooled.render(result.pooled.values, { onCell: explainPool });
      $("pool-caption").textContent = `${result.pooled.type} pooled ${result.pooled.size}×${result.pooled.size}, stride ${result.pooled.stride}: ${result.pooled.shape.join("×")}`;
    } else {
      $("map-pooled").replaceChildren();
      $("pool-caption").textContent = "no pooling";
    }
    const flat = result.flattened.values;
    $("flat").innerHTML = `<p class="muted">${flat.length} numbers from the ${result.flattened.source} map,
      ${result.flattened.order}</p><ol class="flat-list" start="0">${flat.slice(0, 200).map((v) =>
      `<li>${fmt(v)}</li>`).join("")}</ol>${flat.length > 200 ? `<p class="muted">… ${flat.length - 200} more</p>` : ""}`;
  };

  const pad = new DrawPad($("lab-pad"), {
    onChange: async (final) => {
      if (!final || pad.isEmpty() || $("source").value !== "digit") return;
      try {
        const r = await predict({ blob: pad.toBlob() }, { steps: false });
        image = r.input;
        run();
      } catch (err) {
        status(err.message);
      }
    },
  });
  pad.setBrush(12);
  $("lab-clear").addEventListener("click", () => pad.clear());

  const useSource = () => {
    const source = $("source").value;
    $("pad-box").hidden = source !== "digit";
    const ex = presets.examples[source];
    if (ex) {
      image = ex.input;
      editor.set(ex.kernel);
      $("stride").value = ex.stride;
      $("padding-mode").value = "valid";
      $("activation").value = ex.activation;
      $("pool-type").value = ex.pool.type;
      $("pool-size").value = ex.pool.size;
      $("pool-stride").value = ex.pool.stride;
      $("example-note").textContent = `${ex.title}: ${ex.expect}.`;
    } else {
      const saved = sessionStorage.getItem("convscope:input");
      image = saved ? JSON.parse(saved) : presets.examples.smiley.input;
      $("example-note").textContent = saved ? "Using the digit you drew in the visualiser; draw a new one here."
        : "Draw a digit above.";
      if (editor.select.value === "custom") editor.usePreset("edge detect");
    }
    $("padding-number").hidden = $("padding-mode").value !== "number";
    $("slope-box").hidden = $("activation").value !== "leaky_relu";
    run();
  };

  $("source").addEventListener("change", useSource);
  for (const id of ["bias", "stride", "padding-number", "slope", "pool-size", "pool-stride"]) $(id).addEventListener("input", run);
  for (const id of ["padding-mode", "activation", "pool-type"]) {
    $(id).addEventListener("change", () => {
      $("padding-number").hidden = $("padding-mode").value !== "number";
      $("slope-box").hidden = $("activation").value !== "leaky_relu";
      run();
    });
  }

  const softmax = new SoftmaxPanel({ scoresEl: $("scores"), labelEl: $("label"), outEl: $("softmax-out"),
    chart: $("loss-chart"), compute: (scores, label) => postJson("/lab/softmax", { scores, label }) });
  softmax.update();

  $("source").value = sessionStorage.getItem("convscope:input") ? "digit" : "smiley";
  editor.usePreset("edge detect");
  useSource();
  document.body.dataset.ready = "true";
}

main().catch((err) => { document.getElementById("lab-status").textContent = `The lab could not start: ${err.message}`; });
