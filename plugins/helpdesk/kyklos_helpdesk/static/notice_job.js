// The notice page follows the job it started: the contacts told so far while it runs,
// then the result in words (the page works without it: it links to the jobs page).
(function () {
  "use strict";
  var box = document.getElementById("hd-notice-job");
  if (!box) { return; }
  var text = box.querySelector(".hd-notice-job-text");
  var FINISHED = ["done", "failed", "cancelled"];

  function show(job) {
    if (job.state === "done" && job.result) {
      text.textContent = box.getAttribute("data-done")
        .replace("{sent}", String(job.result.sent))
        .replace("{skipped}", String(job.result.skipped))
        .replace("{failed}", String(job.result.failed || 0));
      box.classList.remove("alert-info");
      box.classList.add("alert-success");
    } else if (job.state === "failed") {
      text.textContent = box.getAttribute("data-failed").replace("{error}", job.error || "");
      box.classList.remove("alert-info");
      box.classList.add("alert-danger");
    } else if (job.message) {
      text.textContent = job.message + " (" + job.progress + " %)";
    }
    box.setAttribute("data-job-state", job.state);
  }

  function poll() {
    fetch(box.getAttribute("data-job-url"), {credentials: "same-origin",
                                              headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        show(job);
        if (FINISHED.indexOf(job.state) < 0) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  poll();
})();
