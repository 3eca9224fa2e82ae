// The letters page follows the job making the letters: its progress bar and message
// refresh from the core jobs API, and the page reloads with the downloads when the job
// is done (without script the page still says the letters are being made).
(function () {
  "use strict";
  var box = document.getElementById("cmp-letters-progress");
  if (!box) { return; }
  var FINISHED = ["done", "failed", "cancelled"];

  function widthClass(p) { return "k-w-" + (Math.floor(Math.max(0, Math.min(100, p)) / 5) * 5); }

  function render(job) {
    var bar = box.querySelector(".progress-bar");
    var pct = job.state === "done" ? 100 : (job.progress || 0);
    var look = job.state === "failed" ? "bg-danger"
      : job.state === "done" ? "bg-success" : "progress-bar-striped progress-bar-animated";
    bar.className = "progress-bar " + look + " " + widthClass(pct);
    bar.textContent = pct + "%";
    box.querySelector(".progress").setAttribute("aria-valuenow", String(pct));
    box.querySelector(".k-job-state").textContent = job.state_title || "";
    box.querySelector(".k-job-message").textContent = job.message || "";
    box.querySelector(".k-job-error").textContent = job.state === "failed" ? (job.error || "") : "";
    box.setAttribute("data-job-state", job.state);
  }

  // The jobs API shows a job to whoever started it (and admins): another manager
  // follows the campaign's letters instead and sees the letters once they are made.
  function pollLetters() {
    fetch(box.getAttribute("data-letters-url"), {credentials: "same-origin",
                                                 headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (out) {
        if (out && !out.running) { window.location.reload(); return; }
        window.setTimeout(pollLetters, 3000);
      })
      .catch(function () { window.setTimeout(pollLetters, 5000); });
  }

  function poll() {
    fetch(box.getAttribute("data-job-url"), {credentials: "same-origin",
                                              headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { pollLetters(); return; }
        render(job);
        if (job.state === "done") { window.setTimeout(function () { window.location.reload(); }, 800); }
        else if (FINISHED.indexOf(job.state) < 0) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  poll();
})();
