// An account's calendars are being read by a worker: show them as soon as they are there (unless the user
// is typing in a form meanwhile).
setTimeout(function again() {
  const typing = document.activeElement && document.activeElement.closest("form");
  if (typing) setTimeout(again, 2000); else window.location.reload();
}, 2000);
