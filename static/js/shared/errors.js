// Errors in words a person understands: the API's error codes (and a lost connection) as plain sentences.

const MESSAGES = {
  empty_image: "The image is blank: draw a digit, or pick one from the samples.",
  not_an_image: "That file is not an image. Choose a PNG, JPEG, WebP, BMP or GIF of a digit.",
  corrupt_image: "That image could not be read (the file may be damaged). Try another one.",
  missing_image: "No image was sent. Choose a file or draw a digit.",
  empty_body: "No image was sent. Choose a file or draw a digit.",
  too_large: "That file is too large. Choose an image under a few megabytes.",
  too_many_pixels: "That image has too many pixels. Choose a smaller picture of a digit.",
  unknown_model: "This page asked for a model the server does not serve. Pick one from the Model list.",
  busy: "The server is busy and did not get to this after a few tries. Try again in a moment.",
  decode_timeout: "That image took too long to read. Try a smaller picture of the digit.",
  network: "The server could not be reached. Is convscope still running?",
};

/** A sentence for an error from the API client (ApiError with a code, or a failed fetch). */
export function friendly(err) {
  if (err && MESSAGES[err.code]) return MESSAGES[err.code];
  if (err instanceof TypeError) return MESSAGES.network; // fetch rejects with a TypeError when offline
  return err && err.message ? err.message : "Something went wrong.";
}
