"""One router per resource: items (the catalog), live (WebRTC offers), photos (photo try-on), media (share
links), health, and the offline API docs."""
