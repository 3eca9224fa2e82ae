"""Pure-Python domain logic of the contacts plugin.

Nothing in this package imports Pyramid, SQLAlchemy or ``kyklos``: the modules take and
return plain values so they can be unit-tested (and reused) without an application.

- :mod:`.taxids` - tax / company / personal ID validation (python-stdnum)
- :mod:`.phones` - phone number normalisation (phonenumbers)
- :mod:`.translit` - accent/script-insensitive matching keys for duplicate detection
- :mod:`.occasions` - birthdays, anniversaries and name days (el / ro / pl calendars)
- :mod:`.vcard` - tolerant vCard 2.1 / 3.0 / 4.0 import and 3.0 / 4.0 export
"""
