// The live character and part count of the "Send SMS" form: the server counts (the
// same function the outbox uses), so the page never disagrees with what is sent.
(function () {
  "use strict";
  var body = document.getElementById("body");
  var out = document.getElementById("k-sms-count");
  if (!body || !out) { return; }
  var url = body.getAttribute("data-count-url");
  var timer = null;
  var asked = 0;
  function update() {
    var mine = ++asked;
    fetch(url + "?text=" + encodeURIComponent(body.value), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (c) {
      if (!c || mine !== asked) { return; }  // an older answer arriving late
      out.textContent = c.text;
      out.classList.toggle("text-danger", c.too_long);
      out.setAttribute("data-parts", c.parts);
      out.setAttribute("data-encoding", c.encoding);
    });
  }
  body.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
  // text typed (or restored by the browser) before this script ran is counted too
  if (body.value) { update(); }
})();
