// Small DOM helpers shared by the pages (called only once the page is loaded, never at import).

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** Decode an image URL (object URL or data URL) into an <img>. */
export function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("That file is not an image the browser can show."));
    img.src = src;
  });
}
