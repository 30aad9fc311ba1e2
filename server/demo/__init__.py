"""The demo organisation: a data file, the photos it shows, and the builder that tells its story.

`organisation.json` is the organisation and its story as plain data; `builder.build()`
creates what is missing of it through the services people use; `scenes` paints the
photo evidence.
"""

from .builder import build, demo_id, organisation_file

__all__ = ["build", "demo_id", "organisation_file"]
