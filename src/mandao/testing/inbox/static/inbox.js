// The sandbox inbox's live updates. Plain JavaScript, no build step, nothing from outside.
// The pages work without it; with it, /api/events (Server-Sent Events) brings each new
// message, reply, fault switch and clear, and the markup of what is inserted comes from the
// server (/fragments/...), the very markup the page was rendered with. The stream opens
// with ?after= the page's data-last-id (the last message number when it was rendered), so
// a message that arrived while the page loaded comes first; a page restored from the
// back/forward cache opens it again after the last message it saw.
(function () {
  "use strict";

  var live = document.getElementById("live");
  if (!live || !window.EventSource || !window.fetch) {
    return;
  }
  var page = document.body.getAttribute("data-page");
  var list = document.getElementById("messages");
  var thread = document.getElementById("thread");
  var empty = document.getElementById("empty");
  var queue = [];
  var busy = false;
  var MAX_QUEUE = 50; // more waiting than this: offer a reload instead of 50 fetches
  var panelsTimer = null;
  var container = list || thread;
  var lastId = parseInt((container && container.getAttribute("data-last-id")) || "0", 10) || 0;

  function setLive(text, on) {
    live.textContent = text;
    live.classList.toggle("on", Boolean(on));
  }

  function matches(message, q) {
    var query = (q || "").trim().toLowerCase();
    if (!query) {
      return true;
    }
    return message.mobile.toLowerCase().indexOf(query) >= 0 ||
      message.content.toLowerCase().indexOf(query) >= 0;
  }

  function fragment(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        return holder.content.firstElementChild;
      });
  }

  // One fetch at a time, in the order the events came: the newest ends up on top.
  function enqueue(task) {
    queue.push(task);
    if (queue.length > MAX_QUEUE) {
      queue = [];
      showMore();
    }
    run();
  }

  function run() {
    if (busy || queue.length === 0) {
      return;
    }
    busy = true;
    var task = queue.shift();
    var done = function () { busy = false; run(); };
    task().then(done, done);
  }

  function showMore() {
    var more = document.getElementById("more");
    if (more) {
      more.hidden = false;
    }
  }

  function bumpTotal(by) {
    var total = document.getElementById("total");
    if (total) {
      total.textContent = String(Math.max(0, parseInt(total.textContent, 10) + by));
    }
  }

  function has(container, attribute, value) {
    return container.querySelector("[" + attribute + '="' + String(value) + '"]') !== null;
  }

  // -- the message list (/) ------------------------------------------------------------
  function onListMessage(message) {
    refreshPanelsSoon();
    if (list.getAttribute("data-page") !== "1") {
      showMore();
      return;
    }
    if (!matches(message, list.getAttribute("data-q"))) {
      return;
    }
    enqueue(function () {
      if (has(list, "data-id", message.id)) {
        return Promise.resolve();
      }
      return fragment("/fragments/messages/" + message.id).then(function (node) {
        if (!node) {
          return;
        }
        list.insertBefore(node, list.firstElementChild);
        var limit = parseInt(list.getAttribute("data-per-page") || "50", 10);
        while (list.children.length > limit) {
          list.removeChild(list.lastElementChild);
        }
        if (empty) {
          empty.hidden = true;
        }
        bumpTotal(1);
      });
    });
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; });
  }

  // The accounts and faults panels, read again a moment after a message or a fault event
  // (one read for a burst of them).
  function refreshPanelsSoon() {
    if (panelsTimer !== null || !document.getElementById("accounts")) {
      return;
    }
    panelsTimer = window.setTimeout(function () {
      panelsTimer = null;
      getJson("/api/accounts").then(showAccounts).catch(function () {});
      getJson("/api/faults").then(showFaults).catch(function () {});
    }, 300);
  }

  function showFaults(data) {
    if (!data) {
      return;
    }
    data.hosts.forEach(function (host) {
      showHost(host.name, host.state, host.faults);
    });
  }

  function showAccounts(data) {
    if (!data) {
      return;
    }
    data.accounts.forEach(function (account) {
      var box = document.querySelector('.account[data-sn="' + account.sn + '"]');
      if (!box) {
        return;
      }
      box.querySelector(".balance").textContent = String(account.balance);
      var limit = account.max_in_flight === null ? "no limit" : String(account.max_in_flight);
      box.querySelector(".in-flight").textContent = account.in_flight + " of " + limit;
      box.querySelector(".next-request").textContent = Object.keys(account.next_request)
        .map(function (host) { return host + ": " + (account.next_request[host] || "accepted"); })
        .join("; ");
    });
  }

  // One host's line in the faults panel, and its select (unless someone is choosing in it).
  function showHost(name, hostState, faults) {
    var line = document.getElementById("host-state-" + name);
    if (!line) {
      return;
    }
    var kinds = faults.map(function (fault) { return " · " + fault.kind; }).join("");
    var state = line.querySelector(".state");
    state.textContent = hostState;
    while (state.nextSibling) {
      line.removeChild(state.nextSibling);
    }
    line.appendChild(document.createTextNode(kinds));
    var select = document.getElementById("fault-kind-" + name);
    if (select && document.activeElement !== select) {
      select.value = hostState !== "up" ? "down" : (faults.length ? faults[0].kind : "");
    }
  }

  function onFault(change) {
    if (change.change === "switched") {
      showHost(change.host, change.state, change.faults);
    }
    // A fault that fired may be spent (times), and the accounts may have moved.
    refreshPanelsSoon();
  }

  // -- a thread (/threads/MOBILE) --------------------------------------------------------
  function append(url, attribute, id) {
    enqueue(function () {
      if (has(thread, attribute, id)) {
        return Promise.resolve();
      }
      return fragment(url).then(function (node) {
        if (!node) {
          return;
        }
        thread.appendChild(node);
        if (empty) {
          empty.hidden = true;
        }
        node.scrollIntoView({ block: "nearest" });
      });
    });
  }

  function onThreadMessage(message) {
    if (message.mobile === thread.getAttribute("data-mobile")) {
      append("/fragments/bubbles/" + message.id, "data-id", message.id);
    }
  }

  function onThreadReply(reply) {
    if (reply.mobile === thread.getAttribute("data-mobile")) {
      append("/fragments/replies/" + reply.id, "data-reply-id", reply.id);
    }
  }

  function onCleared() {
    var container = list || thread;
    if (!container) {
      return;
    }
    queue = [];
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    if (empty) {
      empty.hidden = false;
    }
    var total = document.getElementById("total");
    if (total) {
      total.textContent = "0";
    }
  }

  // -- the stream ------------------------------------------------------------------------
  var source = null;

  function on(kind, handler) {
    source.addEventListener(kind, function (event) {
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (kind === "message" && data.id > lastId) {
        lastId = data.id;
      }
      handler(data);
    });
  }

  function connect() {
    // after=: what the page (or the stream before it) already has; a reconnect of this
    // EventSource sends Last-Event-ID, which the server prefers.
    source = new EventSource("/api/events?after=" + String(lastId));
    var mine = source;
    setLive("connecting…", false);
    source.addEventListener("open", function () { setLive("live", true); });
    source.addEventListener("error", function () {
      setLive(mine.readyState === EventSource.CLOSED ? "offline" : "reconnecting…", false);
    });
    if (page === "index" && list) {
      on("message", onListMessage);
      on("fault", onFault);
      on("cleared", onCleared);
      on("skipped", showMore);
    } else if (page === "thread" && thread) {
      on("message", onThreadMessage);
      on("reply", onThreadReply);
      on("cleared", onCleared);
    }
  }

  connect();
  window.addEventListener("pagehide", function () {
    if (source) {
      source.close();
      source = null;
    }
  });
  window.addEventListener("pageshow", function (event) {
    // Back from the back/forward cache: the stream closed on pagehide; open it again
    // after the last message this page saw.
    if (event.persisted && source === null) {
      connect();
    }
  });
}());
