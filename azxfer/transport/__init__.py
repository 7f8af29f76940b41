"""HTTP for every service: the connection pool and its connections, TLS, proxies, request
heads and dates, the retry loop, and the storage SDK's transport and retry policy.

It knows no service: drivers (`azxfer.endpoints`) address, sign and classify their requests,
and send them through here.
"""
