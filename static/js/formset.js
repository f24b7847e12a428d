// Adds a row to the earlier-TBil formset (no inline scripts: CSP).
(function () {
  "use strict";
  var button = document.getElementById("add-series-row");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var total = document.getElementById("id_series-TOTAL_FORMS");
    var max = document.getElementById("id_series-MAX_NUM_FORMS");
    var count = parseInt(total.value, 10);
    if (max && count >= parseInt(max.value, 10)) { return; }
    var html = document.getElementById("series-empty").innerHTML.replace(/__prefix__/g, String(count));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    document.querySelector("#tbil-series .series-rows").appendChild(holder.firstElementChild);
    total.value = String(count + 1);
  });
})();
