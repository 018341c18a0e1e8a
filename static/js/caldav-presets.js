// The CalDAV form shows what the chosen provider needs: its address (or that yours is asked), and where
// it makes app passwords. Without this script every provider's line shows.
const form = document.getElementById("add-caldav");
if (form) {
  const list = form.querySelector(".presets");
  const choice = form.querySelector("[name=preset]");
  const address = form.querySelector("[name=server_url]");
  const show = () => {
    for (const line of list.children) {
      const chosen = line.dataset.preset === choice.value;
      line.classList.toggle("chosen", chosen);
      if (chosen) address.placeholder = line.dataset.url || line.dataset.address;
    }
  };
  list.classList.add("chosen-only");
  choice.addEventListener("change", show);
  show();
}
