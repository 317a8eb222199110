// The therapy browser's filter panel (templates/treatments/therapy_list.html) is folded,
// so that on a phone the first result shows on the first screen. Where the screen is
// wide enough to show the filters beside the results, they are opened. Without this
// script the panel stays folded and opens with one tap.
(function () {
  var wide = window.matchMedia("(min-width: 60rem)");
  function openOnWideScreens() {
    if (!wide.matches) return;
    document.querySelectorAll("details.filter-panel").forEach(function (panel) {
      panel.open = true;
    });
  }
  openOnWideScreens();
  wide.addEventListener("change", openOnWideScreens);
})();
