// The agenda: scroll to the working day, show "now", add by clicking a slot, move by dragging.
(function () {
  "use strict";
  const agenda = document.querySelector(".agenda");
  if (!agenda) return;

  const MINUTES_PER_DAY = 24 * 60;
  const SNAP = 15;

  const scroller = agenda.querySelector(".tg-scroll");
  if (scroller) {
    const hourHeight = scroller.querySelector(".tg-body").offsetHeight / 24;
    scroller.scrollTop = hourHeight * parseFloat(scroller.dataset.scrollTo || "7.5");
  }

  const nowLine = agenda.querySelector("[data-now]");
  function placeNow() {
    if (!nowLine) return;
    const now = new Date();
    const minutes = now.getHours() * 60 + now.getMinutes();
    nowLine.style.top = (minutes / MINUTES_PER_DAY * 100) + "%";
  }
  placeNow();
  setInterval(placeNow, 60 * 1000);

  function minutesAt(column, clientY) {
    const box = column.getBoundingClientRect();
    const minutes = (clientY - box.top) / box.height * MINUTES_PER_DAY;
    return Math.max(0, Math.min(MINUTES_PER_DAY - SNAP, Math.floor(minutes / SNAP) * SNAP));
  }

  function clock(minutes) {
    const pad = (n) => String(n).padStart(2, "0");
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  // Click an empty slot: a new appointment starting there (the agenda's times are the user's).
  if (agenda.dataset.canAdd) {
    agenda.querySelectorAll(".tg-col").forEach((column) => {
      column.addEventListener("click", (event) => {
        if (event.target !== column) return;
        const start = column.dataset.date + "T" + clock(Math.floor(minutesAt(column, event.clientY) / 30) * 30);
        window.location = agenda.dataset.newUrl + "?start=" + encodeURIComponent(start);
      });
    });
  }

  // Drag an appointment to another slot, day or all-day cell.
  let dragged = null;
  let grabOffset = 0;
  agenda.querySelectorAll("[draggable=true]").forEach((item) => {
    item.addEventListener("dragstart", (event) => {
      dragged = item;
      grabOffset = item.classList.contains("event") ? event.clientY - item.getBoundingClientRect().top : 0;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", item.dataset.pk);
      item.classList.add("dragging");
    });
    item.addEventListener("dragend", () => item.classList.remove("dragging"));
  });

  agenda.querySelectorAll(".tg-col, .tg-allday-cell, .month-day").forEach((target) => {
    target.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      target.classList.add("drop-target");
    });
    target.addEventListener("dragleave", () => target.classList.remove("drop-target"));
    target.addEventListener("drop", (event) => {
      event.preventDefault();
      target.classList.remove("drop-target");
      if (!dragged) return;
      const body = new URLSearchParams();
      if (target.classList.contains("tg-col")) {
        body.set("start", target.dataset.date + "T" + clock(minutesAt(target, event.clientY - grabOffset)));
      } else {
        body.set("date", target.dataset.date);
      }
      move(dragged.dataset.pk, body, dragged.dataset.occurrence);
      dragged = null;
    });
  });

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"},
    }).then((response) => response.json().then((data) => {
      if (!response.ok) throw new Error(data.error || "The appointment could not be moved.");
      return data;
    }));
  }

  // Ask first what the new time meets; say who is busy then, and move only if the user still wants to.
  function move(pk, body, occurrence) {
    const url = agenda.dataset.moveUrl.replace("/0/", "/" + pk + "/") +
      (occurrence ? "?occurrence=" + encodeURIComponent(occurrence) : "");
    const check = new URLSearchParams(body);
    check.set("check", "1");
    post(url, check).then((data) => {
      if (data.warnings.length && !window.confirm("This time overlaps:\n" + data.warnings.join("\n") + "\n\nMove it anyway?")) {
        return null;
      }
      return post(url, body).then(() => window.location.reload());
    }).catch((error) => window.alert(error.message));
  }
})();
