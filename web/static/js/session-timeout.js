// The signing-out warning for staff (WCAG 2.2 success criterion 2.2.1, Timing Adjustable).
//
// A staff session ends after a spell without activity. Two minutes before that, a modal
// dialog says so, counts down and offers "Stay signed in", which asks the server to keep the
// session going. The server's word is final: before warning, and when the count reaches
// zero, the page asks how long is left, since the person may have been busy in another tab.
// Escape counts as "Stay signed in": nobody is signed out for closing a dialog.
(function () {
  "use strict";

  var dialog = document.getElementById("app-timeout");
  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }
  var WARN_S = 120;
  var warning = dialog.querySelector(".app-timeout__warning");
  var ended = dialog.querySelector(".app-timeout__ended");
  var countdown = dialog.querySelector(".app-timeout__countdown");
  var announce = dialog.querySelector(".app-timeout__announce");
  var csrf = document.querySelector(".app-header__account-form input[name='csrf_token']");
  var endsAt = 0; // Date.now() when the session ends, as last heard from the server
  var timer = null;
  var ticker = null;
  var lastSaid = "";

  function secondsLeft() {
    return Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
  }

  function inWords(seconds) {
    if (seconds > 60) {
      var minutes = Math.ceil(seconds / 60);
      return minutes + " minutes";
    }
    return seconds === 1 ? "1 second" : seconds + " seconds";
  }

  function schedule(seconds) {
    endsAt = Date.now() + seconds * 1000;
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(0, seconds - WARN_S) * 1000);
  }

  // Asks the server how long is left, without counting as activity.
  function check() {
    window
      .fetch(dialog.getAttribute("data-status-url"), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        if (!answer.signed_in || answer.seconds_left <= 0) {
          showEnded();
        } else if (answer.seconds_left > WARN_S) {
          closeWarning();
          schedule(answer.seconds_left);
        } else {
          endsAt = Date.now() + answer.seconds_left * 1000;
          showWarning();
        }
      })
      .catch(function () {
        // The server could not be asked: go by this page's own reckoning (and at zero, do
        // not ask again at once, which would ask without end while the server is away).
        if (secondsLeft() <= 0) {
          showEnded();
        } else {
          showWarning();
        }
      });
  }

  function tick() {
    var left = secondsLeft();
    var words = inWords(left);
    countdown.textContent = words;
    // Screen readers hear the time at each whole minute and every 20 seconds in the last one,
    // not every second.
    var said = left > 60 ? words : inWords(Math.ceil(left / 20) * 20);
    if (said !== lastSaid && left > 0) {
      lastSaid = said;
      announce.textContent = "We will sign you out in " + said + ".";
    }
    if (left <= 0) {
      window.clearInterval(ticker);
      ticker = null;
      check();
    }
  }

  function showWarning() {
    warning.hidden = false;
    ended.hidden = true;
    dialog.setAttribute("aria-labelledby", "app-timeout-heading");
    dialog.setAttribute("aria-describedby", "app-timeout-message");
    lastSaid = "";
    tick();
    if (!dialog.open) {
      dialog.showModal();
    }
    if (!ticker) {
      ticker = window.setInterval(tick, 1000);
    }
  }

  function closeWarning() {
    window.clearInterval(ticker);
    ticker = null;
    if (dialog.open) {
      dialog.close();
    }
  }

  function showEnded() {
    window.clearInterval(ticker);
    ticker = null;
    window.clearTimeout(timer);
    warning.hidden = true;
    ended.hidden = false;
    announce.textContent = "";
    dialog.setAttribute("aria-labelledby", "app-timeout-ended-heading");
    dialog.setAttribute("aria-describedby", "app-timeout-ended-message");
    if (!dialog.open) {
      dialog.showModal();
    }
    ended.querySelector(".app-timeout__close").focus();
  }

  function staySignedIn() {
    window
      .fetch(dialog.getAttribute("data-keep-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
      })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        if (!answer.signed_in) {
          showEnded();
          return;
        }
        closeWarning();
        schedule(answer.seconds_left);
      })
      .catch(function () {
        announce.textContent = "We could not reach the server. Try again.";
      });
  }

  dialog.querySelector(".app-timeout__stay").addEventListener("click", staySignedIn);
  dialog.querySelector(".app-timeout__leave").addEventListener("click", function () {
    var form = document.querySelector(".app-header__account-form");
    if (form) {
      form.requestSubmit();
    }
  });
  dialog.querySelector(".app-timeout__close").addEventListener("click", function () {
    dialog.close();
  });
  dialog.addEventListener("cancel", function (event) {
    if (!warning.hidden) {
      event.preventDefault();
      staySignedIn();
    }
  });

  schedule(Number(dialog.getAttribute("data-seconds-left")));
})();
