// Live length indicator of the situation editor (htmx handles saving; this only counts).
(function () {
  "use strict";
  function update() {
    var form = document.querySelector("form[data-situation]");
    var out = document.getElementById("length-indicator");
    if (!form || !out) return;
    var total = 0;
    form.querySelectorAll("textarea[data-counted]").forEach(function (t) { total += t.value.length; });
    var perPage = parseInt(out.dataset.pageChars, 10) || 3000;
    var target = parseInt(out.dataset.targetPages, 10) || 3;
    var pages = Math.round((total / perPage) * 10) / 10;
    out.textContent = total + " caractères, environ " + pages.toString().replace(".", ",") +
      " page(s) : visez " + target + " pages au plus." + (pages > target ? " C'est un peu long." : "");
  }
  document.addEventListener("input", function (e) {
    if (e.target && e.target.matches && e.target.matches("textarea[data-counted]")) update();
  });
  document.addEventListener("DOMContentLoaded", update);
})();
