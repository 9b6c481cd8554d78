// Resident forms: error summary focus, the location map, and likely duplicates while typing.
//
// Everything here is an enhancement: without JavaScript the forms work with the postcode and
// address fields, and duplicates are shown on the check page by the server. Text from the
// server (place names, addresses) is only ever set with textContent, never as HTML.
(function () {
  "use strict";

  // GOV.UK pattern: move focus to the error summary, and let its links focus the field.
  function setUpErrorSummary() {
    var summary = document.querySelector(".govuk-error-summary");
    if (!summary) {
      return;
    }
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) {
        return;
      }
      var input = document.getElementById(link.getAttribute("href").slice(1));
      if (!input) {
        return;
      }
      event.preventDefault();
      var legend = input.closest("fieldset") && input.closest("fieldset").querySelector("legend");
      var label = document.querySelector("label[for='" + input.id + "']");
      (legend || label || input).scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  function roundTo(value, places) {
    var factor = Math.pow(10, places);
    return Math.round(value * factor) / factor;
  }

  // The small map: a click (or "Use the middle of the map") fills the hidden lon/lat fields.
  function setUpMap(onChange) {
    var block = document.getElementById("location-map-block");
    var element = document.getElementById("location-map");
    var lon = document.getElementById("lon");
    var lat = document.getElementById("lat");
    if (!block || !element || !lon || !lat || typeof window.L === "undefined") {
      return;
    }
    var L = window.L;
    var chosen = document.getElementById("location-chosen");
    var centreButton = document.getElementById("location-centre");
    var clearButton = document.getElementById("location-clear");
    block.hidden = false;
    var start = [parseFloat(element.dataset.lat), parseFloat(element.dataset.lon)];
    var map = L.map(element, {
      center: start,
      zoom: parseInt(element.dataset.zoom, 10) || 12,
      keyboard: true,
    });
    // Credits come as HTML the server built and escaped (Leaflet inserts them as HTML).
    if (element.dataset.tileUrl) {
      L.tileLayer(element.dataset.tileUrl, {
        attribution: element.dataset.tileAttribution || "",
        maxZoom: 19,
      }).addTo(map);
    }
    if (element.dataset.credits && map.attributionControl) {
      map.attributionControl.addAttribution(element.dataset.credits);
    }
    var marker = null;

    function show(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = L.circleMarker(latlng, {
          radius: 9,
          color: "#0b0c0c",
          weight: 3,
          fillColor: "#ffdd00",
          fillOpacity: 1,
          className: "app-location__marker",
        }).addTo(map);
      }
      chosen.textContent =
        "You chose the place at latitude " + lat.value + ", longitude " + lon.value + ".";
      clearButton.hidden = false;
    }

    function choose(latlng) {
      lat.value = roundTo(latlng.lat, 6).toFixed(6);
      lon.value = roundTo(L.Util.wrapNum(latlng.lng, [-180, 180], true), 6).toFixed(6);
      show(latlng);
      onChange();
    }

    map.on("click", function (event) {
      choose(event.latlng);
    });
    centreButton.addEventListener("click", function () {
      choose(map.getCenter());
    });
    clearButton.addEventListener("click", function () {
      lon.value = "";
      lat.value = "";
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      chosen.textContent = "The marker has been removed. We will use the postcode.";
      clearButton.hidden = true;
      centreButton.focus();
      onChange();
    });
    if (lon.value && lat.value) {
      var kept = L.latLng(parseFloat(lat.value), parseFloat(lon.value));
      map.setView(kept, 16);
      show(kept);
    }
  }

  // Likely duplicates: ask the API for published places nearby with a similar name.
  function setUpDuplicates() {
    var box = document.getElementById("duplicates");
    var list = document.getElementById("duplicates-list");
    var status = document.getElementById("duplicates-status");
    var announce = document.getElementById("duplicates-chosen");
    var sameAs = document.getElementById("same_as_choice");
    var name = document.getElementById("name");
    var postcode = document.getElementById("postcode");
    var lon = document.getElementById("lon");
    var lat = document.getElementById("lat");
    if (!box || !list || !announce || !sameAs || !name || !postcode || !window.fetch) {
      return function () {};
    }
    var timer = null;
    var latest = 0;

    function chosenText(item) {
      return "You said this is the same place as " + item.name + ".";
    }

    // Hidden text, for screen readers and voice control: where a place is, when another
    // result has the same name, so its link and button are not named alike.
    function whereIfNamesake(item, results) {
      var namesake = results.some(function (other) {
        return other.id !== item.id && other.name === item.name;
      });
      var where = [item.address, item.postcode].filter(Boolean).join(", ");
      return namesake && where ? " at " + where : "";
    }

    function appendHidden(element, text) {
      if (text) {
        var extra = document.createElement("span");
        extra.className = "govuk-visually-hidden";
        extra.textContent = text;
        element.appendChild(extra);
      }
    }

    function render(results) {
      list.textContent = "";
      if (!results.length) {
        box.hidden = true;
        status.textContent = "";
        announce.textContent = "";
        return;
      }
      results.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "app-duplicates__item";
        var link = document.createElement("a");
        link.className = "govuk-link";
        link.href = item.url;
        link.target = "_blank";
        link.rel = "noopener";
        var at = whereIfNamesake(item, results);
        link.textContent = item.name;
        appendHidden(link, at);
        link.appendChild(document.createTextNode(" (opens in new tab)"));
        var where = document.createElement("span");
        where.className = "govuk-hint app-duplicates__where";
        var parts = [item.category_label, item.address, item.postcode].filter(Boolean);
        parts.push(
          item.distance_m < 10
            ? "less than 10 metres away"
            : "about " + Math.round(item.distance_m / 10) * 10 + " metres away",
        );
        where.textContent = parts.join(" – ");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "govuk-button govuk-button--secondary app-duplicates__same";
        var chosen = sameAs.value === item.id;
        // Every button shows the same label, so its accessible name adds the place, after the
        // label so voice control users can say what they see (WCAG 2.4.6, 2.5.3, 4.1.2).
        button.textContent = chosen ? "This is not the same place" : "This is the same place";
        appendHidden(button, " as " + item.name + at);
        // What the resident chose, to see; it is announced through #duplicates-chosen, as this
        // note is drawn anew with the list and screen readers miss a live region's first text.
        var note = document.createElement("p");
        note.className = "govuk-body app-duplicates__chosen";
        if (chosen) {
          note.textContent = chosenText(item);
        }
        button.addEventListener("click", function () {
          var choosing = sameAs.value !== item.id;
          sameAs.value = choosing ? item.id : "";
          render(results);
          announce.textContent = choosing
            ? chosenText(item)
            : "You said this is not the same place as " + item.name + ".";
          var again = list.querySelectorAll(".app-duplicates__same");
          results.forEach(function (other, index) {
            if (other.id === item.id) {
              again[index].focus();
            }
          });
        });
        li.appendChild(link);
        li.appendChild(where);
        li.appendChild(button);
        li.appendChild(note);
        list.appendChild(li);
      });
      box.hidden = false;
      status.textContent =
        results.length === 1
          ? "1 place nearby has a similar name."
          : results.length + " places nearby have a similar name.";
    }

    function look() {
      var params = new URLSearchParams();
      var typed = name.value.trim();
      if (typed.length < 3) {
        render([]);
        return;
      }
      params.set("name", typed);
      if (lon.value && lat.value) {
        params.set("lon", lon.value);
        params.set("lat", lat.value);
      } else if (postcode.value.replace(/\s+/g, "").length >= 5) {
        params.set("postcode", postcode.value.trim());
      } else {
        render([]);
        return;
      }
      var ticket = ++latest;
      fetch(box.dataset.url + "?" + params.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (body) {
          if (ticket === latest) {
            render(body.results || []);
          }
        })
        .catch(function () {
          // No hints when offline or the lookup fails; the check page still shows them.
        });
    }

    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(look, 400);
    }

    name.addEventListener("input", soon);
    postcode.addEventListener("input", soon);
    look();
    return soon;
  }

  setUpErrorSummary();
  var lookAgain = setUpDuplicates();
  setUpMap(lookAgain);
})();
