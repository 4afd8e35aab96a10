/* Inventory list. Progressive: the page works the same without it.
 *
 * - details[data-fold-on-phone]: on a narrow screen, the secondary filters start folded so
 *   that the list shows on the first screen; they stay open when some filter is in use.
 */
(function () {
  "use strict";
  if (window.matchMedia("(max-width: 700px)").matches) {
    document.querySelectorAll("details[data-fold-on-phone]").forEach(function (details) {
      details.open = false;
    });
  }
})();
