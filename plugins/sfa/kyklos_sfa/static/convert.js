// Lead conversion: choosing a record in the "link to another account/person" picker
// selects that option, so the user does not have to click its radio button too.
(function () {
  "use strict";
  document.querySelectorAll("select[data-sfa-radio]").forEach(function (select) {
    select.addEventListener("change", function () {
      var radio = document.getElementById(select.getAttribute("data-sfa-radio"));
      if (radio && select.value) { radio.checked = true; }
    });
  });
})();
