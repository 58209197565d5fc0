"""Tools to run the bot without a Slack workspace: a fake Web API, request signing, payloads.

Shipped in the package because the console uses them; the tests and bench/ use them too.
"""
