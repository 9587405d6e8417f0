// Open and close the queue's dialogs (reject with a reason, log an activity). No inline
// scripts, so the pages keep working under a strict Content-Security-Policy. Without
// JavaScript the dialogs stay closed and the lead page's plain forms do the same work.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && typeof dialog.showModal === "function") dialog.showModal();
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) open.close();
    }
  });

  // A dialog's form swaps the whole row, dialog included; close it first so the page is not left inert.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var dialog = event.detail.requestConfig && event.detail.requestConfig.elt.closest("dialog");
    if (dialog && dialog.open) dialog.close();
  });
})();
