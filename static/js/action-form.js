// The action form: hide times for all-day actions and show only the recurrence controls that apply.
(function () {
  "use strict";
  const form = document.querySelector(".action-form");
  if (!form) return;

  const allDay = form.querySelector("#id_all_day");
  const repeat = form.querySelector("#id_repeat");

  function toggle(selector, visible) {
    form.querySelectorAll(selector).forEach((element) => element.classList.toggle("is-hidden", !visible));
  }

  function refresh() {
    toggle(".time-only", !allDay.checked);
    if (!repeat) return;
    const frequency = repeat.value;
    toggle(".rec-simple", frequency !== "" && frequency !== "CUSTOM");
    toggle(".rec-weekly", frequency === "WEEKLY");
    toggle(".rec-custom", frequency === "CUSTOM");
    const ends = form.querySelector("input[name=ends]:checked");
    const endsWith = ends ? ends.value : "never";
    toggle("[data-field=until]", frequency !== "" && frequency !== "CUSTOM" && endsWith === "until");
    toggle("[data-field=count]", frequency !== "" && frequency !== "CUSTOM" && endsWith === "count");
  }

  // Keep the end after the start when the start moves, as calendar apps do.
  const startDate = form.querySelector("#id_start_date");
  const endDate = form.querySelector("#id_end_date");
  let previousStart = startDate.value;
  startDate.addEventListener("change", () => {
    if (previousStart && endDate.value && startDate.value) {
      const shift = Date.parse(startDate.value) - Date.parse(previousStart);
      endDate.value = new Date(Date.parse(endDate.value) + shift).toISOString().slice(0, 10);
    }
    previousStart = startDate.value;
  });

  form.addEventListener("change", refresh);
  refresh();

  // Availability: who is busy at the time typed, said before saving (a warning, never a refusal), and
  // "Find a time" for the owner and the participants. The server reads the form's own fields and zone.
  const overlaps = form.querySelector("[data-overlaps]");
  const found = form.querySelector("[data-found-times]");
  const findButton = form.querySelector("[data-find-time]");

  function whenQuery() {
    const params = new URLSearchParams();
    ["start_date", "start_time", "end_date", "end_time", "time_zone"].forEach((name) => {
      const field = form.elements[name];
      if (field && field.value) params.set(name, field.value);
    });
    if (allDay.checked) params.set("all_day", "on");
    const participants = form.elements["participants"];
    if (participants) Array.from(participants.selectedOptions).forEach((option) => params.append("participants", option.value));
    if (form.dataset.owner) params.set("owner", form.dataset.owner);
    if (form.dataset.action) params.set("action", form.dataset.action);
    return params;
  }

  function getJson(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then((response) => response.json().then((data) => ({ok: response.ok, data: data})));
  }

  function show(element, title, lines) {
    element.replaceChildren();
    if (!lines.length) return;
    const heading = document.createElement("strong");
    heading.textContent = title;
    const list = document.createElement("ul");
    lines.forEach((line) => {
      const item = document.createElement("li");
      item.textContent = line;
      list.append(item);
    });
    element.append(heading, list);
  }

  // Only the latest question's answer is shown; while a calendar is still being asked, ask again a few times.
  let timer = null;
  let asked = 0;
  let again = 0;
  function checkOverlaps(retry) {
    clearTimeout(timer);
    again = retry === true ? again + 1 : 0;
    timer = setTimeout(() => {
      const question = ++asked;
      if (!startDate.value) { show(overlaps, "", []); return; }
      getJson(form.dataset.overlapsUrl + "?" + whenQuery()).then(({ok, data}) => {
        if (question !== asked) return;
        show(overlaps, "This time overlaps:", ok ? data.warnings : []);
        if (ok && data.pending && again < 5) checkOverlaps(true);
      }).catch(() => { if (question === asked) show(overlaps, "", []); });
    }, retry === true ? 3000 : 250);
  }
  ["start_date", "start_time", "end_date", "end_time", "time_zone", "participants", "all_day"].forEach((name) => {
    const field = form.elements[name];
    if (field) field.addEventListener("change", () => checkOverlaps());
  });
  checkOverlaps();

  if (findButton) findButton.addEventListener("click", () => {
    found.replaceChildren(document.createTextNode("Looking for a time…"));
    getJson(form.dataset.slotsUrl + "?" + whenQuery()).then(({ok, data}) => {
      found.replaceChildren();
      if (!ok) { found.textContent = data.error; return; }
      if (!data.slots.length) found.textContent = "No free time in the next two weeks.";
      else {
        const heading = document.createElement("small");
        heading.className = "muted";
        heading.textContent = "Free in the next two weeks, within everyone's working hours (a dashed one suits not everyone):";
        found.append(heading);
      }
      data.slots.forEach((slot) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "button" + (slot.suits_everyone ? "" : " partial");
        button.textContent = slot.label + (slot.note ? " (" + slot.note + ")" : "");
        button.addEventListener("click", () => {
          startDate.value = slot.start_date;
          previousStart = slot.start_date;
          endDate.value = slot.end_date;
          form.elements["start_time"].value = slot.start_time;
          form.elements["end_time"].value = slot.end_time;
          found.replaceChildren();
          checkOverlaps();
        });
        found.append(button);
      });
      if (data.unknown.length) {
        const note = document.createElement("small");
        note.className = "muted";
        note.textContent = "Not known yet: " + data.unknown.join("; ");
        found.append(note);
      }
    }).catch(() => { found.textContent = "The times could not be looked for; try again."; });
  });
})();
