// The console's few behaviours; pages work without it.

// Confirm destructive actions (revoke, disconnect).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Live listings: an element with data-live="<url>" refreshes its rows from
// the server every few seconds while the page is visible.
const LIVE_INTERVAL_MS = 2000;

for (const live of document.querySelectorAll("[data-live]")) {
  const url = live.dataset.live;
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const res = await fetch(url, { headers: { "X-Console-Fragment": "rows" }, credentials: "same-origin" });
      if (res.ok) {
        const html = await res.text();
        if (html !== live.dataset.rendered) {
          live.dataset.rendered = html;
          // Server-rendered by html/template: escaped, from this origin.
          live.innerHTML = html;
        }
        live.classList.remove("stale");
      } else {
        live.classList.add("stale");
      }
    } catch {
      live.classList.add("stale");
    } finally {
      busy = false;
    }
  }, LIVE_INTERVAL_MS);
}
