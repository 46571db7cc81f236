"""Customers, their TikTok accounts, tracker keys and tracker data, and the tracker gateway
(the endpoint's fast path for tracker reads and writes). Qt-free."""
