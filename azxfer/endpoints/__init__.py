"""One driver per service behind the small contract in `base`.

Every driver speaks HTTP through aiohttp, imported first here (see `http`).
"""

from azxfer.endpoints.http import import_aiohttp

import_aiohttp()
