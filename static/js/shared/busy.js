// The "server busy, trying again" note: shown while any request waits to be retried (shared/retry.js), then hidden.
import { busyEvents } from "./retry.js";

/** The note's sentence for the requests now waiting (Map id → {attempt, attempts, seconds}); "" when none. */
export function busyText(waiting) {
  if (!waiting.size) return "";
  const latest = [...waiting.values()].at(-1);
  return `The server is busy: trying again in ${latest.seconds.toFixed(1)} s (attempt ${latest.attempt} of ${latest.attempts}).`;
}

/** Add the note (role=status, data-testid=busy) to the page and keep it in step with busyEvents. */
export function showBusyNotes(doc = document, events = busyEvents) {
  const note = doc.createElement("p");
  note.className = "busy-note";
  note.setAttribute("role", "status");
  note.dataset.testid = "busy";
  note.hidden = true;
  doc.body.append(note);
  const waiting = new Map();
  const update = () => {
    note.textContent = busyText(waiting);
    note.hidden = !waiting.size;
  };
  events.addEventListener("retry", (event) => {
    waiting.set(event.detail.id, event.detail);
    update();
  });
  events.addEventListener("done", (event) => {
    waiting.delete(event.detail.id);
    update();
  });
  return note;
}
