// Minimal service worker so the dashboard can be installed as an app; it caches nothing (live data only).
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
