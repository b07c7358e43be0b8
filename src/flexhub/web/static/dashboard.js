// Times: shown in the viewer's time zone, UTC on hover. Plots: drawn from the JSON the page holds.
(function () {
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      el.textContent = when.toLocaleString(undefined, {
        year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
      });
    });
  }
  function plots(root) {
    root.querySelectorAll("script[type='application/json'][data-plot]").forEach(function (el) {
      var target = document.getElementById(el.getAttribute("data-plot"));
      if (!target || !window.Plotly) return;
      var fig = JSON.parse(el.textContent);
      window.Plotly.newPlot(target, fig.data, fig.layout || {}, {displaylogo: false, responsive: true});
      target.setAttribute("data-drawn", "true");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    plots(document);
  });
})();
