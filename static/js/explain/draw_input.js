// Drawing as the input, for digit models (preprocess "mnist"): the shared pad; every change of the drawing is
// predicted and explained again, at most one round in flight and the newest drawing sent next (latest wins), so the
// overlay follows the pen with the fast methods (gradient, gradient × input, Grad-CAM, IG at 32 steps).
import { $ } from "../shared/dom.js";
import { DrawPad } from "../shared/draw.js";
import { takeInput } from "./input.js";

/** Wire the pad for a digit model (hidden otherwise); each drawing feeds takeInput like a gallery image does. */
export function wireDrawing(model, state, onReady, fail) {
  const block = $("draw-block");
  block.hidden = model.input.preprocess !== "mnist";
  if (block.hidden) return null;
  const loop = { busy: false, dirty: false };
  const run = async () => {
    if (loop.busy) {
      loop.dirty = true;
      return;
    }
    const blob = pad.toBlob(); // null while nothing is drawn: nothing blank is sent
    if (!blob) return;
    loop.busy = true;
    loop.dirty = false;
    try {
      await takeInput(blob, state, onReady);
    } catch (err) {
      fail(err);
    } finally {
      loop.busy = false;
      if (loop.dirty) run();
    }
  };
  const pad = new DrawPad($("draw"), { onChange: run });
  $("draw-clear").addEventListener("click", () => pad.clear(false));
  return pad;
}
