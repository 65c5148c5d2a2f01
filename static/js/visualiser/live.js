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
    this.steps = false;
    this.inFlight = false;
    this.dirty = false;
  }

  get hasSource() {
    return this.source !== null;
  }

  /** Switch to a new input source and run; steps: ask for the preprocessing steps with it. */
  use(source, steps, origin = "pad") {
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
    try {
      await this.#once();
    } catch (err) {
      this.onError(err, this.origin);
    } finally {
      this.inFlight = false;
      if (this.dirty) this.run();
    }
  }

  async #once() {
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
    this.onResult(result, steps);
  }
}
