// Loaded on every page with widgets, after require.js and before the widget manager.
//
// 1. Points require.js at the copies of the widget manager and anywidget that the site serves
//    itself. The manager's modules work out the address of their icon fonts from their own
//    require.js path, so those paths must name the folder the fonts were copied to;
//    anywidget's front end is found by its module name.
// 2. The widget manager typesets labels with MathJax 2's `MathJax.Hub.Queue`; the book uses
//    MathJax 3, which has no Hub, so a small shim forwards those calls to MathJax 3.
(function () {
  "use strict";
  var here = document.currentScript.src;
  var base = here.slice(0, here.lastIndexOf("/") + 1);
  var manager = base + "html-manager/";
  var paths = { anywidget: base + "anywidget/index" };
  [
    "@jupyter-widgets/base",
    "@jupyter-widgets/base7",
    "@jupyter-widgets/controls",
    "@jupyter-widgets/controls7",
    "@jupyter-widgets/html-manager",
    "@jupyter-widgets/html-manager/dist/libembed-amd",
  ].forEach(function (name) {
    paths[name] = manager + name.replace(/[^A-Za-z0-9]+/g, "_");
  });
  window.requirejs.config({ paths: paths });

  function addHub(mathjax) {
    if (!mathjax || typeof mathjax !== "object" || mathjax.Hub) return;
    mathjax.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && window.MathJax.typesetPromise) {
            var target = job[2];
            window.MathJax.typesetPromise(target ? [target] : undefined).catch(function (err) {
              console.warn("MathJax typesetting failed:", err);
            });
          }
        }
      },
    };
  }
  // MathJax 3 replaces the global object once it has loaded; re-add the shim each time.
  var current = window.MathJax;
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = value; addHub(value); },
  });
  addHub(current);
})();
