"use strict";
// Sort a table by the clicked column (numbers by their data-v), and
// light up a package's tiles and table row together.
document.querySelectorAll("table.sortable th").forEach(function (th) {
  th.title = "sort by this column";
  th.addEventListener("click", function () {
    var table = th.closest("table"), col = th.cellIndex, body = table.tBodies[0];
    var num = th.classList.contains("n");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col];
      if (!x || !y) return 0;
      if (num) return Number(y.dataset.v || y.textContent) - Number(x.dataset.v || x.textContent);
      return x.textContent.localeCompare(y.textContent);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    table.querySelectorAll("th").forEach(function (h) { h.classList.toggle("sorted", h === th); });
  });
});
function light(name, on) {
  document.querySelectorAll('[data-package="' + CSS.escape(name) + '"]').forEach(function (el) { el.classList.toggle("hl", on); });
}
document.querySelectorAll("[data-package]").forEach(function (el) {
  el.addEventListener("mouseenter", function () { light(el.dataset.package, true); });
  el.addEventListener("mouseleave", function () { light(el.dataset.package, false); });
});
