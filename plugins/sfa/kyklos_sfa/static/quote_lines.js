// The quote page's "Add a line" form: choosing a product (or changing the quantity of a
// chosen one) asks the server what the line would say - the name and description in
// the quote's language, unit, VAT rate and the price list's price with the rule that gave it - and
// fills the inputs, which stay editable. Without JavaScript the server fills whatever
// is left empty when the form is sent.
(function () {
  "use strict";
  var box = document.querySelector("[data-sfa-line-price]");
  if (!box) { return; }
  var url = box.getAttribute("data-sfa-line-price");
  var product = document.getElementById("sfa-line-product");
  if (!product) { return; }
  var qty = document.getElementById("sfa-line-qty");
  var reason = document.getElementById("sfa-line-reason");
  var fields = {
    description: document.getElementById("sfa-line-desc"),
    details: document.getElementById("sfa-line-details"),
    unit: document.getElementById("sfa-line-unit"),
    unit_price: document.getElementById("sfa-line-price"),
    tax_rate: document.getElementById("sfa-line-tax")
  };
  var asked = 0;

  function ask(fillAll) {
    var id = product.value;
    if (!id) { reason.textContent = ""; return; }
    var mine = ++asked;
    var q = "?product_id=" + encodeURIComponent(id) + "&quantity=" + encodeURIComponent(qty.value || "1");
    fetch(url + q, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (line) {
        if (mine !== asked) { return; }  // a later choice has been made meanwhile
        if (line.errors) { reason.textContent = line.title || ""; return; }
        if (fillAll) {
          fields.description.value = line.description;
          if (fields.details) { fields.details.value = line.details || ""; }
          fields.unit.value = line.unit;
          fields.tax_rate.value = line.tax_rate;
        }
        fields.unit_price.value = line.unit_price_text || "";
        reason.textContent = line.price_note || "";
      })
      .catch(function () { reason.textContent = ""; });
  }

  product.addEventListener("k-picker-change", function () {
    // one product per line: the list closes on the choice, the next input is the rest
    if (product.tomselect) { product.tomselect.close(); product.tomselect.blur(); }
    ask(true);
  });
  product.addEventListener("change", function () { ask(true); });
  qty.addEventListener("change", function () { ask(false); });
})();
