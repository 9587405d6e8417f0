// The queue's dialogs (reject with a reason, wait on the customer, log an activity). A row's button
// loads its lead's dialog with htmx into the page's one #lead-dialog; this opens it, and gives the
// focus back to the button when it closes. No inline scripts, so the pages keep working under a
// strict Content-Security-Policy. Without JavaScript the buttons are links to the lead page, whose
// plain forms do the same work.
(function () {
  "use strict";

  var opener = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "lead-dialog") opener = event.detail.elt;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "lead-dialog") return;
    var dialog = event.detail.target.querySelector("dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var from = opener;
    var row = from && from.closest("tr");
    var rowId = row && row.id;
    // Left in place when closed (the next dialog replaces it): a form inside may still be
    // waiting for its answer. The button it came from may be gone with its swapped row; the
    // focus then goes to the new row's lead link.
    dialog.addEventListener("close", function () {
      if (from && document.body.contains(from)) {
        from.focus();
      } else if (rowId && document.getElementById(rowId)) {
        var link = document.getElementById(rowId).querySelector("a, button");
        if (link) link.focus();
      }
    });
    dialog.showModal();
  });

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) open.close();
    }
  });

  // A dialog's form swaps its lead's row; close the dialog first so the page is not left inert.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var dialog = event.detail.requestConfig && event.detail.requestConfig.elt.closest("dialog");
    if (dialog && dialog.open) dialog.close();
  });
})();
