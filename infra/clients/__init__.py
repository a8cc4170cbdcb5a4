"""API clients: every request bounded, every answer checked before it is believed.

`http` makes one exchange with a total deadline and a body cap and never
follows a redirect; `errors` turns what went wrong into one safe sentence
(provider text only after anything token-shaped is removed); `paging` walks
a cursor-paged list with a page cap and a repeated-cursor check; `shapes`
checks a decoded answer's types; `stripe_api` and `stripe_transport` read a
Stripe account through stripe-python on top of all of them.
"""
