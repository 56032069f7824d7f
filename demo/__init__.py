"""The demo district: a believable Songjiang with its agencies' source systems (paged API data, SQLite source
databases, fill-in sheets — some clean, some broken), generated deterministically from the catalog."""

# The demo API's bearer token. Not a secret: it only guards synthetic data on 127.0.0.1.
DEMO_API_TOKEN = "songjiang-demo-2016"
DEMO_API_TOKEN_SECRET = "demo_api_token"  # the name catalog entries use in delivery.api.token_secret
