// overheard workbench: progressive enhancement only — every page works without this file.
(function () {
  "use strict";
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  // HTMX: send the CSRF token as a header too; show refusals (4xx/5xx) instead of ignoring them.
  document.addEventListener("htmx:configRequest", function (ev) {
    var t = csrfToken();
    if (t) ev.detail.headers["X-CSRF-Token"] = t;
  });
  document.addEventListener("htmx:responseError", function (ev) {
    var area = document.getElementById("flash-area");
    if (!area) return;
    var msg = "Request failed (" + ev.detail.xhr.status + ").";
    try {
      var doc = new DOMParser().parseFromString(ev.detail.xhr.responseText, "text/html");
      var el = doc.querySelector(".error-message");
      if (el) msg = el.textContent + " (" + ev.detail.xhr.status + ")";
    } catch (e) { /* keep the generic message */ }
    area.innerHTML = "";
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = msg;
    area.appendChild(p);
  });

  // Span selection in the transcript → the "add a finding" form.
  function offsetIn(container, node, offset) {
    var r = document.createRange();
    r.selectNodeContents(container);
    r.setEnd(node, offset);
    return r.toString().length;
  }
  function onSelect() {
    var box = document.getElementById("transcript-text");
    var sel = window.getSelection();
    if (!box || !sel || sel.rangeCount === 0 || sel.isCollapsed) return;
    var range = sel.getRangeAt(0);
    if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
    var start = offsetIn(box, range.startContainer, range.startOffset);
    var end = offsetIn(box, range.endContainer, range.endOffset);
    var text = box.textContent.slice(start, end);
    // trim whitespace at the edges of the selection
    while (start < end && /\s/.test(box.textContent[start])) start++;
    while (end > start && /\s/.test(box.textContent[end - 1])) end--;
    if (end <= start) return;
    text = box.textContent.slice(start, end);
    var s = document.getElementById("span_start"), e = document.getElementById("span_end"),
        ev = document.getElementById("evidence");
    if (!s || !e || !ev) return;
    s.value = start; e.value = end; ev.value = text;
  }
  document.addEventListener("mouseup", onSelect);
  document.addEventListener("keyup", function (ev) { if (ev.shiftKey) onSelect(); });
  document.addEventListener("input", function (ev) {
    if (ev.target && ev.target.id === "evidence") {   // typed by hand: let the server find it
      var s = document.getElementById("span_start"), e = document.getElementById("span_end");
      if (s) s.value = ""; if (e) e.value = "";
    }
  });

  // Waveform player (wavesurfer.js over the page's own <audio> element).
  function initPlayer() {
    var box = document.getElementById("player");
    var audio = document.getElementById("audio");
    if (!box || !audio) return;
    var head = document.getElementById("playhead");
    audio.addEventListener("timeupdate", function () {
      if (head) head.textContent = audio.currentTime.toFixed(2);
    });
    if (!window.WaveSurfer) return;
    var ws = window.WaveSurfer.create({
      container: "#waveform", media: audio, height: 72, waveColor: "#8aa4c8",
      progressColor: "#1d3f72", cursorColor: "#c0392b", normalize: true,
    });
    window.overheardPlayer = ws;
    var btn = document.getElementById("play");
    if (btn) {
      btn.hidden = false;
      btn.addEventListener("click", function () { ws.playPause(); });
      ws.on("play", function () { btn.textContent = "Pause"; });
      ws.on("pause", function () { btn.textContent = "Play"; });
      ws.on("finish", function () { btn.textContent = "Play"; });
    }
    ws.on("ready", function (duration) {
      box.classList.add("ready");
      // a widened clip: mark where the transmission itself lies in it
      var pad = parseFloat(box.getAttribute("data-pad") || "0");
      var start = parseFloat(box.getAttribute("data-start")), end = parseFloat(box.getAttribute("data-end"));
      if (pad > 0 && duration > 0 && !isNaN(start) && !isNaN(end)) {
        var from = Math.min(pad, start), len = end - start;
        var mark = document.createElement("div");
        mark.className = "tx-mark";
        mark.id = "tx-mark";
        mark.title = "this transmission";
        mark.style.left = (100 * from / duration).toFixed(2) + "%";
        mark.style.width = (100 * Math.min(len, duration - from) / duration).toFixed(2) + "%";
        document.getElementById("waveform").appendChild(mark);
      }
    });
    ws.on("error", function (e) { box.classList.add("ws-error"); box.setAttribute("data-error", String(e)); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initPlayer);
  else initPlayer();
  // Review queue: single keys (not while typing in a field).
  document.addEventListener("keydown", function (ev) {
    if (!document.getElementById("review-item")) return;
    var t = ev.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    function go(id) { var a = document.getElementById(id); if (a) { ev.preventDefault(); window.location.href = a.href; } }
    function submit(id) { var f = document.getElementById(id); if (f) { ev.preventDefault(); f.submit(); } }
    switch (ev.key) {
      case "c": submit("confirm-form"); break;
      case "r": submit("reject-form"); break;
      case "j": case "ArrowRight": go("review-next"); break;
      case "k": case "ArrowLeft": go("review-prev"); break;
      case "w": go("review-widen"); break;
      case " ":
        var audio = document.getElementById("review-audio");
        if (audio) { ev.preventDefault(); if (audio.paused) { audio.play(); } else { audio.pause(); } }
        break;
    }
  });
})();
