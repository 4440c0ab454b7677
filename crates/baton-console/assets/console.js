// Baton console: small enhancements over plain forms. No dependencies; every page
// works without this script, it only saves round trips.
"use strict";

// Elements with data-show-when="name=value[,value]" are shown only while the form
// control `name` has one of the values (the handoff page's boxes follow the process).
function syncConditional(form) {
  for (const el of form.querySelectorAll("[data-show-when]")) {
    const visible = el.dataset.showWhen.split(";").every((clause) => {
      const [name, values] = clause.split("=");
      const checked = form.querySelector(`[name="${name}"]:checked`) ||
        form.querySelector(`select[name="${name}"]`);
      return checked && values.split(",").includes(checked.value);
    });
    el.hidden = !visible;
    for (const input of el.querySelectorAll("input, select, textarea")) {
      if (!input.dataset.keepEnabled) input.disabled = !visible || input.dataset.locked === "true";
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-conditional]")) {
    syncConditional(form);
    form.addEventListener("change", () => syncConditional(form));
  }
});
