// leadflow's own progressive enhancement. Every page works without it: this only
// asks before a reject and refreshes the "time left" of SLA deadlines every minute.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  var loaded = Date.now();
  function span(seconds) {
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) { return minutes + " min"; }
    var hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (hours < 48) { return rest ? hours + " h " + rest + " min" : hours + " h"; }
    return Math.floor(hours / 24) + " d";
  }
  var clocks = Array.prototype.slice.call(document.querySelectorAll("[data-due-seconds]"));
  if (!clocks.length) { return; }
  window.setInterval(function () {
    var passed = (Date.now() - loaded) / 1000;
    clocks.forEach(function (clock) {
      var left = parseFloat(clock.getAttribute("data-due-seconds")) - passed;
      clock.textContent = left >= 0 ? span(left) + " left" : "late by " + span(-left);
      clock.classList.toggle("late", left < 0);
    });
  }, 60000);
})();
