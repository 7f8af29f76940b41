"""One driver per service behind the small contract in `base`.

Blob storage's hot requests go through azxfer's own pool (`transport.pool`); aiohttp is imported
(see `http.import_aiohttp`) only by the parts that need it: the storage SDK and web sources.
"""
