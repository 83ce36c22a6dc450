"""Settings: declared once each (`declared`), loaded from the defaults, ``opsweek.toml`` and
``OPSWEEK_*`` environment variables (`settings`), and handed to the code as one small typed
dataclass per area (`areas`)."""

from opsweek.config.declared import SETTINGS, TABLE_LISTS, Setting, TableList
from opsweek.config.settings import Settings, load_settings, mask_url

__all__ = [
    "SETTINGS",
    "TABLE_LISTS",
    "Setting",
    "Settings",
    "TableList",
    "load_settings",
    "mask_url",
]
