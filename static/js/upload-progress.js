// Shows upload progress for large pre-screening files, then follows the redirect.
(function () {
  "use strict";
  var form = document.getElementById("prescreen-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files.length) { return; }
    event.preventDefault();
    var box = document.getElementById("upload-progress");
    var bar = box.querySelector(".progress-bar");
    var evaluating = document.getElementById("evaluating");
    box.classList.remove("d-none");
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.round((e.loaded / e.total) * 100);
      bar.style.width = percent + "%";
      box.setAttribute("aria-valuenow", String(percent));
      if (percent >= 100) { evaluating.classList.remove("d-none"); }
    });
    request.addEventListener("load", function () {
      if (request.responseURL && request.responseURL !== window.location.href) {
        window.location.assign(request.responseURL);
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.send(new FormData(form));
  });
})();
