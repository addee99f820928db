// Small helpers of the page's views.
export const $ = (id) => document.getElementById(id);

/** Offers a Blob as a download named `fileName`. */
export function save(blob, fileName) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
