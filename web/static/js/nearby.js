// Progressive enhancement for the nearby search and the handout. Every page works without it.
(function () {
  "use strict";

  // Parts that only make sense with JavaScript appear; the no-script hints go.
  document.querySelectorAll(".app-js-only").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll(".app-no-js").forEach(function (el) { el.hidden = true; });

  // GOV.UK pattern: move focus to the error summary so it is announced first.
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) { summary.focus(); }

  var form = document.getElementById("search-form");
  if (form) {
    var postcode = form.querySelector("#postcode");
    var lat = form.querySelector("#lat");
    var lon = form.querySelector("#lon");
    // Where to search from is either a postcode or a point: typing one clears the other, so
    // the search never has both.
    postcode.addEventListener("input", function () {
      if (postcode.value.trim()) { lat.value = ""; lon.value = ""; }
    });
    [lat, lon].forEach(function (box) {
      box.addEventListener("input", function () {
        if (box.value.trim()) { postcode.value = ""; }
      });
    });
    // "Search from here" on the map (assetmap.maps sends am:pick from the map container).
    document.addEventListener("am:pick", function (event) {
      postcode.value = "";
      lat.value = event.detail.lat;
      lon.value = event.detail.lon;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // A map printed at another width than it was drawn would be cut off or off-centre: let
  // Leaflet measure again when print styles apply. Folium names each map's global variable
  // after its container's id.
  function remeasureMaps() {
    document.querySelectorAll(".folium-map").forEach(function (el) {
      var map = window[el.id];
      if (map && typeof map.invalidateSize === "function") { map.invalidateSize(false); }
    });
  }
  if (window.matchMedia) {
    var print = window.matchMedia("print");
    if (print.addEventListener) { print.addEventListener("change", remeasureMaps); }
  }
  window.addEventListener("beforeprint", remeasureMaps);
  window.addEventListener("afterprint", remeasureMaps);
})();
