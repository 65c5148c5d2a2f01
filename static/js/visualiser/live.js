// The live loop: at most one prediction request in flight; inputs that arrive meanwhile only mark the loop dirty,
// and when the request returns the newest input is sent (latest wins, nothing queues up).
import { predict } from "../shared/api.js";

export class LiveLoop {
  /**
   * onResult(result, steps) paints a prediction; onEmpty() clears the page; onError(err, origin) reports a failure
   * next to where the input came from;
   * alsoSteps() says whether the page wants the preprocessing steps anyway (their panel is open).
   */
  constructor({ onResult, onEmpty, onError, alsoSteps }) {
    Object.assign(this, { onResult, onEmpty, onError, alsoSteps });
    this.source = null; // async () => {blob} | {pixels} | null
    this.origin = null; // "pad" | "upload" | "sample": where errors are shown
    this.generation = 0; // a new input (upload, sample, or back to the pad): answers for older ones are dropped
    this.steps = false;
    this.inFlight = false;
    this.dirty = false;
  }

  get hasSource() {
    return this.source !== null;
  }

  /** Switch to a new input source and run; steps: ask for the preprocessing steps with it. */
  use(source, steps, origin = "pad") {
    if (origin !== "pad" || this.origin !== origin) this.generation++;
    this.source = source;
    this.steps = steps;
    this.origin = origin;
    this.run();
  }

  async run() {
    if (this.inFlight) {
      this.dirty = true;
      return;
    }
    this.inFlight = true;
    this.dirty = false;
    const generation = this.generation;
    try {
      await this.#once(() => generation === this.generation);
    } catch (err) {
      if (generation === this.generation) this.onError(err, this.origin);
    } finally {
      this.inFlight = false;
      if (this.dirty) this.run();
    }
  }

  /** One request; its answer is painted only while current() (a drawing's earlier strokes still are). */
  async #once(current) {
    performance.mark("cs:start");
    const input = this.source ? await this.source() : null;
    if (!input) {
      this.onEmpty();
      return;
    }
    const steps = this.steps || this.alsoSteps();
    performance.mark("cs:encoded");
    const result = await predict(input, { steps });
    performance.mark("cs:response");
    if (current()) this.onResult(result, steps);
  }
}
