// Live reload for `cssblog serve`: added to pages as they are served, never written to disk.
(function () {
  "use strict";
  var script = document.currentScript;
  var generation = Number(script && script.dataset.generation) || 0;
  var overlay = null;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function showProblems(problems) {
    hideProblems();
    overlay = element("div", "cssblog-overlay");
    overlay.setAttribute("role", "alertdialog");
    overlay.setAttribute("aria-label", "Build error");
    var box = element("div", "cssblog-overlay-box");
    box.appendChild(element("h2", "", problems.length === 1 ? "The site did not build" :
      "The site did not build: " + problems.length + " problems"));
    problems.forEach(function (problem) {
      var item = element("section", "cssblog-problem");
      if (problem.location) item.appendChild(element("p", "cssblog-location", problem.location));
      item.appendChild(element("p", "cssblog-message", problem.message));
      if (problem.hint) item.appendChild(element("p", "cssblog-hint", "hint: " + problem.hint));
      if (problem.excerpt.length) {
        var pre = element("pre", "cssblog-excerpt");
        problem.excerpt.forEach(function (pair) {
          var row = element("span", pair[0] === problem.line ? "cssblog-line cssblog-here" : "cssblog-line",
            String(pair[0]).padStart(5, " ") + "  " + pair[1] + "\n");
          pre.appendChild(row);
        });
        item.appendChild(pre);
      }
      box.appendChild(item);
    });
    box.appendChild(element("p", "cssblog-note",
      "The last good version stays served underneath. Save a fix and this page updates by itself."));
    overlay.appendChild(box);
    document.body.appendChild(overlay);
  }

  function hideProblems() {
    if (overlay) {
      overlay.remove();
      overlay = null;
    }
  }

  function swapStylesheets(version) {
    document.querySelectorAll('link[rel="stylesheet"]').forEach(function (link) {
      var url = new URL(link.href, location.href);
      if (url.origin !== location.origin) return;
      url.searchParams.set("cssblog", String(version));
      link.href = url.href;
    });
  }

  var style = element("link");
  style.rel = "stylesheet";
  style.href = "/_cssblog/reload.css";
  document.head ? document.head.appendChild(style) : document.documentElement.appendChild(style);

  var events = new EventSource("/_cssblog/events?since=" + generation +
    "&path=" + encodeURIComponent(location.pathname));
  events.addEventListener("build", function (message) {
    var data = JSON.parse(message.data);
    if (data.problems.length) {
      showProblems(data.problems);
      generation = data.generation;
      return;
    }
    hideProblems();
    if (data.action === "reload") {
      events.close();
      location.reload();
      return;
    }
    if (data.action === "css") swapStylesheets(data.generation);
    generation = data.generation;
    document.documentElement.dataset.cssblogGeneration = String(generation);
  });
})();
