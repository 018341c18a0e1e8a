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
})();
