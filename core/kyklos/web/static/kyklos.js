// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Confirm destructive actions (forms marked data-confirm).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });
  // Select-all checkbox for bulk actions in list views.
  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-select-all]")) {
      var boxes = document.querySelectorAll("input[name='ids']");
      boxes.forEach(function (b) { b.checked = ev.target.checked; });
    }
  });
  // Reference inputs with many possible targets: a plain id input without JavaScript,
  // a search-as-you-type box with it (the id input stays the submitted value).
  document.querySelectorAll("input[data-k-lookup]").forEach(function (idInput) {
    var url = idInput.getAttribute("data-k-lookup");
    var wrap = document.createElement("div");
    var search = document.createElement("input");
    var list = document.createElement("div");
    var timer = null;
    wrap.className = "k-lookup";
    search.type = "search";
    search.className = "form-control";
    search.autocomplete = "off";
    search.id = idInput.id + "-search";
    search.value = idInput.value ? "#" + idInput.value : "";
    list.className = "list-group k-lookup-results";
    list.setAttribute("role", "listbox");
    var label = document.querySelector("label[for='" + idInput.id + "']");
    if (label) { label.htmlFor = search.id; }
    idInput.parentNode.insertBefore(wrap, idInput);
    wrap.appendChild(search);
    wrap.appendChild(list);
    wrap.appendChild(idInput);
    idInput.type = "hidden";
    function render(items) {
      list.textContent = "";
      items.forEach(function (it) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "list-group-item list-group-item-action";
        b.setAttribute("role", "option");
        b.textContent = it.title;
        b.addEventListener("click", function () {
          idInput.value = it.id;
          search.value = it.title;
          list.textContent = "";
          search.focus();
        });
        list.appendChild(b);
      });
    }
    function run() {
      fetch(url + "?q=" + encodeURIComponent(search.value), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : []; }).then(render);
    }
    search.addEventListener("input", function () {
      if (!search.value) { idInput.value = ""; }
      clearTimeout(timer);
      timer = setTimeout(run, 200);
    });
    search.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { list.textContent = ""; }
      if (ev.key === "ArrowDown" && list.firstChild) { ev.preventDefault(); list.firstChild.focus(); }
    });
    list.addEventListener("keydown", function (ev) {
      var t = ev.target;
      if (ev.key === "ArrowDown" && t.nextSibling) { ev.preventDefault(); t.nextSibling.focus(); }
      if (ev.key === "ArrowUp") { ev.preventDefault(); (t.previousSibling || search).focus(); }
      if (ev.key === "Escape") { list.textContent = ""; search.focus(); }
    });
  });
  // The language selector submits itself when changed.
  var lang = document.getElementById("k-lang");
  if (lang) { lang.addEventListener("change", function () { lang.form.submit(); }); }
})();
