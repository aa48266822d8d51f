"""The internal dashboard: server-rendered pages for people, a pure client of the gateway's public API."""
