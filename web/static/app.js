// cmcsync selection page. Plain JavaScript, no build step, no dependencies.
// Talks to the JSON API under /api/ (docs/API.md).
(function () {
  "use strict";

  var TOKEN_KEY = "cmcsync.token";
  var POLL_MS = 2000;
  var LIMITS = {
    intervalMin: 1, intervalMax: 86400,        // seconds
    thresholdMin: 10, thresholdMax: 600000     // milliseconds
  };

  var state = {
    token: "",
    types: [],          // [{name,title,holds,why_backup,typical_size,change_rate,capacity_bytes,region_bytes}]
    config: null,       // last config from the server
    status: null,
    rounds: [],
    current: "",        // type whose explanation is shown
    dirty: false,
    online: true,       // the last poll reached the daemon
    lastReached: null,  // when it last did
    syncing: false      // a "Sync now" is running
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") { e.textContent = attrs[k]; }
        else if (k === "className") { e.className = attrs[k]; }
        else { e.setAttribute(k, attrs[k]); }
      });
    }
    (children || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }

  // ---- formatting -------------------------------------------------------

  function fmtBytes(n) {
    if (n === undefined || n === null) { return "–"; }
    if (n < 1024) { return n + " B"; }
    var units = ["KiB", "MiB", "GiB"], v = n / 1024, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + units[i];
  }

  // Three significant digits at most, no trailing zeros.
  function short(v) { return String(parseFloat(v.toPrecision(3))); }

  function fmtSeconds(s) {
    if (s === 0) { return "0 ms"; }
    if (s < 1) { return short(s * 1000) + " ms"; }
    if (s < 60) { return short(s) + " s"; }
    return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  }

  function isSet(t) { return t && t.slice(0, 4) !== "0001"; }

  function fmtTime(t) {
    var d = new Date(t);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  // due: t is a deadline, so a past one reads "due now".
  function fmtRelative(t, due) {
    var diff = (new Date(t).getTime() - Date.now()) / 1000, a = Math.abs(diff), txt;
    if (a < 1.5) { return "now"; }
    if (diff < 0 && due) { return "due now"; }
    if (a < 90) { txt = Math.round(a) + " s"; }
    else if (a < 5400) { txt = Math.round(a / 60) + " min"; }
    else { txt = Math.round(a / 3600) + " h"; }
    return diff < 0 ? txt + " ago" : "in " + txt;
  }

  function typeTitle(name) {
    for (var i = 0; i < state.types.length; i++) { if (state.types[i].name === name) { return state.types[i].title; } }
    return name;
  }

  // ---- API --------------------------------------------------------------

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["Content-Type"] = "application/json"; }
    // The token goes with reads too: a server reachable from other hosts
    // needs it for them (docs/API.md, Security).
    if (state.token) { headers["Authorization"] = "Bearer " + state.token; }
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) { init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (resp) {
      if (resp.status === 204) { return { ok: true, status: 204, data: null }; }
      return resp.json().then(function (data) {
        return { ok: resp.ok, status: resp.status, data: data };
      }, function () {
        return { ok: false, status: resp.status, data: { error: "unexpected response (" + resp.status + ")" } };
      });
    }, function (err) {
      return { ok: false, status: 0, data: { error: "cannot reach the daemon: " + err.message } };
    });
  }

  // ---- notices ------------------------------------------------------------
  //
  // Each notice has a key saying what it is about, and leaves when that no
  // longer applies:
  //   offline  the daemon does not answer: until a poll reaches it again;
  //   token    the token is missing or refused: until a token is accepted;
  //   load     the types could not be loaded: until they are;
  //   action   the outcome of the last action: a success for NOTICE_OK_MS,
  //            a failure until the engine's state moves on (a new
  //            generation, an upgrade choice, a failover, another error) or
  //            the next action starts.

  var NOTICE_KEYS = ["offline", "token", "load", "action"];
  var NOTICE_OK_MS = 10000;
  var notices = {};

  function setNotice(key, text, kind) {
    if (!text) { delete notices[key]; }
    else { notices[key] = { text: text, kind: kind || "", at: Date.now(), seen: null }; }
    renderNotices();
  }

  function renderNotices() {
    var box = $("notices");
    box.textContent = "";
    NOTICE_KEYS.forEach(function (k) {
      var n = notices[k];
      if (n) { box.appendChild(el("p", { className: "notice" + (n.kind ? " notice-" + n.kind : ""), "data-key": k, text: n.text })); }
    });
    box.hidden = !box.firstChild;
  }

  // statusPrint is what an action's failure notice is about: when it
  // changes, the failure is history.
  function statusPrint(st) {
    return [st.generation, st.active, !!st.upgrade, st.last_error || ""].join("|");
  }

  function expireNotices(st) {
    var n = notices.action;
    if (!n) { return; }
    if (n.kind === "ok" && Date.now() - n.at > NOTICE_OK_MS) { setNotice("action", ""); return; }
    if (!st) { return; }
    var p = statusPrint(st);
    if (n.seen === null) { n.seen = p; } else if (n.seen !== p) { setNotice("action", ""); }
  }

  // A change needs the token; returns false (and points at the token box) without one.
  function needToken() {
    if (state.token) { return false; }
    setNotice("token", "Paste the API token first: changes need it.", "bad");
    $("token-input").focus();
    return true;
  }

  // handleAuthFailure explains a 401; quiet (for polls) leaves the focus
  // where the user has it.
  function handleAuthFailure(r, quiet) {
    if (r.status === 401) {
      setAuthState("rejected");
      setNotice("token", state.token
        ? "The API token was refused. Paste the token that cmcsync serve printed (state folder, file api-token)."
        : "This server shows nothing without the API token: paste the token that cmcsync serve printed (state folder, file api-token).", "bad");
      if (!quiet) { $("token-input").focus(); }
      return true;
    }
    return false;
  }

  // ---- token ------------------------------------------------------------

  function setAuthState(s) {
    var panel = $("auth-panel"), text = $("auth-state"), forget = $("token-forget"), form = $("auth-form");
    panel.classList.toggle("auth-ok", s === "ok");
    forget.hidden = !state.token;
    if (s === "ok") {
      setNotice("token", "");
      text.textContent = "Token accepted: changes are enabled in this browser.";
      text.className = "";
      form.querySelector("input").hidden = true;
      form.querySelector("button[type=submit]").hidden = true;
    } else {
      form.querySelector("input").hidden = false;
      form.querySelector("button[type=submit]").hidden = false;
      text.className = s === "rejected" ? "save-state bad" : "muted";
      text.textContent = s === "rejected"
        ? "This token was refused. Paste the one in the state folder's api-token file (deleting that file makes a new token at the next start)."
        : "Read-only until you paste the API token: it is in the state folder's api-token file (cmcsync serve also prints it on a first start in a terminal).";
    }
  }

  function checkToken() {
    if (!state.token) { setAuthState("none"); return Promise.resolve(); }
    return api("GET", "/api/auth").then(function (r) {
      if (r.ok) { setAuthState("ok"); return load(); }
      if (r.status === 401) { setAuthState("rejected"); }
    });
  }

  function initToken() {
    // The URL printed by cmcsync serve carries the token once, in the
    // fragment (never sent to the server); keep it and clean the address.
    var m = /(?:^|[#&])token=([A-Za-z0-9_\-]+)/.exec(location.hash);
    if (m) {
      try { localStorage.setItem(TOKEN_KEY, m[1]); } catch (e) { /* storage disabled: keep it for this page only */ }
      state.token = m[1];
      history.replaceState(null, "", location.pathname + location.search);
    } else {
      try { state.token = localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { state.token = ""; }
    }
    $("auth-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = $("token-input").value.trim();
      if (!v) { setNotice("token", "Paste the token first.", "bad"); return; }
      state.token = v;
      try { localStorage.setItem(TOKEN_KEY, v); } catch (e) { /* keep for this page */ }
      $("token-input").value = "";
      checkToken();
    });
    $("token-forget").addEventListener("click", function () {
      state.token = "";
      try { localStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing stored */ }
      setAuthState("none");
    });
  }

  // ---- options and the fixed explanation area ----------------------------

  // Each option is a checkbox, which alone toggles the choice, and a title
  // button, which only explains: reading an explanation (click, focus or
  // hover anywhere on the option) never changes what is chosen.
  function renderOptions() {
    var ul = $("type-options");
    ul.textContent = "";
    state.types.forEach(function (t) {
      var box = el("input", { type: "checkbox", name: "type", value: t.name, id: "type-" + t.name,
        "aria-labelledby": "title-" + t.name, "aria-describedby": "explanation" });
      box.addEventListener("change", markDirty);
      var info = el("button", { type: "button", className: "option-info", id: "info-" + t.name, "aria-controls": "explanation",
        title: "Show the explanation (does not change the selection)" }, [
        el("span", { className: "option-title", id: "title-" + t.name, text: t.title }),
        el("span", { className: "option-name", text: t.name })
      ]);
      info.addEventListener("click", function () { explain(t.name); });
      var li = el("li", { className: "option", "data-type": t.name }, [
        el("span", { className: "option-check" }, [box]),
        info,
        el("span", { className: "badge badge-muted", id: "opt-state-" + t.name, text: "…" })
      ]);
      ["focusin", "mouseenter"].forEach(function (ev) {
        li.addEventListener(ev, function () { explain(t.name); });
      });
      ul.appendChild(li);
    });
  }

  function explain(name) {
    var t = null;
    state.types.forEach(function (x) { if (x.name === name) { t = x; } });
    if (!t) { return; }
    state.current = name;
    Array.prototype.forEach.call(document.querySelectorAll(".option"), function (li) {
      li.classList.toggle("current", li.getAttribute("data-type") === name);
    });
    var area = $("explanation");
    area.textContent = "";
    area.setAttribute("data-type", name);
    area.appendChild(el("h3", { text: t.title }));
    area.appendChild(el("dl", {}, [
      el("div", {}, [el("dt", { text: "What it holds" }), el("dd", { text: t.holds })]),
      el("div", {}, [el("dt", { text: "Why the backup needs it" }), el("dd", { text: t.why_backup })]),
      el("div", { className: "facts" }, [
        sizeFact(t),
        el("div", {}, [el("dt", { text: "How often it changes" }), el("dd", { text: t.change_rate })])
      ]),
      explainState(name)
    ]));
  }

  // The size quoted is the running region's, from the API; the descriptive
  // typical_size text (written for a reference region) only when the daemon
  // does not say.
  function sizeFact(t) {
    if (t.capacity_bytes) {
      var where = t.region_bytes ? " in this CMC's " + fmtBytes(t.region_bytes) + " information region" : " in this CMC's information region";
      return el("div", { "data-size": "running" }, [el("dt", { text: "Size here" }), el("dd", { text: "Room for up to " + fmtBytes(t.capacity_bytes) + where + "." })]);
    }
    return el("div", { "data-size": "typical" }, [el("dt", { text: "Typical size" }), el("dd", { text: t.typical_size })]);
  }

  function explainState(name) {
    if (!state.status) { return null; }
    var ts = null;
    state.status.types.forEach(function (x) { if (x.name === name) { ts = x; } });
    if (!ts) { return null; }
    var cap = null;
    state.types.forEach(function (x) { if (x.name === name) { cap = x.capacity_bytes; } });
    var held = ts.size ? ", " + fmtBytes(ts.size) + " on the backup" + (cap ? " (" + Math.round(100 * ts.size / cap) + "% of its room)" : "") : "";
    var txt = stateLabel(ts.state) + held + (ts.generation ? " (generation " + ts.generation + ")" : "");
    return el("div", {}, [el("dt", { text: "On the backup now" }), el("dd", { text: txt })]);
  }

  function stateLabel(s) {
    return { "synced": "Synced", "pending": "Pending", "not-selected": "Not selected", "not-synced": "Not synced", "damaged": "Damaged", "error": "Error" }[s] || s;
  }
  function stateClass(s) {
    return { "synced": "badge-ok", "pending": "badge-warn", "not-selected": "badge-muted", "not-synced": "badge-warn", "damaged": "badge-warn", "error": "badge-bad" }[s] || "badge-muted";
  }

  // ---- the configuration form --------------------------------------------

  function markDirty() {
    state.dirty = true;
    $("dirty-state").textContent = "Unsaved changes";
    var s = $("save-state");
    s.textContent = "";
    s.className = "save-state";
  }

  function fillForm(c) {
    Array.prototype.forEach.call(document.querySelectorAll("input[name=type]"), function (b) {
      b.checked = c.types.indexOf(b.value) >= 0;
    });
    $("interval").value = String(Math.round(c.interval_seconds));
    $("threshold").value = String(Math.round(c.threshold_seconds * 1000));
    $("groupSize").value = String(c.group_size);
    $("verify").checked = !!c.verify;
    $("retryAtOnce").checked = !!c.retry_at_once;
    state.dirty = false;
    $("dirty-state").textContent = "";
    clearErrors();
  }

  function clearErrors() {
    ["types", "interval", "threshold", "groupSize"].forEach(function (f) {
      $(f + "-error").textContent = "";
      var input = $(f);
      if (input) { input.removeAttribute("aria-invalid"); }
    });
  }

  // The API's field names (docs/API.md) to the form's element ids.
  var FIELD_IDS = { interval_seconds: "interval", threshold_seconds: "threshold", group_size: "groupSize" };

  function fieldError(field, msg) {
    field = FIELD_IDS[field] || field;
    var box = $(field + "-error");
    if (!box) { return false; }
    box.textContent = msg;
    var input = $(field);
    if (input) { input.setAttribute("aria-invalid", "true"); }
    return true;
  }

  function wholeNumber(v) { return /^\d+$/.test(v.trim()); }

  // Client-side validation: the same limits the API enforces.
  function readForm() {
    var errs = [], c = { types: [], verify: $("verify").checked, retry_at_once: $("retryAtOnce").checked };
    Array.prototype.forEach.call(document.querySelectorAll("input[name=type]"), function (b) {
      if (b.checked) { c.types.push(b.value); }
    });
    if (!c.types.length) {
      // The API refuses an empty selection too (docs/API.md, Config).
      errs.push(["types", "Select at least one information type: a sync of nothing is not saved."]);
    }
    var iv = $("interval").value, th = $("threshold").value, gs = $("groupSize").value;
    if (!wholeNumber(iv)) {
      errs.push(["interval", "Enter the sync interval as a whole number of seconds."]);
    } else if (+iv < LIMITS.intervalMin || +iv > LIMITS.intervalMax) {
      errs.push(["interval", "The sync interval must be between 1 s and 86400 s (24 h)."]);
    }
    if (!wholeNumber(th)) {
      errs.push(["threshold", "Enter the response-time threshold as a whole number of milliseconds."]);
    } else if (+th < LIMITS.thresholdMin || +th > LIMITS.thresholdMax) {
      errs.push(["threshold", "The response-time threshold must be between 10 ms and 600000 ms (10 min)."]);
    }
    if (!wholeNumber(gs)) {
      errs.push(["groupSize", "Enter the group size as a whole number (0 = every chosen type each round)."]);
    } else if (+gs > c.types.length && +gs !== 0) {
      errs.push(["groupSize", "The group size cannot exceed the " + c.types.length + " chosen type" + (c.types.length === 1 ? "" : "s") + " (0 = all of them each round)."]);
    }
    c.interval_seconds = parseInt(iv, 10);
    c.threshold_seconds = parseInt(th, 10) / 1000;
    c.group_size = wholeNumber(gs) ? parseInt(gs, 10) : 0;
    return { config: c, errors: errs };
  }

  function save(ev) {
    ev.preventDefault();
    clearErrors();
    var r = readForm(), s = $("save-state");
    if (r.errors.length) {
      r.errors.forEach(function (e) { fieldError(e[0], e[1]); });
      s.textContent = "Not saved: correct the marked field" + (r.errors.length > 1 ? "s" : "") + ".";
      s.className = "save-state bad";
      var first = r.errors[0][0] === "types" ? document.querySelector("input[name=type]") : $(r.errors[0][0]);
      if (first) { first.focus(); }
      return;
    }
    if (needToken()) { return; }
    var btn = $("save");
    btn.disabled = true;
    s.textContent = "Saving…";
    s.className = "save-state";
    api("PUT", "/api/config", r.config).then(function (resp) {
      btn.disabled = false;
      if (resp.ok) {
        state.config = resp.data;
        fillForm(resp.data);
        s.textContent = "Saved at " + fmtTime(new Date().toISOString()) + ".";
        s.className = "save-state ok";
        refresh();
        return;
      }
      if (handleAuthFailure(resp)) { s.textContent = "Not saved."; s.className = "save-state bad"; return; }
      var msg = resp.data && resp.data.error ? resp.data.error : "error " + resp.status;
      if (resp.status === 0) {
        s.textContent = "Not saved: the daemon does not answer.";
      } else if (resp.data && resp.data.field && fieldError(resp.data.field, msg)) {
        s.textContent = "Not saved: the daemon refused a value.";
      } else {
        s.textContent = "Not saved: " + msg;
      }
      s.className = "save-state bad";
    });
  }

  // ---- status -------------------------------------------------------------

  function renderStatus(st) {
    state.status = st;
    var backup = st.active === "backup";
    renderReachability();

    var act = $("st-active");
    act.textContent = "";
    act.appendChild(el("span", { className: "badge " + (backup ? "badge-warn" : "badge-ok"), text: backup ? "Backup" : "Primary" }));
    act.appendChild(el("span", { className: "sub", text: "chip " + st.active_chip + (st.image_version ? " · version " + st.image_version : "") }));

    $("st-generation").textContent = String(st.generation);
    setTimeCell($("st-last"), st.last_sync, "never");
    if (st.upgrade) {
      var nx = $("st-next");
      nx.textContent = "paused";
      nx.appendChild(el("span", { className: "sub", text: "until the upgrade choice" }));
    } else {
      setTimeCell($("st-next"), st.next_sync, "not scheduled", true);
      if (st.next_group && st.next_group.length && st.next_group.length < st.types.filter(function (t) { return t.selected; }).length) {
        $("st-next").appendChild(el("span", { className: "sub", text: "group: " + st.next_group.join(", ") }));
      }
    }

    var hl = $("st-health"), h = st.backup_health || "unknown";
    hl.textContent = "";
    hl.appendChild(el("span", { className: "badge " + ({ "ok": "badge-ok", "damaged": "badge-warn", "unrepairable": "badge-bad" }[h] || "badge-muted"),
      text: ({ "ok": "OK", "damaged": "Damaged", "unrepairable": "Unrepairable", "unknown": "Not scrubbed yet" }[h] || h) }));
    hl.appendChild(el("span", { className: "sub", text: (st.damaged_chunks ? st.damaged_chunks + " damaged chunk(s) · " : "") +
      (st.last_scrub ? "scrubbed " + new Date(st.last_scrub).toLocaleString([], { hour12: false }) : "no complete scrub since the start") }));

    // The chips-gone alarm (no round or write runs) comes before the last
    // round's error.
    var errBox = $("st-error");
    var alarms = (st.chips_gone || []).map(function (g) { return "Alarm: " + g.detail + "."; });
    if (st.last_error) { alarms.push("Last error: " + st.last_error); }
    errBox.hidden = alarms.length === 0;
    errBox.textContent = alarms.join(" ");

    var tb = $("st-types");
    tb.textContent = "";
    st.types.forEach(function (t) {
      tb.appendChild(el("tr", { "data-type": t.name }, [
        el("td", { text: typeTitle(t.name) }),
        el("td", {}, [el("span", { className: "badge " + stateClass(t.state), text: stateLabel(t.state), title: t.reason || "" })]),
        el("td", { className: "num", text: t.size ? fmtBytes(t.size) : "–" }),
        el("td", { className: "digest", text: t.digest ? t.digest.slice(0, 8) : "–", title: t.digest || "" })
      ]));
      var chip = $("opt-state-" + t.name);
      if (chip) { chip.textContent = stateLabel(t.state); chip.className = "badge " + stateClass(t.state); }
    });

    var c = st.counters, dl = $("st-counters");
    dl.textContent = "";
    [["Rounds", c.rounds], ["Failures", c.failures], ["Failovers", c.failovers], ["Purges", c.purges], ["Written", fmtBytes(c.bytes_written)]].forEach(function (p) {
      dl.appendChild(el("div", {}, [el("dt", { text: p[0] }), el("dd", { text: String(p[1]) })]));
    });
    $("st-chips").textContent = (st.chips || []).map(function (ch) { return ch.role + ": " + ch.name + " (" + ch.geometry + ")"; }).join(" · ");

    $("simulate-upgrade").hidden = !st.can_simulate_upgrade || !!st.upgrade;
    var up = $("upgrade-panel");
    up.hidden = !st.upgrade;
    if (st.upgrade) {
      var from = st.upgrade.from_version, to = st.upgrade.to_version;
      $("upgrade-text").textContent = "The primary image was upgraded" + (from || to ? " (" + (from || "?") + " → " + (to || "?") + ")" : "") +
        ". Scheduled syncing waits for your choice: what should happen to the synced information?";
    }
    updateActions();
    expireNotices(st);
    if (state.current) { explain(state.current); }
  }

  // renderReachability shows whether the daemon answers: the header badge
  // and the status card go grey, with the time it last answered, as soon
  // as a poll cannot reach it.
  function renderReachability() {
    var badge = $("active-badge"), st = state.status, off = $("st-offline");
    document.body.classList.toggle("offline", !state.online);
    $("status-card").classList.toggle("stale", !state.online);
    if (!state.online) {
      badge.textContent = "Offline";
      badge.className = "badge badge-muted";
      off.hidden = false;
      off.textContent = "Offline: the daemon does not answer" +
        (state.lastReached ? " (last answer at " + fmtTime(state.lastReached.toISOString()) + "); the values below are from then." : ".");
    } else {
      off.hidden = true;
      if (st) {
        var backup = st.active === "backup";
        badge.textContent = backup ? "Backup image" : "Primary image";
        badge.className = "badge " + (backup ? "badge-warn" : "badge-ok");
      }
    }
    updateActions();
  }

  // updateActions disables each action the daemon would refuse now, and
  // says why next to it, instead of letting it fail (409, or no answer).
  function updateActions() {
    var st = state.status, why = "";
    if (!state.online) { why = "The daemon does not answer: actions wait until it is back."; }
    else if (st && st.upgrade) { why = "Sync is paused: choose what happens after the image upgrade first (above)."; }
    var sync = $("sync-now"), sim = $("simulate-upgrade"), reason = $("action-reason");
    sync.disabled = !!why || state.syncing;
    sim.disabled = !state.online;
    reason.textContent = why;
    reason.hidden = !why;
    if (why) { sync.setAttribute("title", why); } else { sync.removeAttribute("title"); }
    [$("upgrade-keep"), $("upgrade-defaults")].forEach(function (b) { b.disabled = !state.online || !(st && st.upgrade); });
  }

  function setTimeCell(cell, t, none, due) {
    cell.textContent = "";
    if (!isSet(t)) { cell.appendChild(el("span", { className: "muted", text: none })); return; }
    cell.appendChild(document.createTextNode(fmtRelative(t, due)));
    cell.appendChild(el("span", { className: "sub", text: new Date(t).toLocaleString([], { hour12: false }) }));
  }

  function renderEvents(evs) {
    var tb = $("events");
    tb.textContent = "";
    if (!evs.length) {
      tb.appendChild(el("tr", {}, [el("td", { colspan: "4", className: "muted", text: "No events yet." })]));
      return;
    }
    evs.forEach(function (e) {
      tb.appendChild(el("tr", { "data-kind": e.kind }, [
        el("td", { text: fmtTime(e.time), title: new Date(e.time).toLocaleString([], { hour12: false }) }),
        el("td", {}, [el("span", { className: "badge kind " + kindClass(e.kind), text: e.kind })]),
        el("td", { className: "num", text: e.generation ? String(e.generation) : "" }),
        el("td", { text: e.detail })
      ]));
    });
  }

  function kindClass(k) {
    if (k === "anomaly" || k === "interrupt" || k === "failover") { return "badge-bad"; }
    if (k === "purge" || k === "reinit" || k === "recovery") { return "badge-warn"; }
    if (k === "commit" || k === "purge-verified") { return "badge-ok"; }
    return "badge-info";
  }

  // ---- chart: inline SVG ----------------------------------------------------

  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function niceMax(v) {
    if (v <= 0) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  function renderChart(rounds) {
    var box = $("chart");
    var W = 560, H = 220, L = 52, R = 58, T = 12, B = 26, pw = W - L - R, ph = H - T - B;
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-title chart-desc" });
    root.appendChild(svg("title", { id: "chart-title" }, "Recent sync rounds"));
    var desc = svg("desc", { id: "chart-desc" });
    root.appendChild(desc);
    root.appendChild(svg("line", { x1: L, y1: T + ph, x2: L + pw, y2: T + ph, "class": "axis" }));
    if (!rounds.length) {
      desc.textContent = "No rounds yet.";
      root.appendChild(svg("text", { x: L + pw / 2, y: T + ph / 2, "text-anchor": "middle", "class": "empty" }, "No rounds yet: the chart fills as rounds run."));
      box.textContent = "";
      box.appendChild(root);
      $("chart-summary").textContent = "";
      return;
    }
    var durMs = rounds.map(function (r) { return r.duration_seconds * 1000; });
    var bytes = rounds.map(function (r) { return r.bytes_written; });
    var dMax = niceMax(Math.max.apply(null, durMs)), bMax = niceMax(Math.max.apply(null, bytes));
    for (var i = 0; i <= 4; i++) {
      var y = T + ph - ph * i / 4;
      if (i > 0) { root.appendChild(svg("line", { x1: L, y1: y, x2: L + pw, y2: y, "class": "grid-line" })); }
      root.appendChild(svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" }, fmtMs(dMax * i / 4)));
      root.appendChild(svg("text", { x: L + pw + 6, y: y + 4, "text-anchor": "start" }, fmtBytes(Math.round(bMax * i / 4))));
    }
    var n = rounds.length, slot = pw / Math.max(n, 10), bw = Math.max(2, slot * 0.62), pts = [];
    rounds.forEach(function (r, i) {
      var x = L + slot * i + (slot - bw) / 2, h = ph * durMs[i] / dMax;
      var bar = svg("rect", { x: x.toFixed(1), y: (T + ph - h).toFixed(1), width: bw.toFixed(1), height: Math.max(h, 0.5).toFixed(1),
        "class": "bar" + (r.error || r.outcome === "interrupted" || r.outcome === "failover" ? " bad" : "") });
      bar.appendChild(svg("title", {}, "Generation " + r.generation + " · " + r.outcome + " · " + fmtMs(durMs[i]) + " · " + fmtBytes(bytes[i]) + " written"));
      root.appendChild(bar);
      pts.push([(x + bw / 2).toFixed(1), (T + ph - ph * bytes[i] / bMax).toFixed(1)]);
    });
    root.appendChild(svg("polyline", { points: pts.map(function (p) { return p.join(","); }).join(" "), "class": "line" }));
    pts.forEach(function (p) { root.appendChild(svg("circle", { cx: p[0], cy: p[1], r: 2.5, "class": "dot" })); });
    root.appendChild(svg("text", { x: L, y: H - 6, "text-anchor": "start" }, "oldest"));
    root.appendChild(svg("text", { x: L + pw, y: H - 6, "text-anchor": "end" }, "newest"));
    var last = rounds[n - 1];
    desc.textContent = n + " rounds; the last took " + fmtMs(durMs[n - 1]) + " and wrote " + fmtBytes(last.bytes_written) + ".";
    box.textContent = "";
    box.appendChild(root);
    var sorted = durMs.slice().sort(function (a, b) { return a - b; });
    var total = bytes.reduce(function (a, b) { return a + b; }, 0);
    $("chart-summary").textContent = n + " rounds · median " + fmtMs(sorted[Math.floor(n / 2)]) + " · " + fmtBytes(total) + " written";
  }

  function fmtMs(ms) { return fmtSeconds(ms / 1000); }

  // ---- actions ------------------------------------------------------------------

  function actionError(what, r) {
    if (r.status === 0) { return what + ": the daemon does not answer."; }
    return what + ": " + (r.data && r.data.error || "error " + r.status);
  }

  function syncNow() {
    if (needToken()) { return; }
    var btn = $("sync-now");
    setNotice("action", "");
    state.syncing = true;
    updateActions();
    btn.textContent = "Syncing…";
    api("POST", "/api/sync", {}).then(function (r) {
      state.syncing = false;
      btn.textContent = "Sync now";
      updateActions();
      if (r.ok) {
        var d = r.data;
        setNotice("action", "Round " + d.outcome + ": generation " + d.generation + ", " + fmtBytes(d.bytes_written) + " written in " + fmtSeconds(d.duration_seconds) + ".", "ok");
      } else if (!handleAuthFailure(r)) {
        setNotice("action", actionError("Sync failed", r), "bad");
      }
      refresh();
    });
  }

  // "Restore preset defaults" replaces collected information: it asks
  // first, naming each type that is reset and what it holds now.
  function confirmRestore() {
    if (needToken()) { return; }
    var chosen = state.config ? state.config.types : [];
    var list = $("restore-types");
    list.textContent = "";
    chosen.forEach(function (name) {
      var ts = null;
      (state.status ? state.status.types : []).forEach(function (x) { if (x.name === name) { ts = x; } });
      list.appendChild(el("li", { "data-type": name }, [
        el("strong", { text: typeTitle(name) }),
        " — " + (ts && ts.size ? "what it holds now (" + fmtBytes(ts.size) + " on the backup) is replaced by the preset defaults" : "replaced by the preset defaults")
      ]));
    });
    var logs = chosen.filter(function (n) { return n === "event-log" || n === "fault-log"; }).map(typeTitle);
    $("restore-loss").textContent = logs.length
      ? "Every entry of the " + logs.join(" and the ") + " is lost, on the primary and, once synced, on the backup. This cannot be undone."
      : "The current contents are lost, on the primary and, once synced, on the backup. This cannot be undone.";
    var dlg = $("restore-confirm");
    dlg.returnValue = "";
    dlg.showModal();
    $("restore-cancel").focus();
  }

  function chooseUpgrade(choice) {
    if (needToken()) { return; }
    var buttons = [$("upgrade-keep"), $("upgrade-defaults")];
    buttons.forEach(function (b) { b.disabled = true; });
    setNotice("action", "");
    api("POST", "/api/upgrade", { choice: choice }).then(function (r) {
      updateActions();
      if (r.ok) {
        setNotice("action", choice === "keep-upgraded"
          ? "Kept the upgraded image's information: it is now the baseline synced to the backup."
          : "Restored the preset defaults: the backup is synced to match.", "ok");
        renderStatus(r.data);
        $("sync-now").focus();
      } else if (!handleAuthFailure(r)) {
        setNotice("action", actionError("Upgrade choice failed", r), "bad");
      }
      refresh();
    });
  }

  function simulateUpgrade() {
    if (needToken()) { return; }
    var btn = $("simulate-upgrade");
    btn.disabled = true;
    setNotice("action", "");
    api("POST", "/api/simulate/upgrade", {}).then(function (r) {
      updateActions();
      if (r.ok) {
        renderStatus(r.data);
        if (r.data.upgrade) { $("upgrade-keep").focus(); }
      } else if (!handleAuthFailure(r)) {
        setNotice("action", actionError("Simulated upgrade failed", r), "bad");
      }
      refresh();
    });
  }

  // ---- polling ------------------------------------------------------------------

  function setOnline(online) {
    if (online) { state.lastReached = new Date(); }
    if (online === state.online) { return; }
    state.online = online;
    setNotice("offline", online ? "" : "The daemon does not answer (stopped, or the network is down): the page retries every " + POLL_MS / 1000 + " s.", "bad");
    renderReachability();
  }

  function refresh() {
    return Promise.all([api("GET", "/api/status"), api("GET", "/api/events?limit=100"), api("GET", "/api/rounds"), api("GET", "/api/config")]).then(function (rs) {
      var reached = rs.filter(function (r) { return r.status !== 0; }).length > 0;
      setOnline(reached);
      if (rs.some(function (r) { return r.status === 401; })) { handleAuthFailure({ status: 401 }, true); }
      if (rs[0].ok) { renderStatus(rs[0].data); } else { expireNotices(null); }
      if (rs[1].ok) { renderEvents(rs[1].data); }
      if (rs[2].ok) { renderChart(rs[2].data); }
      if (rs[3].ok) {
        // Follow changes made elsewhere (another browser, a reinit after a
        // failover) unless the user is editing.
        if (!state.dirty && JSON.stringify(rs[3].data) !== JSON.stringify(state.config)) { fillForm(rs[3].data); }
        state.config = rs[3].data;
      }
      document.body.setAttribute("data-loaded", "true");
    });
  }

  // load fetches the types and the configuration once (again after a
  // failure, or after the token arrives on a server that needs it for
  // reads), then polls.
  var loading = null;
  function load() {
    if (state.types.length) { return refresh(); }
    if (loading) { return loading; }
    loading = api("GET", "/api/types").then(function (r) {
      if (r.status !== 0) { setOnline(true); }
      if (!r.ok) {
        if (r.status === 0) { setOnline(false); }
        else if (!handleAuthFailure(r)) { setNotice("load", "Cannot load the information types: " + (r.data && r.data.error), "bad"); }
        return;
      }
      setNotice("load", "");
      state.types = r.data;
      renderOptions();
      return api("GET", "/api/config").then(function (c) {
        if (c.ok) { state.config = c.data; fillForm(c.data); }
        return refresh();
      });
    }).then(function () { loading = null; });
    return loading;
  }

  function start() {
    initToken();
    renderNotices();
    Promise.all([load(), checkToken()]);
    $("config-form").addEventListener("submit", save);
    ["interval", "threshold", "groupSize", "verify", "retryAtOnce"].forEach(function (id) { $(id).addEventListener("input", markDirty); });
    $("revert").addEventListener("click", function () { if (state.config) { fillForm(state.config); $("save-state").textContent = ""; } });
    $("select-all").addEventListener("click", function () { setAll(true); });
    $("select-none").addEventListener("click", function () { setAll(false); });
    $("sync-now").addEventListener("click", syncNow);
    $("simulate-upgrade").addEventListener("click", simulateUpgrade);
    $("upgrade-keep").addEventListener("click", function () { chooseUpgrade("keep-upgraded"); });
    $("upgrade-defaults").addEventListener("click", confirmRestore);
    $("restore-cancel").addEventListener("click", function () { $("restore-confirm").close("cancel"); });
    $("restore-go").addEventListener("click", function () { $("restore-confirm").close("confirm"); });
    $("restore-confirm").addEventListener("close", function () {
      if ($("restore-confirm").returnValue === "confirm") { chooseUpgrade("restore-defaults"); }
      else { $("upgrade-defaults").focus(); }
    });
    setInterval(function () { if (!document.hidden) { load(); } }, POLL_MS);
  }

  function setAll(on) {
    Array.prototype.forEach.call(document.querySelectorAll("input[name=type]"), function (b) { b.checked = on; });
    markDirty();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
