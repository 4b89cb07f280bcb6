// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // a filter form's selects apply at once
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // rejecting an entry asks first
  document.querySelectorAll("button.reject").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm("Reject this entry?")) { event.preventDefault(); }
    });
  });
});
