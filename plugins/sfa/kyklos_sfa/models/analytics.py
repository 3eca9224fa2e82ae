"""The win-probability model the retraining job stores (one row per training; the
latest is the one in use)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Integer
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, IdMixin, JSONType, UTCDateTime


class WinModel(IdMixin, Base):
    __tablename__ = "sfa_win_model"

    trained_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    #: stage visits learnt from, and the closed deals they belong to
    samples: Mapped[int] = mapped_column(Integer, nullable=False)
    deals: Mapped[int] = mapped_column(Integer, nullable=False)
    base_rate: Mapped[float] = mapped_column(Float, nullable=False)
    #: {"features": [...], "weights": [...], "bias": b, "means": [...],
    #:  "rep_rates": {owner id: rate}, "calibration": [...], "brier": x}
    params: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
