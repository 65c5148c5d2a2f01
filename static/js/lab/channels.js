// One row per input channel: the channel (padded where the convolution pads it) × its kernel slice = that
// channel's products, summed cell by cell. The rows add up, plus the bias, to the feature map shown beside them.
import { paddingMarks } from "./explain.js";
import { MapView } from "./maps.js";

function figure(caption, testid = "") {
  const fig = document.createElement("figure");
  const cap = document.createElement("figcaption");
  cap.textContent = caption;
  const box = document.createElement("div");
  box.className = "lab-map";
  if (testid) box.dataset.testid = testid;
  fig.append(cap, box);
  return { fig, box };
}

function operator(text) {
  const span = document.createElement("span");
  span.className = "op";
  span.textContent = text;
  return span;
}

export class ChannelStrip {
  constructor(container) {
    this.container = container;
    this.views = [];
  }

  /**
   * channels: [{label, input, padding, kernel, products}], grey: draw the inputs as pixels.
   * Each row: input × kernel slice = products (summed under the kernel at each position).
   */
  render(channels, { grey = false, range = null } = {}) {
    this.container.replaceChildren();
    this.views = [];
    const r = range ?? Math.max(1e-12, ...channels.flatMap((c) => c.products.flat().map(Math.abs)));
    for (const ch of channels) {
      const row = document.createElement("div");
      row.className = "chan-row";
      const input = figure(`${ch.label}${ch.padding ? ` (padding ${ch.padding} shaded)` : ""}`);
      const kernel = figure("kernel slice");
      const products = figure("its products, summed per position", "channel-products");
      row.append(input.fig, operator("×"), kernel.fig, operator("="), products.fig);
      this.container.append(row);
      const views = [new MapView(input.box), new MapView(kernel.box), new MapView(products.box)];
      const [h, w] = [ch.input.length, ch.input[0].length];
      views[0].render(ch.input, { grey, marks: paddingMarks([h, w], ch.padding) });
      views[1].render(ch.kernel);
      views[2].render(ch.products, { range: r });
      this.views.push(views);
    }
  }

  clear() {
    this.container.replaceChildren();
    this.views = [];
  }
}
