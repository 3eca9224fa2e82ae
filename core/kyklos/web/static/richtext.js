// The rich-text editor: every <textarea data-k-richtext> (the richtext field type's
// input, see kyklos.entities.widgets.RichTextWidget) becomes a Quill editor. The textarea
// stays the value that is submitted: the editor writes its HTML there on every change,
// and the "HTML source" view (fields with data-k-source) shows the textarea itself.
// The server sanitises whatever arrives, so nothing here is a safety measure.
(function () {
  "use strict";
  // the editor's own blocks: HTML with anything else (a designed e-mail's tables)
  // opens in the source view, so the editor never silently drops what it cannot hold
  var OWN = /^(p|br|h[1-6]|strong|b|em|i|u|s|ul|ol|li|a|blockquote|pre|code|span)$/;
  var BUTTONS = [
    [["header", "2", "h2"], ["header", "3", "h3"]],
    [["bold", null, "bold"], ["italic", null, "italic"], ["underline", null, "underline"]],
    [["list", "ordered", "ordered"], ["list", "bullet", "bullet"], ["blockquote", null, "blockquote"], ["link", null, "link"]],
    [["clean", null, "clean"]]
  ];

  function label(box, key) { return box.getAttribute("data-k-" + key) || key; }

  function foreignTags(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    return Array.prototype.some.call(doc.body.querySelectorAll("*"), function (el) {
      return !OWN.test(el.tagName.toLowerCase());
    });
  }

  function toolbar(box) {
    var bar = document.createElement("div");
    BUTTONS.forEach(function (group) {
      var span = document.createElement("span");
      span.className = "ql-formats";
      group.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "ql-" + b[0];
        if (b[1]) { btn.value = b[1]; }
        btn.title = label(box, b[2]);
        btn.setAttribute("aria-label", btn.title);
        span.appendChild(btn);
      });
      bar.appendChild(span);
    });
    return bar;
  }

  // Quill writes every space as &nbsp; in its semantic HTML: spaces again, so merge
  // fields ({{ first_name }}) and the stored text read as typed
  function htmlOf(quill) {
    var html = quill.getSemanticHTML().replace(/&nbsp;/g, " ");
    return quill.getText().trim() ? html : "";
  }

  function editor(area) {
    var box = area.closest(".k-richtext");
    var bar = toolbar(box);
    var holder = document.createElement("div");
    holder.className = "k-richtext-editor";
    area.parentNode.insertBefore(bar, area);
    area.parentNode.insertBefore(holder, area);
    var quill = new window.Quill(holder, {
      theme: "snow",
      modules: { toolbar: bar }
    });
    var tip = box.querySelector(".ql-tooltip");
    if (tip) {
      // the tooltip's words are CSS content; kyklos.css reads them from these attributes
      tip.setAttribute("data-k-visit", label(box, "visit"));
      tip.setAttribute("data-k-enter-link", label(box, "enter-link"));
      var a = tip.querySelector("a.ql-action"), r = tip.querySelector("a.ql-remove");
      if (a) { a.setAttribute("data-k-edit", label(box, "edit")); a.setAttribute("data-k-save", label(box, "edit")); }
      if (r) { r.setAttribute("data-k-remove", label(box, "remove-link")); }
    }
    quill.root.setAttribute("role", "textbox");
    quill.root.setAttribute("aria-multiline", "true");
    var label_ = document.querySelector("label[for='" + area.id + "']");
    if (label_) { quill.root.setAttribute("aria-label", label_.textContent.trim()); }
    function load() {
      quill.setContents(quill.clipboard.convert({ html: area.value }), "silent");
    }
    load();
    quill.on("text-change", function () { area.value = htmlOf(quill); });
    area.classList.add("d-none");
    var source = box.hasAttribute("data-k-source");
    if (!source) { return; }
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "btn btn-sm btn-outline-secondary mt-1 k-richtext-source";
    toggle.textContent = label(box, "source-label");
    toggle.setAttribute("aria-pressed", "false");
    box.appendChild(toggle);
    function showSource(on) {
      holder.classList.toggle("d-none", on);
      bar.classList.toggle("d-none", on);
      area.classList.toggle("d-none", !on);
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      if (!on) { load(); }
    }
    toggle.addEventListener("click", function () {
      showSource(area.classList.contains("d-none"));
    });
    if (area.value && foreignTags(area.value)) { showSource(true); }
  }

  function start() {
    document.querySelectorAll("textarea[data-k-richtext]").forEach(function (a) {
      if (!a.getAttribute("data-k-richtext-on")) {
        a.setAttribute("data-k-richtext-on", "1");
        editor(a);
      }
    });
  }
  window.kyklosRichText = start;
  start();
}());
