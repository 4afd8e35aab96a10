/* Warehouse staff screens. Own code, no dependency, progressive: every form works without it.
 *
 * - form[data-working]: on submit, the clicked button says "Working…", every submit button is
 *   disabled (no double submit), and the form is marked aria-busy (shows .working-note).
 * - input[data-scan-into]: Enter adds the scanned SKU to the line rows of the named formset,
 *   or adds one to its quantity when it is already there; the form is not submitted.
 * - [data-add-row]: adds an empty line row; [data-remove-row]: empties and hides a row.
 * - input[name$=mode] radios with [data-mode-field]: show only the field of the chosen mode.
 */
(function () {
  "use strict";

  function markWorking(form, submitter) {
    if (form.getAttribute("aria-busy") === "true") return false;
    form.setAttribute("aria-busy", "true");
    if (submitter && submitter.name) {
      // A disabled button is not sent with the form: carry its value in a hidden field.
      var carried = document.createElement("input");
      carried.type = "hidden";
      carried.name = submitter.name;
      carried.value = submitter.value;
      form.appendChild(carried);
    }
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
      if (submitter) {
        submitter.setAttribute("aria-busy", "true");
        submitter.dataset.label = submitter.textContent;
        submitter.textContent = "Working…";
      }
    }, 0);
    return true;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-working]")) return;
    if (!markWorking(form, event.submitter)) event.preventDefault();
  });

  // Coming back with the browser's Back button: the page may be restored as it was left.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy=true]").forEach(function (form) {
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[aria-busy=true]").forEach(function (button) {
        button.removeAttribute("aria-busy");
        if (button.dataset.label) button.textContent = button.dataset.label;
      });
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });

  function rowsOf(prefix) {
    return document.querySelector('[data-rows="' + prefix + '"]');
  }

  function addRow(prefix) {
    var rows = rowsOf(prefix);
    var template = document.getElementById(prefix + "-empty-row");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    if (!rows || !template || !total) return null;
    var index = parseInt(total.value, 10);
    var wrapper = document.createElement("div");
    wrapper.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).trim();
    var row = wrapper.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    return row;
  }

  function field(row, name) {
    return row.querySelector('[name$="-' + name + '"]');
  }

  function scan(input) {
    var prefix = input.dataset.scanInto;
    var code = input.value.trim();
    var status = document.getElementById(input.id + "-status");
    input.value = "";
    if (!code) return;
    var rows = rowsOf(prefix);
    var found = null;
    var empty = null;
    rows.querySelectorAll("[data-row]").forEach(function (row) {
      if (row.hidden) return;
      var sku = field(row, "sku");
      if (!sku) return;
      var value = sku.value.trim();
      if (value && value.toLowerCase() === code.toLowerCase() && !found) found = row;
      if (!value && !empty) empty = row;
    });
    var row = found || empty || addRow(prefix);
    if (!row) return;
    var quantity = field(row, "quantity");
    if (!found) {
      field(row, "sku").value = code;
      quantity.value = "";
    }
    var current = parseFloat((quantity.value || "0").replace(",", "."));
    quantity.value = String((isNaN(current) ? 0 : current) + 1);
    row.classList.add("flash");
    window.setTimeout(function () { row.classList.remove("flash"); }, 400);
    if (status) status.textContent = code + ": " + quantity.value;
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key !== "Enter" || !input.matches || !input.matches("input[data-scan-into]")) return;
    event.preventDefault();
    scan(input);
  });

  document.addEventListener("click", function (event) {
    var adder = event.target.closest("[data-add-row]");
    if (adder) {
      event.preventDefault();
      var row = addRow(adder.dataset.addRow);
      if (row) field(row, "sku").focus();
      return;
    }
    var remover = event.target.closest("[data-remove-row]");
    if (remover) {
      event.preventDefault();
      var line = remover.closest("[data-row]");
      line.querySelectorAll("input").forEach(function (input) {
        if (input.type !== "hidden") input.value = "";
      });
      line.hidden = true;
    }
  });

  function showMode(form) {
    var chosen = form.querySelector('input[name="mode"]:checked');
    if (!chosen) return;
    form.querySelectorAll("[data-mode-field]").forEach(function (wrapper) {
      wrapper.hidden = wrapper.dataset.modeField !== chosen.value;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "mode" && event.target.form) showMode(event.target.form);
  });

  document.querySelectorAll("form").forEach(showMode);
})();
