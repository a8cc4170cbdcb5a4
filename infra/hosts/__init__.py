"""Hosts: where the app's values are written (Vercel, Cloudflare Workers)."""
