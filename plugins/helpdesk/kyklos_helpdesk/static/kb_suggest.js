/* Knowledge-base suggestions while a case is typed (HD-06): the subject and the
   description are sent, debounced, to the list's data-url; the box (the core's form
   panel on the agents' form, the portal form's own card) is moved under the subject
   and shown while articles match. Text is set with textContent only (no markup from
   data). */
(function () {
  "use strict";
  var box = document.getElementById("kb-suggest");
  if (!box) { return; }
  var form = document.getElementById("k-record-form") || document.getElementById("k-portal-case-form");
  if (!form) { return; }
  var subject = form.querySelector("[name=subject]");
  var description = form.querySelector("[name=description]");
  if (!subject) { return; }
  var list = document.getElementById("kb-suggest-list");
  var holder = subject.closest(".form-group, .mb-3, .item-subject") || subject.parentNode;
  holder.parentNode.insertBefore(box, holder.nextSibling);
  var timer = null;
  var last = "";
  var seq = 0;

  function render(items) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    items.forEach(function (it) {
      var li = document.createElement("li");
      li.className = "mb-2 kb-suggestion";
      var a = document.createElement("a");
      a.href = it.url;
      a.target = "_blank";
      a.rel = "noopener";
      a.className = "fw-semibold";
      a.textContent = it.title;
      li.appendChild(a);
      var meta = document.createElement("span");
      meta.className = "text-muted small ms-2";
      meta.textContent = it.language + " · " + it.helpful;
      li.appendChild(meta);
      if (it.excerpt) {
        var p = document.createElement("div");
        p.className = "small";
        p.textContent = it.excerpt;
        li.appendChild(p);
      }
      list.appendChild(li);
    });
    box.classList.toggle("d-none", items.length === 0);
  }

  function fetchNow() {
    var q = (subject.value + " " + (description ? description.value : "")).trim();
    if (q === last) { return; }
    last = q;
    var mine = ++seq;
    if (q.length < 3) { render([]); return; }
    var url = list.getAttribute("data-url") + "?q=" + encodeURIComponent(q.slice(0, 1500));
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (data) { if (mine === seq) { render(data.items || []); } })
      .catch(function () { /* suggestions are a help, never a blocker */ });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(fetchNow, 300);
  }
  subject.addEventListener("input", later);
  if (description) { description.addEventListener("input", later); }
  if (subject.value) { later(); }
}());
