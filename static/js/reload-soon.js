// A worker is reading something this page waits for (an account's calendars, colleagues' free/busy): show it
// as soon as it is there, unless the user is typing in a form meanwhile. Ten looks a minute at most: with no
// worker running the page says what it waits for, and stops reloading.
(function () {
  "use strict";
  const key = "reload-soon:" + window.location.pathname + window.location.search;
  const seen = JSON.parse(window.sessionStorage.getItem(key) || '{"count": 0, "at": 0}');
  if (Date.now() - seen.at > 60 * 1000) seen.count = 0;
  if (seen.count >= 10) return;
  setTimeout(function again() {
    const typing = document.activeElement && document.activeElement.closest("form");
    if (typing) { setTimeout(again, 2000); return; }
    window.sessionStorage.setItem(key, JSON.stringify({count: seen.count + 1, at: Date.now()}));
    window.location.reload();
  }, 2000);
})();
