// The page's MathJax (Sphinx's `mathjax_path` points here), loaded when it no longer competes
// with the page's widget views.
//
// MathJax (1.2 MB) typesets every formula of a chapter as soon as it runs, on the main thread;
// the widget manager needs that thread to draw the views. So, on a page with widget views,
// MathJax is loaded once every view has been drawn (or, if the views cannot be drawn, soon
// after the page has loaded); on any other page at once. MathJax 3 typesets the whole page
// when it starts, whenever that is, including any formula in the views' labels.
(function () {
  "use strict";
  var here = document.currentScript.src;
  var base = here.slice(0, here.lastIndexOf("/") + 1);
  var SPECS = 'script[type="application/vnd.jupyter.widget-view+json"]';
  var requested = false;

  function loadMathJax() {
    if (requested) return;
    requested = true;
    var script = document.createElement("script");
    script.src = base + "mathjax/tex-chtml.js";
    script.async = true;
    document.head.appendChild(script);
  }

  function viewsDrawn(expected) {
    var views = document.querySelectorAll(".widget-subarea");
    if (views.length < expected) return false;
    for (var i = 0; i < views.length; i++) {
      if (views[i].childElementCount === 0) return false;
    }
    return true;
  }

  function whenParsed() {
    var expected = document.querySelectorAll(SPECS).length;
    if (expected === 0 || viewsDrawn(expected)) {
      loadMathJax();
      return;
    }
    var observer = new MutationObserver(function () {
      if (viewsDrawn(expected)) {
        observer.disconnect();
        // After the frame that shows the views.
        window.requestAnimationFrame(function () { setTimeout(loadMathJax, 0); });
      }
    });
    observer.observe(document.body, { childList: true, subtree: true });
    // The formulas must not wait on views that fail to draw.
    var fallback = function () { setTimeout(loadMathJax, 3000); };
    if (document.readyState === "complete") fallback();
    else window.addEventListener("load", fallback);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", whenParsed);
  } else {
    whenParsed();
  }
})();
