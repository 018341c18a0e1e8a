// An account's calendars are being read by a worker: show them as soon as they are there.
setTimeout(() => window.location.reload(), 2000);
