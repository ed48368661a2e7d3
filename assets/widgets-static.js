// Draws the book's widget views on the static website, most of them without the widget manager.
//
// Every view the book makes is an anywidget view: its stored state holds its own front end
// (`_esm`, an ES module, and `_css`) and all the data it shows; nothing needs a kernel. On a
// page whose views are all such views, this script draws them itself, as soon as the page is
// parsed: for each view it makes a small model over the stored state (get, set, on, off,
// save_changes: the calls the views make, with the change events a reader's clicks fire),
// adds the view's stylesheet, imports its module and calls its `render({model, el})`.
// That skips the widget manager's 3.6 MB script, which was most of the time a chapter's
// views took to appear.
//
// A page with any other widget (chapter 13's live-only controls) is drawn by the widget
// manager as before: require.js, widgets-setup.js and the manager's embed-amd.js, loaded in
// that order. Either way each view lands in a `div.widget-subarea` just before its
// <script type="application/vnd.jupyter.widget-view+json">, where the manager puts it.
(function () {
  "use strict";
  var here = document.currentScript.src;
  var base = here.slice(0, here.lastIndexOf("/") + 1);
  var STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  var VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  function useWidgetManager() {
    return loadScript(base + "require.js")
      .then(function () { return loadScript(base + "widgets-setup.js"); })
      .then(function () { return loadScript(base + "html-manager/embed-amd.js"); });
  }

  // Binary traits (bytes) are stored base64-encoded beside the state; the views read them as
  // DataView, as the widget manager gives them.
  function withBuffers(entry) {
    var state = Object.assign({}, entry.state);
    (entry.buffers || []).forEach(function (buffer) {
      var text = atob(buffer.data);
      var bytes = new Uint8Array(text.length);
      for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      var target = state;
      for (var j = 0; j < buffer.path.length - 1; j++) target = target[buffer.path[j]];
      target[buffer.path[buffer.path.length - 1]] = new DataView(bytes.buffer);
    });
    return state;
  }

  // The part of a widget model that a view uses, over the stored state. There is no kernel
  // to save to, so save_changes only keeps the values here.
  function staticModel(values) {
    var listeners = {};
    var model = {
      get: function (name) { return values[name]; },
      set: function (name, value) {
        values[name] = value;
        (listeners["change:" + name] || []).slice().forEach(function (callback) {
          callback(model, value);
        });
        (listeners.change || []).slice().forEach(function (callback) { callback(model); });
      },
      on: function (event, callback) {
        (listeners[event] = listeners[event] || []).push(callback);
      },
      off: function (event, callback) {
        if (!event) listeners = {};
        else if (!callback) delete listeners[event];
        else listeners[event] = (listeners[event] || []).filter(function (f) {
          return f !== callback;
        });
      },
      save_changes: function () {},
      send: function () {},
    };
    return model;
  }

  var modules = {};  // one import per distinct front end, however many views share it
  var imported = {};  // the modules already imported, to draw with no further wait

  function importModule(esm) {
    if (!modules[esm]) {
      var url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
      modules[esm] = import(url).then(function (module) {
        imported[esm] = module;
        return module;
      });
    }
    return modules[esm];
  }

  var styles = {};

  function addStyle(css) {
    if (!css || styles[css]) return;
    styles[css] = true;
    var style = document.createElement("style");
    style.textContent = css;
    document.head.appendChild(style);
  }

  function drawView(script, entry) {
    var values = withBuffers(entry);
    var area = document.createElement("div");
    area.className = "widget-subarea";
    script.parentElement.insertBefore(area, script);
    var el = document.createElement("div");
    el.className = "jupyter-widgets";
    area.appendChild(el);
    addStyle(values._css);
    var show = function (module) {
      var widget = module.default && module.default.render ? module.default : module;
      var model = staticModel(values);
      if (!widget.initialize) return Promise.resolve(widget.render({ model: model, el: el }));
      return Promise.resolve(widget.initialize({ model: model }))
        .then(function () { return widget.render({ model: model, el: el }); });
    };
    // An imported front end draws at once, in this task (before the page's deferred scripts).
    if (imported[values._esm]) {
      try {
        return show(imported[values._esm]);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return importModule(values._esm).then(show);
  }

  function storedModels() {
    var states = document.querySelectorAll(STATE);
    var models = {};
    for (var i = 0; i < states.length; i++) {
      Object.assign(models, JSON.parse(states[i].textContent).state);
    }
    return models;
  }

  // The page's state comes before this script (in the page's head): its views' front ends are
  // imported now, while the rest of the page is parsed, so that they are ready when it is.
  var early = storedModels();
  Object.keys(early).forEach(function (id) {
    var entry = early[id];
    if (entry.model_name === "AnyModel" && entry.state._esm) importModule(entry.state._esm);
  });

  function draw() {
    var models = Object.keys(early).length ? early : storedModels();
    var views = Array.prototype.map.call(document.querySelectorAll(VIEW), function (script) {
      return { script: script, entry: models[JSON.parse(script.textContent).model_id] };
    });
    var all = views.every(function (view) {
      return view.entry && view.entry.model_name === "AnyModel" && view.entry.state._esm;
    });
    if (!all) {
      useWidgetManager().catch(function (error) { console.error(error); });
      return;
    }
    views.forEach(function (view) {
      drawView(view.script, view.entry).catch(function (error) {
        console.error("a widget view could not be drawn:", error);
      });
    });
  }

  // As soon as the page is parsed ("interactive"), before the theme's deferred scripts run and
  // DOMContentLoaded fires (the icons script alone takes a few hundred milliseconds).
  if (document.readyState === "loading") {
    document.addEventListener("readystatechange", function parsed() {
      if (document.readyState === "loading") return;
      document.removeEventListener("readystatechange", parsed);
      draw();
    });
  } else {
    draw();
  }
})();
