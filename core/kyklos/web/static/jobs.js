// Progress bars on /jobs refresh themselves while jobs run (the page works without it).
(function () {
  "use strict";
  var FINISHED = ["done", "failed", "cancelled"];
  var BAR = {queued: "bg-secondary", running: "progress-bar-striped progress-bar-animated",
             retrying: "bg-warning", done: "bg-success", failed: "bg-danger",
             cancelled: "bg-secondary"};

  function widthClass(p) { return "k-w-" + (Math.floor(Math.max(0, Math.min(100, p)) / 5) * 5); }

  function render(row, job) {
    var bar = row.querySelector(".progress-bar");
    var wrap = row.querySelector(".progress");
    bar.className = "progress-bar " + (BAR[job.state] || "") + " " + widthClass(job.progress);
    bar.textContent = job.progress + "%";
    wrap.setAttribute("aria-valuenow", String(job.progress));
    row.querySelector(".k-job-state").textContent = job.state_title || job.state;
    row.querySelector(".k-job-message").textContent = job.message || "";
    row.setAttribute("data-job-state", job.state);
  }

  function poll(row) {
    if (FINISHED.indexOf(row.getAttribute("data-job-state")) >= 0) { return; }
    fetch(row.getAttribute("data-job-url"), {credentials: "same-origin",
                                              headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        render(row, job);
        if (FINISHED.indexOf(job.state) < 0) { window.setTimeout(function () { poll(row); }, 2000); }
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, 5000); });
  }

  document.querySelectorAll("tr[data-job-id]").forEach(function (row) {
    window.setTimeout(function () { poll(row); }, 1000);
  });
})();
