"""API clients: every request bounded, every answer checked before it is believed.

`http` makes one exchange with a total deadline and a body cap and never
follows a redirect; every request to an API or a webhook endpoint goes
through it, including stripe-python's (`stripe_transport`) and Cloudflare's
SDK's (`httpx_transport`). `errors` turns what went wrong into one safe
sentence (provider text only after anything token-shaped is removed);
`paging` walks a cursor-paged list with a page cap and a repeated-cursor
check; `shapes` checks a decoded answer's types; `stripe_api` reads a Stripe
account on top of all of them.
"""
